"""Tasks that change the execution itself: Exit ends it, Labels labels it.

Both are decided by the executor when the task run starts (no worker round trip): the task run
ends SUCCESS at once, and the execution record changes with it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import field_validator

from lanner.exceptions import LannerError
from lanner.executions import Label
from lanner.states import State
from lanner.tasks.base import FlowableTask, ResolvedTask
from lanner.tasks.registry import register

if TYPE_CHECKING:
    from lanner.flowable import FlowableRun

_EXIT_STATES: dict[str, State] = {
    "SUCCESS": State.SUCCESS,
    "WARNING": State.WARNING,
    "KILLED": State.KILLED,
    "FAILED": State.FAILED,
    "CANCELED": State.CANCELLED,
}


class _ExecutionUpdate(FlowableTask):
    """A task with no children, ended by the executor as soon as it starts."""

    def resolve_nexts(self, run: FlowableRun) -> list[ResolvedTask]:
        return []

    def resolve_state(self, run: FlowableRun) -> State | None:
        return State.SUCCESS


@register
class Exit(_ExecutionUpdate):
    """End the execution in `state`; unfinished task runs are killed, this one succeeds."""

    TYPE = "io.kestra.plugin.core.execution.Exit"

    state: str = "SUCCESS"

    @field_validator("state")
    @classmethod
    def _known_state(cls, value: str) -> str:
        if "{{" not in value and value not in _EXIT_STATES:
            raise ValueError(f"state must be one of {', '.join(_EXIT_STATES)}, got '{value}'")
        return value

    def exit_state(self, run: FlowableRun) -> State | None:
        text = run.render(self.state).strip()
        try:
            return _EXIT_STATES[text]
        except KeyError:
            raise LannerError(f"Invalid exit state '{text}'") from None


@register
class Labels(_ExecutionUpdate):
    """Merge `labels` (a map, or a list of {key, value}) into the execution's labels."""

    TYPE = "io.kestra.plugin.core.execution.Labels"

    labels: dict[str, Any] | list[dict[str, Any]] | str

    def execution_labels(self, run: FlowableRun) -> tuple[Label, ...] | None:
        return render_labels(self.labels, run.render, run.render_typed)


def render_labels(
    labels: Any, render_text: Callable[[str], str], render_typed: Callable[[str], Any]
) -> tuple[Label, ...]:
    """Render labels given as a map, a list of {key, value} or a template giving either.

    Labels named `system.*` are refused: only the engine sets them.
    """
    if isinstance(labels, str):
        labels = render_typed(labels)
    pairs: list[tuple[Any, Any]]
    if isinstance(labels, Mapping):
        pairs = list(labels.items())
    elif isinstance(labels, list):
        pairs = []
        for item in labels:
            if not isinstance(item, Mapping) or "key" not in item:
                raise LannerError("Each label must be a map with `key` and `value`")
            pairs.append((item["key"], item.get("value")))
    else:
        raise LannerError("Labels must be a map or a list of {key, value}")
    result = []
    for key, value in pairs:
        label = Label(_text(render_text, key), _text(render_text, value))
        if label.key.startswith("system."):
            raise LannerError(
                "System labels can only be set by Kestra itself, offending label: "
                f"{label.key}={label.value}"
            )
        result.append(label)
    return tuple(result)


def _text(render_text: Callable[[str], str], value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return render_text(value) if isinstance(value, str) else str(value)
