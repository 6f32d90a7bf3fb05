"""Metrics a task run reports: counters and timers with tags, Kestra's `MetricEntry`.

A task reports a metric through `RunContext.metric()`; the worker hands the task run's metrics
to the runner with its result, and the runner stores them beside the logs. Timers are given in
seconds and kept, as Kestra keeps them, in milliseconds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from lanner.clock import format_instant, parse_instant
from lanner.exceptions import LannerError

__all__ = ["MetricEntry", "MetricType", "aggregate", "group_by", "metric_entry"]


class MetricType(StrEnum):
    """The kinds of metric Kestra knows."""

    COUNTER = "counter"
    TIMER = "timer"
    GAUGE = "gauge"

    @classmethod
    def parse(cls, text: str) -> MetricType:
        # A dict rather than `cls(...)`: every metric a task reports comes through here.
        found = _TYPES.get(text) or _TYPES.get(text.lower())
        if found is None:
            raise LannerError(
                f"Unknown metric type '{text}', expected one of: counter, timer, gauge"
            )
        return found


_TYPES = {metric_type.value: metric_type for metric_type in MetricType}


@dataclass(frozen=True, slots=True)
class MetricEntry:
    """One value of one metric of one task run."""

    namespace: str
    flow_id: str
    execution_id: str
    task_id: str
    task_run_id: str
    type: MetricType
    name: str
    value: float
    """The counter's value, or the timer's duration in milliseconds."""
    timestamp: datetime
    tags: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "namespace": self.namespace,
            "flowId": self.flow_id,
            "taskId": self.task_id,
            "executionId": self.execution_id,
            "taskRunId": self.task_run_id,
            "type": self.type.value,
            "name": self.name,
            "value": self.value,
            "timestamp": format_instant(self.timestamp),
            "tags": dict(self.tags),
            "deleted": False,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MetricEntry:
        return cls(
            namespace=data["namespace"],
            flow_id=data["flowId"],
            execution_id=data["executionId"],
            task_id=data["taskId"],
            task_run_id=data["taskRunId"],
            type=MetricType(data["type"]),
            name=data["name"],
            value=float(data["value"]),
            timestamp=parse_instant(data["timestamp"]),
            tags=dict(data.get("tags") or {}),
        )


def metric_entry(
    base: MetricEntry,
    name: str,
    value: float,
    kind: str,
    tags: Mapping[str, Any] | None,
    *,
    timestamp: datetime | None = None,
) -> MetricEntry:
    """Return `base` (the task run's identity) carrying one reported value, at `timestamp`
    when given, else at the base's.

    Raises LannerError for an empty name, an unknown type or a value that is not a finite
    number; tag values become text.
    """
    if not name:
        raise LannerError("A metric needs a name")
    metric_type = MetricType.parse(kind)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise LannerError(f"Metric '{name}' needs a finite number, got {value!r}")
    stored = float(value) * 1000.0 if metric_type is MetricType.TIMER else float(value)
    text_tags = {str(key): str(item) for key, item in (tags or {}).items()}
    return MetricEntry(
        namespace=base.namespace,
        flow_id=base.flow_id,
        execution_id=base.execution_id,
        task_id=base.task_id,
        task_run_id=base.task_run_id,
        type=metric_type,
        name=name,
        value=stored,
        timestamp=base.timestamp if timestamp is None else timestamp,
        tags=text_tags,
    )


def _avg(values: list[float]) -> float:
    return sum(values) / len(values)


_AGGREGATIONS: dict[str, Callable[[list[float]], float]] = {
    "sum": sum,
    "avg": _avg,
    "min": min,
    "max": max,
}


def group_by(start: datetime, end: datetime) -> str:
    """Return the bucket size Kestra uses for a time range: minute up to month."""
    span = end - start
    if span.days > 365:
        return "month"
    if span.days > 180:
        return "week"
    if span.days > 1:
        return "day"
    if span.total_seconds() // 3600 > 6:
        return "hour"
    return "minute"


def _bucket(moment: datetime, size: str) -> datetime:
    moment = moment.replace(second=0, microsecond=0)
    if size == "minute":
        return moment
    moment = moment.replace(minute=0)
    if size == "hour":
        return moment
    moment = moment.replace(hour=0)
    if size == "week":
        return moment - timedelta(days=moment.weekday())
    if size == "month":
        return moment.replace(day=1)
    return moment


def aggregate(
    entries: list[MetricEntry], how: str, start: datetime, end: datetime
) -> dict[str, Any]:
    """Aggregate a metric's values per time bucket, as Kestra's `MetricAggregations`.

    `how` is avg, sum, min or max; LannerError names the accepted ones otherwise.
    """
    combine = _AGGREGATIONS.get(how.lower())
    if combine is None:
        raise LannerError(f"Unknown aggregation '{how}', expected one of: avg, sum, min, max")
    size = group_by(start, end)
    buckets: dict[tuple[str, datetime], list[float]] = {}
    for entry in entries:
        key = (entry.name, _bucket(entry.timestamp, size))
        buckets.setdefault(key, []).append(entry.value)
    aggregations = [
        {"name": name, "value": combine(values), "date": format_instant(date)}
        for (name, date), values in sorted(buckets.items(), key=lambda item: item[0][1])
    ]
    return {"groupBy": size, "aggregations": aggregations}
