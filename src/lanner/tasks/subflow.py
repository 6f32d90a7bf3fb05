"""Subflow: run another flow as a child execution, and wait for it (by default).

The task run stays RUNNING while the child runs; when the child ends, the task run takes the
child's outcome (`transmitFailed`), and its outputs are `executionId`, `state` and the child
flow's `outputs`. With `wait: false` it succeeds as soon as the child is created.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import Field

from lanner.children import (
    ChildEvent,
    ChildEventKind,
    ChildOutcome,
    ChildRequest,
    ChildScope,
    RestartBehavior,
    child_id,
    guess_state,
    inherited_labels,
    parent_trigger,
    reuse_of,
)
from lanner.clock import parse_instant
from lanner.exceptions import LannerError
from lanner.executions import Label, Level, TaskRun
from lanner.states import State
from lanner.tasks.base import ExecutableTask, Task
from lanner.tasks.execution import render_labels
from lanner.tasks.registry import register


class ChildFlowTask(Task):
    """Properties shared by the tasks that start executions of another flow."""

    namespace: str
    flow_id: str
    revision: int | None = Field(default=None, ge=1)
    inputs: dict[str, Any] | None = None
    labels: dict[str, Any] | list[dict[str, Any]] | None = None
    wait: bool = True
    transmit_failed: bool = True
    inherit_labels: bool | str = False
    schedule_date: str | None = None
    restart_behavior: RestartBehavior = RestartBehavior.RETRY_FAILED

    def request(
        self,
        scope: ChildScope,
        inputs: Mapping[str, Any],
        iteration: int | None = None,
        reuse: str | None = None,
    ) -> ChildRequest:
        """Build the request for one child, rendering what the properties leave dynamic."""
        inherit = self._inherit(scope)
        labels: tuple[Label, ...] = ()
        if self.labels:
            labels = render_labels(self.labels, scope.render_text, scope.render)
        return ChildRequest(
            parent_id=scope.execution.id,
            task_run_id=scope.task_run.id,
            namespace=scope.render_text(self.namespace),
            flow_id=scope.render_text(self.flow_id),
            revision=self.revision,
            inputs=inputs,
            inherited=inherited_labels(scope.execution, inherit),
            labels=labels,
            inherit_labels=inherit,
            wait=self.wait,
            trigger=parent_trigger(
                (self.id, type(self).TYPE), scope.execution, scope.task_run, iteration
            ),
            child_id=child_id(scope.execution, scope.task_run, iteration),
            iteration=iteration,
            schedule_date=self._schedule_date(scope),
            reuse=reuse,
        )

    def _inherit(self, scope: ChildScope) -> bool:
        value = self.inherit_labels
        if isinstance(value, str):
            return scope.render_text(value).strip() == "true"
        return value

    def _schedule_date(self, scope: ChildScope) -> datetime | None:
        if self.schedule_date is None:
            return None
        text = scope.render_text(self.schedule_date).strip()
        try:
            return parse_instant(text)
        except ValueError:
            raise LannerError(
                f"Task '{self.id}': scheduleDate must be an ISO-8601 date-time, got '{text}'"
            ) from None


@register
class Subflow(ChildFlowTask, ExecutableTask):
    """Start an execution of `namespace.flowId` with `inputs`; wait for it by default."""

    TYPE = "io.kestra.plugin.core.flow.Subflow"

    outputs: dict[str, Any] | None = None
    """Deprecated since Kestra 0.15: values rendered against the child when the flow itself
    declares no `outputs`."""

    def plan_children(
        self, scope: ChildScope
    ) -> tuple[Mapping[str, Any] | None, list[ChildRequest]]:
        inputs = scope.render(self.inputs or {})
        reuse = reuse_of(self.restart_behavior, scope.execution, scope.task_run)
        kept = scope.task_run.outputs if reuse else None
        return kept, [self.request(scope, inputs, reuse=reuse)]

    def child_event(self, run: TaskRun, event: ChildEvent) -> ChildOutcome:
        if event.kind is ChildEventKind.REFUSED:
            return ChildOutcome(run.outputs, State.FAILED, [(Level.ERROR, event.message or "")])
        if event.kind is ChildEventKind.CREATED:
            created = {"executionId": event.child_id}
            return ChildOutcome(created, None if self.wait else State.SUCCESS)
        assert event.state is not None
        ended: dict[str, Any] = {"executionId": event.child_id, "state": event.state.value}
        if self.wait and event.outputs is not None:
            ended["outputs"] = dict(event.outputs)
        state = guess_state(
            event.state, self.transmit_failed, self.allow_failure, self.allow_warning
        )
        return ChildOutcome(ended, state, _end_logs(event, state))


def _end_logs(event: ChildEvent, state: State) -> list[tuple[Level, str]]:
    """Say when a child's end fails or warns the task run (Kestra's wording)."""
    if state not in (State.FAILED, State.WARNING, State.KILLED):
        return []
    if state is State.WARNING:
        return [(Level.WARN, f"Subflow execution {event.child_id} ends in WARNING state")]
    return [(Level.ERROR, f"Subflow execution {event.child_id} ends in FAILED state")]
