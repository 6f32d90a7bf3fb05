"""Child executions, the executor's side: what to start, and what a child's end means.

A Subflow task (and the `_items` task of a ForEachItem) starts executions of another flow.
The executor stays pure: when such a task run starts it only emits `ChildRequest`s; the runner
looks the flow up, checks the inputs, creates and drives the children, and reports back with
`ChildEvent`s (created, ended, could not start), which the executor applies here.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

from lanner.context import Masker, runtime_functions
from lanner.exceptions import LannerError
from lanner.executions import Attempt, Execution, Label, Level, TaskRun
from lanner.expressions import render, render_value
from lanner.ids import derived_id
from lanner.states import State, StateTrail

if TYPE_CHECKING:
    from lanner.step import StepState
    from lanner.tasks.base import ExecutableTask

CORRELATION_LABEL = "system.correlationId"
RESTARTED_LABEL = "system.restarted"


class RestartBehavior(Enum):
    """What restarting a parent does to a child that failed (Kestra's `restartBehavior`)."""

    RETRY_FAILED = "RETRY_FAILED"
    NEW_EXECUTION = "NEW_EXECUTION"


@dataclass(frozen=True, slots=True)
class ChildRequest:
    """Start one execution of `namespace.flow_id` for a task run of a parent execution."""

    parent_id: str
    task_run_id: str
    namespace: str
    flow_id: str
    revision: int | None
    inputs: Mapping[str, Any]
    inherited: tuple[Label, ...]
    """Labels taken from the parent (its system labels, or all of them with inheritLabels)."""
    labels: tuple[Label, ...]
    """The task's own `labels`, rendered."""
    inherit_labels: bool
    wait: bool
    trigger: Mapping[str, Any]
    child_id: str
    """The id the child gets when it is created (see `child_id`)."""
    iteration: int | None = None
    schedule_date: datetime | None = None
    reuse: str | None = None
    """With RETRY_FAILED on a restarted parent: the child to restart if it failed ("" when
    the child must be looked up by task run and iteration)."""


class ChildEventKind(Enum):
    CREATED = "created"
    ENDED = "ended"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class ChildEvent:
    """What happened to a child, for the task run that asked for it."""

    kind: ChildEventKind
    task_run_id: str
    child_id: str | None = None
    iteration: int | None = None
    state: State | None = None
    outputs: Mapping[str, Any] | None = None
    message: str | None = None
    warnings: tuple[str, ...] = ()


@dataclass
class ChildOutcome:
    """How a task run changes after a child event: new outputs, and its final state if known."""

    outputs: Mapping[str, Any] | None
    state: State | None = None
    logs: list[tuple[Level, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ChildScope:
    """What an executable task sees when it plans its children."""

    execution: Execution
    task_run: TaskRun
    render_with: Any
    """`render_with(value, extra)` renders every string in `value` with `extra` variables."""
    read_file: Any
    """`read_file(uri) -> bytes` reads internal storage (None when the executor has none)."""

    def render(self, value: Any, extra: Mapping[str, Any] | None = None) -> Any:
        return self.render_with(value, extra or {})

    def render_text(self, value: Any) -> str:
        rendered = self.render(value)
        return rendered if isinstance(rendered, str) else str(rendered)


def guess_state(
    child: State, transmit_failed: bool, allow_failure: bool, allow_warning: bool
) -> State:
    """Return the state a task run takes from its child's final state (Kestra's rule)."""
    passed_on = (State.FAILED, State.PAUSED, State.KILLED, State.WARNING)
    if not transmit_failed or child not in passed_on:
        return State.SUCCESS
    state = State.WARNING if allow_failure and child is State.FAILED else child
    return State.SUCCESS if state is State.WARNING and allow_warning else state


def parent_trigger(
    task: tuple[str, str], execution: Execution, run: TaskRun, iteration: int | None
) -> dict[str, Any]:
    """Return the `trigger` of a child: the task, and where in the parent it was started."""
    variables: dict[str, Any] = {
        "executionId": execution.id,
        "namespace": execution.namespace,
        "flowId": execution.flow_id,
        "flowRevision": execution.flow_revision,
        "taskRunId": run.id,
        "taskId": run.task_id,
    }
    if run.value is not None:
        variables["taskRunValue"] = run.value
    if iteration is not None:
        variables["taskRunIteration"] = iteration
    trigger_id, trigger_type = task
    return {"id": trigger_id, "type": trigger_type, "variables": variables}


def inherited_labels(execution: Execution, inherit: bool) -> tuple[Label, ...]:
    """Return the parent's labels a child gets: all with inheritLabels, else its correlation id."""
    if inherit:
        return tuple(label for label in execution.labels if label.key != RESTARTED_LABEL)
    return tuple(label for label in execution.labels if label.key == CORRELATION_LABEL)


def child_id(execution: Execution, run: TaskRun, iteration: int | None) -> str:
    """Return the id of the child a task run asks for (of batch `iteration`) when it starts.

    It is derived from the parent, the task run, which start of the task run this is (a
    restarted parent starts it again, and may want a new child) and the batch: an executor
    that died before the child's first event was sent plans the task run again and names the
    same child, so it re-creates that child instead of starting a second one.
    """
    return derived_id("child", execution.id, run.id, start_number(run), iteration)


def start_number(run: TaskRun) -> int:
    """Return which start of a task run this is: 1 for its first one.

    A task run being started (CREATED or RESTARTED) counts the start under way, as does one
    already RUNNING, so that planning its children again after a crash gives the same number.
    """
    started = run.state.count(State.RUNNING)
    return started if run.current is State.RUNNING else started + 1


def reuse_of(behavior: RestartBehavior, execution: Execution, run: TaskRun) -> str | None:
    """Return which child a restarted parent retries (RETRY_FAILED), or None for a new one."""
    restarted = any(
        label.key == RESTARTED_LABEL and label.value == "true" for label in execution.labels
    )
    if not restarted or behavior is not RestartBehavior.RETRY_FAILED:
        return None
    known = (run.outputs or {}).get("executionId")
    return str(known) if known else ""


# -- the executor's part -----------------------------------------------------------------------


def start_children(step: StepState, run: TaskRun, task: ExecutableTask) -> None:
    """Start an executable task run: plan its children, then wait for their events."""
    try:
        outputs, requests = task.plan_children(_scope(step, run, task))
    except LannerError as exc:
        step._fail(run, str(exc))
        return
    running = replace(run.with_state(State.RUNNING, step.now), outputs=outputs)
    step.save(running)
    if not requests:
        # Nothing to start (ForEachItem over an empty file): the task run is done at once.
        _end(step, running, State.SUCCESS)
        return
    step.child_requests.extend(requests)


def children_asked(step: StepState) -> list[ChildRequest]:
    """Plan again the children of the running executable task runs, as when they started.

    The requests name the same children (`child_id`) when the task runs' inputs render the
    same; a task run whose planning fails now is left out (it did not fail when it started).
    """
    from lanner.tasks.base import ExecutableTask

    requests: list[ChildRequest] = []
    for run in step.index.unfinished():
        task = step.tasks.get(run.task_id)
        if run.current is not State.RUNNING or not isinstance(task, ExecutableTask):
            continue
        try:
            _, planned = task.plan_children(_scope(step, run, task))
        except LannerError:
            continue
        requests.extend(planned)
    return requests


def apply_child_event(step: StepState, event: ChildEvent) -> None:
    """Apply a child event to its task run (ignored once that task run has ended)."""
    try:
        run = step.execution.task_run(event.task_run_id)
    except KeyError:
        return
    if run.current is not State.RUNNING:
        return
    task = step.tasks[run.task_id]
    from lanner.tasks.base import ExecutableTask

    assert isinstance(task, ExecutableTask)
    outcome = task.child_event(run, event)
    for warning in event.warnings:
        step.log(run, Level.WARN, warning)
    for level, message in outcome.logs:
        step.log(run, level, message)
    run = step.save(replace(run, outputs=outcome.outputs))
    if outcome.state is not None:
        _end(step, run, outcome.state)


def _end(step: StepState, run: TaskRun, state: State) -> None:
    """End a task run whose work happened elsewhere: one attempt, in its final state."""
    attempt = Attempt(StateTrail.start(state, step.now))
    step.save(replace(run.with_state(state, step.now), attempts=(*run.attempts, attempt)))


def _scope(step: StepState, run: TaskRun, task: ExecutableTask) -> ChildScope:
    storage = step.executor.storage
    read_file = storage.read if storage is not None else None
    return ChildScope(step.execution, run, _renderer(step, task, run), read_file)


def _renderer(step: StepState, task: ExecutableTask, run: TaskRun) -> Any:
    variables = step._variables(task, run)
    functions = runtime_functions(
        step.index, run, Masker(), kv=step.executor.kv, storage=step.executor.storage
    )

    def render_with(value: Any, extra: Mapping[str, Any]) -> Any:
        scoped: Mapping[str, Any] = variables
        if extra:
            taskrun = {**variables.get("taskrun", {}), **extra}
            scoped = ChainMap({"taskrun": taskrun}, variables)
        if isinstance(value, str):
            return render(value, scoped, functions)
        return render_value(value, scoped, functions)

    return render_with
