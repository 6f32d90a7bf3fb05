"""The Publish task: report counters, timers and gauges of the task run from a flow."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from lanner.exceptions import TaskError
from lanner.metrics import MetricType
from lanner.properties import YamlRecord, coerce_duration
from lanner.tasks.base import RunnableTask
from lanner.tasks.registry import register

if TYPE_CHECKING:
    from lanner.context import RunContext


class MetricSpec(YamlRecord):
    """One metric to publish; `value` may be a template (a duration for a timer)."""

    type: str
    name: str
    value: Any
    tags: dict[str, str] | None = None


@register
class Publish(RunnableTask):
    """Render each metric and report it; the task has no outputs."""

    TYPE = "io.kestra.plugin.core.metric.Publish"

    metrics: list[MetricSpec]

    async def run(self, ctx: RunContext) -> Mapping[str, Any] | None:
        for spec in self.metrics:
            kind = MetricType.parse(ctx.render(spec.type))
            name = ctx.render(spec.name)
            value = ctx.render_typed(spec.value)
            tags = {key: ctx.render(tag) for key, tag in (spec.tags or {}).items()}
            ctx.metric(name, _number(name, kind, value), type=kind.value, tags=tags)
        return None


def _number(name: str, kind: MetricType, value: Any) -> float:
    """Return a counter's or gauge's number, or a timer's seconds."""
    try:
        if kind is MetricType.TIMER:
            duration = coerce_duration(value)
            return duration.total_seconds()
        return float(value)
    except (TypeError, ValueError) as exc:
        expected = "a duration such as PT1M" if kind is MetricType.TIMER else "a number"
        raise TaskError(f"Metric '{name}' needs {expected}, got {value!r}") from exc
