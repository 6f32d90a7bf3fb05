"""The Flow trigger: start an execution when executions of other flows change state.

The decision is pure and lives here: given the trigger, what it remembers (`TriggerState`),
an upstream execution and the time, say whether to fire, with which `trigger.*` variables, and
what to remember next. `lanner.flow_triggers` feeds it every execution that changes state and
does the starting.

`preconditions.flows` lists upstream flows that must all have matched within the time window
before the trigger fires; a flow matched earlier is remembered in the trigger state. Without
`flows`, every upstream execution that passes `states`, `where` and `conditions` fires.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import Field

from lanner.clock import format_instant, parse_instant
from lanner.executions import Execution
from lanner.expressions import Function, is_truthy_text, render
from lanner.properties import Duration, YamlRecord
from lanner.states import State
from lanner.store.triggers import TriggerState
from lanner.triggers.base import Trigger
from lanner.triggers.registry import register

__all__ = ["FlowTrigger", "Outcome", "upstream_variables"]

DEFAULT_STATES = (
    State.SUCCESS,
    State.WARNING,
    State.FAILED,
    State.KILLED,
    State.CANCELLED,
    State.SKIPPED,
    State.RETRIED,
    State.PAUSED,
)
"""The states a Flow trigger reacts to by default: every terminated one, and PAUSED."""


class UpstreamFlow(YamlRecord):
    """One upstream flow of `preconditions.flows`."""

    namespace: str
    flow_id: str
    states: list[State] | None = None
    labels: dict[str, str] | None = None

    @property
    def key(self) -> str:
        return f"{self.namespace}.{self.flow_id}"

    def matches(self, upstream: Mapping[str, Any]) -> bool:
        if (upstream["namespace"], upstream["flowId"]) != (self.namespace, self.flow_id):
            return False
        if self.states and State(upstream["state"]) not in self.states:
            return False
        carried = upstream.get("executionLabels") or {}
        return all(carried.get(key) == value for key, value in (self.labels or {}).items())


class FilterField(StrEnum):
    FLOW_ID = "FLOW_ID"
    NAMESPACE = "NAMESPACE"
    STATE = "STATE"
    EXPRESSION = "EXPRESSION"


class FilterType(StrEnum):
    EQUAL_TO = "EQUAL_TO"
    NOT_EQUAL_TO = "NOT_EQUAL_TO"
    IN = "IN"
    NOT_IN = "NOT_IN"
    STARTS_WITH = "STARTS_WITH"
    ENDS_WITH = "ENDS_WITH"
    CONTAINS = "CONTAINS"
    REGEX = "REGEX"
    IS_TRUE = "IS_TRUE"
    IS_FALSE = "IS_FALSE"
    IS_NULL = "IS_NULL"
    IS_NOT_NULL = "IS_NOT_NULL"


class Filter(YamlRecord):
    """One test on a field of the upstream execution (or on an expression's result)."""

    field: FilterField
    type: FilterType
    value: str | None = None
    values: list[str] | None = None

    def holds(
        self,
        upstream: Mapping[str, Any],
        variables: Mapping[str, Any],
        functions: Mapping[str, Function],
    ) -> bool:
        return _compare(self._subject(upstream, variables, functions), self)

    def _subject(
        self,
        upstream: Mapping[str, Any],
        variables: Mapping[str, Any],
        functions: Mapping[str, Function],
    ) -> str | None:
        if self.field is FilterField.FLOW_ID:
            return str(upstream["flowId"])
        if self.field is FilterField.NAMESPACE:
            return str(upstream["namespace"])
        if self.field is FilterField.STATE:
            return str(upstream["state"])
        return render(self.value or "", variables, functions)


def _compare(subject: str | None, test: Filter) -> bool:
    kind, value, values = test.type, test.value or "", test.values or []
    if test.field is FilterField.EXPRESSION:
        # The expression is the value itself: only the truth tests make sense.
        truthy = subject is not None and is_truthy_text(subject)
        return truthy if kind is not FilterType.IS_FALSE else not truthy
    checks = {
        FilterType.EQUAL_TO: lambda: subject == value,
        FilterType.NOT_EQUAL_TO: lambda: subject != value,
        FilterType.IN: lambda: subject in values,
        FilterType.NOT_IN: lambda: subject not in values,
        FilterType.STARTS_WITH: lambda: subject is not None and subject.startswith(value),
        FilterType.ENDS_WITH: lambda: subject is not None and subject.endswith(value),
        FilterType.CONTAINS: lambda: subject is not None and value in subject,
        FilterType.REGEX: lambda: subject is not None and re.fullmatch(value, subject) is not None,
        FilterType.IS_NULL: lambda: subject is None,
        FilterType.IS_NOT_NULL: lambda: subject is not None,
        FilterType.IS_TRUE: lambda: subject is not None and is_truthy_text(subject),
        FilterType.IS_FALSE: lambda: subject is None or not is_truthy_text(subject),
    }
    return checks[kind]()


class Operand(StrEnum):
    AND = "AND"
    OR = "OR"


class Where(YamlRecord):
    """A group of filters combined with `operand`."""

    id: str | None = None
    operand: Operand = Operand.AND
    filters: list[Filter]

    def holds(
        self,
        upstream: Mapping[str, Any],
        variables: Mapping[str, Any],
        functions: Mapping[str, Function],
    ) -> bool:
        results = (item.holds(upstream, variables, functions) for item in self.filters)
        return all(results) if self.operand is Operand.AND else any(results)


class WindowType(StrEnum):
    DURATION_WINDOW = "DURATION_WINDOW"
    SLIDING_WINDOW = "SLIDING_WINDOW"
    DAILY_TIME_WINDOW = "DAILY_TIME_WINDOW"
    DAILY_TIME_DEADLINE = "DAILY_TIME_DEADLINE"


class TimeWindow(YamlRecord):
    """The period within which every upstream flow must have matched (default: a day)."""

    type: WindowType = WindowType.DURATION_WINDOW
    window: Duration | None = None
    window_advance: Duration | None = None
    start_time: time | None = None
    end_time: time | None = None
    deadline: time | None = None

    def span(self, now: datetime) -> tuple[datetime, datetime] | None:
        """Return the window `now` falls in, or None when `now` is outside every window."""
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        length = self.window or timedelta(days=1)
        if self.type is WindowType.SLIDING_WINDOW:
            return now - length, now
        if self.type is WindowType.DAILY_TIME_DEADLINE:
            end = datetime.combine(midnight.date(), self.deadline or time.max, now.tzinfo)
            return (midnight, end) if now <= end else None
        if self.type is WindowType.DAILY_TIME_WINDOW:
            start = datetime.combine(midnight.date(), self.start_time or time.min, now.tzinfo)
            end = datetime.combine(midnight.date(), self.end_time or time.max, now.tzinfo)
            return (start, end) if start <= now <= end else None
        origin = midnight + (self.window_advance or timedelta(0))
        if origin > now:
            origin -= timedelta(days=1)
        periods = (now - origin) // length
        start = origin + periods * length
        return start, start + length


class Preconditions(YamlRecord):
    """What the upstream executions must be before the trigger fires."""

    id: str | None = None
    flows: list[UpstreamFlow] | None = None
    where: list[Where] | None = None
    time_window: TimeWindow = Field(default_factory=TimeWindow)
    reset_on_success: bool = True


@dataclass(frozen=True)
class Outcome:
    """What one upstream execution does to a trigger: fire or not, and what to remember."""

    fire: bool
    state: TriggerState
    outputs: Mapping[str, Any] | None = None


@register
class FlowTrigger(Trigger):
    """Start an execution of this flow when executions of other flows change state."""

    TYPE: ClassVar[str] = "io.kestra.plugin.core.trigger.Flow"

    states: list[State] | None = None
    preconditions: Preconditions | None = None

    def reacts_to(self, state: State) -> bool:
        return state in (self.states or DEFAULT_STATES)

    def evaluate(
        self,
        memory: TriggerState,
        upstream: Mapping[str, Any],
        variables: Mapping[str, Any],
        functions: Mapping[str, Function],
        now: datetime,
    ) -> Outcome:
        """Decide for one upstream execution; `variables` carry it as `trigger.*`.

        Rendering errors of conditions and filters raise ExpressionError.
        """
        if not self.reacts_to(State(upstream["state"])):
            return Outcome(False, memory)
        if not self.conditions_hold(variables, functions):
            return Outcome(False, memory)
        pre = self.preconditions
        if pre is None:
            return Outcome(True, memory, upstream.get("outputs"))
        if not all(group.holds(upstream, variables, functions) for group in pre.where or ()):
            return Outcome(False, memory)
        if not pre.flows:
            return Outcome(True, memory, upstream.get("outputs"))
        return _window_outcome(pre, memory, upstream, now)


def _window_outcome(
    pre: Preconditions, memory: TriggerState, upstream: Mapping[str, Any], now: datetime
) -> Outcome:
    span = pre.time_window.span(now)
    if span is None:
        return Outcome(False, memory)
    start, _ = span
    kept = {
        key: entry
        for key, entry in (memory.preconditions or {}).items()
        if parse_instant(entry["date"]) >= start
    }
    matched = [flow.key for flow in pre.flows or () if flow.matches(upstream)]
    if not matched:
        return Outcome(False, replace(memory, preconditions=kept or None))
    for key in matched:
        kept[key] = {"date": format_instant(now), "outputs": upstream.get("outputs") or {}}
    wanted = {flow.key for flow in pre.flows or ()}
    if not wanted <= kept.keys():
        return Outcome(False, replace(memory, preconditions=kept))
    outputs: dict[str, Any] = {}
    for key in sorted(wanted, key=lambda k: kept[k]["date"]):
        outputs.update(kept[key]["outputs"])
    remembered = None if pre.reset_on_success else kept
    return Outcome(True, replace(memory, preconditions=remembered), outputs)


def upstream_variables(execution: Execution) -> dict[str, Any]:
    """Return the `trigger.*` variables an execution gives the flows it triggers."""
    labels = {
        label.key: label.value for label in execution.labels if label.key != "system.correlationId"
    }
    failed = next((run.task_id for run in execution.task_runs if run.current.is_failed()), None)
    last = execution.task_runs[-1].task_id if execution.task_runs else None
    found: dict[str, Any] = {
        "executionId": execution.id,
        "namespace": execution.namespace,
        "flowId": execution.flow_id,
        "flowRevision": execution.flow_revision,
        "state": execution.current.value,
        "executionLabels": labels,
        "startDate": format_instant(execution.state.start_date),
        "outputs": dict(execution.outputs or {}),
    }
    if execution.state.end_date is not None:
        found["endDate"] = format_instant(execution.state.end_date)
    if failed is not None:
        found["firstFailedTaskId"] = failed
    if last is not None:
        found["lastTaskId"] = last
    return found
