"""Operations on existing executions: restart, replay, change a task run's or an execution's state.

Pure functions over records (no I/O). Each returns the execution the engine drives next, and
the executor takes it from where the operation left it:

* a RESTARTED execution moves to RUNNING (ignoring the flow's concurrency limit, as Kestra);
* a RESTARTED task run starts again as a new attempt, after the attempts it already has;
* a RUNNING flowable resolves again: it creates the children it lacks and computes its state.

So an operation only resets the task runs that must run again (and their flowable ancestors)
and drops the task runs that must be created afresh.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from lanner.exceptions import IllegalStateError, LannerError
from lanner.executions import Execution, Label, TaskRun
from lanner.flows import Flow
from lanner.ids import new_id
from lanner.states import State, StateTrail
from lanner.tasks.base import FlowableTask, Task

RESTARTED_LABEL = "system.restarted"
REPLAY_LABEL = "system.replay"
REPLAYED_LABEL = "system.replayed"

# The states a task run can be set to by hand (those Kestra's "change status" dialog offers).
CHANGEABLE_STATES = (State.SUCCESS, State.WARNING, State.FAILED)

# Task runs a restart runs again: failed ones, and those a kill or a pause interrupted.
_RESTART_FROM = frozenset({State.FAILED, State.KILLED, State.PAUSED})


# -- restart ---------------------------------------------------------------------------------


def restart_problem(execution: Execution) -> str | None:
    """Say why an execution cannot be restarted, or None when it can."""
    refusal = _restart_refusal(execution)
    return refusal.message if refusal is not None else None


def _restart_refusal(execution: Execution) -> LannerError | None:
    current = execution.current
    if not (current.is_terminated() or current is State.PAUSED):
        return IllegalStateError(
            f"Cannot restart execution: current state is '{current.value}', "
            "expected terminated or paused."
        )
    if not any(run.current in _RESTART_FROM for run in execution.task_runs):
        # Kestra's wording (an IllegalArgumentException there, hence 422 rather than 409).
        return LannerError("No task found to restart execution from!")
    return None


def restart(
    flow: Flow, execution: Execution, now: datetime, *, revision: int | None = None
) -> Execution:
    """Run the failed task runs of an ended execution again, in the same execution.

    The execution goes to RESTARTED (next attempt number, label `system.restarted`). Each
    FAILED, KILLED or PAUSED task run goes to RESTARTED and runs again as a new attempt; its
    flowable ancestors go back to RUNNING so that they resolve again; the task runs of the
    `errors` and `finally` branches under them are dropped, since they ran because of the
    failure (they run again if it happens again).

    With `revision` (the flow must be that revision), Kestra restarts into a new execution of
    that revision instead: new execution and task-run ids, `parentId` the restarted one.

    IllegalStateError while the execution still runs; LannerError when it has nothing to run
    again (no failed, killed or paused task run).
    """
    refusal = _restart_refusal(execution)
    if refusal is not None:
        raise refusal
    tasks = _tasks_of(flow, execution)
    failing = [run for run in execution.task_runs if run.current in _RESTART_FROM]
    reset = _with_ancestors(execution, failing)
    runs = [_reset(tasks, run, now) if run.id in reset else run for run in execution.task_runs]
    runs = _drop_branches(flow, runs, reset)
    restarted = replace(
        execution,
        task_runs=tuple(runs),
        labels=_with_label(execution.labels, RESTARTED_LABEL),
        attempt_number=execution.attempt_number + 1,
        **_NOTHING_DECIDED,
    ).with_state(State.RESTARTED, now)
    if revision is None:
        return restarted
    return _as_new_execution(restarted, revision, parent=execution)


# -- replay ----------------------------------------------------------------------------------


def replay(
    flow: Flow,
    execution: Execution,
    task_run_id: str | None,
    now: datetime,
    *,
    revision: int | None = None,
) -> Execution:
    """Start a new execution that runs the original again from one of its task runs.

    The new execution (new id, `parentId` the original, `originalId` kept, inputs and labels
    copied plus `system.replay`) holds copies (new ids) of the task runs created before the
    chosen one. The chosen task run is copied too and runs again (RESTARTED; a flowable goes
    back to RUNNING and creates its children again); every task run created after it is left
    out, and the flowables that lose children that way go back to RUNNING to create them
    again. With no task run, the new execution starts from the beginning (CREATED, no task
    runs).

    LannerError when the task run is not in the execution.
    """
    target_revision = revision if revision is not None else execution.flow_revision
    labels = _with_label(execution.labels, REPLAY_LABEL)
    if task_run_id is None:
        fresh = replace(
            execution, task_runs=(), labels=labels, state=StateTrail.start(State.CREATED, now)
        )
        return _as_new_execution(fresh, target_revision, parent=execution)
    chosen = _task_run(execution, task_run_id)
    position = execution.task_runs.index(chosen)
    kept, left_out = execution.task_runs[: position + 1], execution.task_runs[position + 1 :]
    tasks = _tasks_of(flow, replace(execution, task_runs=kept))
    # Flowables that lose children must create them again, so they resolve again too.
    reset = _with_ancestors(execution, [chosen, *_parents_of(execution, left_out)])
    runs = [
        _reset(tasks, run, now) if run.id in reset or not run.current.is_terminated() else run
        for run in kept
    ]
    copy = replace(execution, task_runs=tuple(runs), labels=labels).with_state(State.RESTARTED, now)
    return _as_new_execution(copy, target_revision, parent=execution)


def mark_replayed(execution: Execution) -> Execution:
    """Label an execution that was replayed (`system.replayed`), as Kestra does."""
    return replace(execution, labels=_with_label(execution.labels, REPLAYED_LABEL))


# -- change state ----------------------------------------------------------------------------


def change_task_run_state(
    flow: Flow, execution: Execution, task_run_id: str, state: State, now: datetime
) -> Execution:
    """Set the state of one task run of an ended execution by hand, then let it go on.

    The task run (and its last attempt) takes `state`; its flowable ancestors go back to
    RUNNING and the execution to RESTARTED (next attempt number, label `system.restarted`),
    so the engine resumes from there: a task changed to SUCCESS lets the tasks after it run.
    The task runs of the `errors` and `finally` branches under those ancestors are dropped:
    they ran because of how the execution ended, which no longer holds.

    IllegalStateError unless the execution ended (KILLED excepted); LannerError for a state
    that is not SUCCESS, WARNING or FAILED, or a task run the execution does not have.
    """
    if state not in CHANGEABLE_STATES:
        allowed = ", ".join(item.value for item in CHANGEABLE_STATES)
        raise LannerError(f"A task run state can only be changed to {allowed}, not '{state}'")
    if not execution.current.is_terminated() or execution.current is State.KILLED:
        raise IllegalStateError(
            "Cannot change task run state: execution must be terminated and not killed."
        )
    chosen = _task_run(execution, task_run_id)
    tasks = _tasks_of(flow, execution)
    ancestors = _with_ancestors(execution, [chosen]) - {chosen.id}
    runs = []
    for run in execution.task_runs:
        if run.id == chosen.id:
            run = _mark(run, state, now)
        elif run.id in ancestors:
            run = _reset(tasks, run, now)
        runs.append(run)
    runs = _drop_branches(flow, runs, ancestors, keep={chosen.id, *ancestors})
    return replace(
        execution,
        task_runs=tuple(runs),
        labels=_with_label(execution.labels, RESTARTED_LABEL),
        attempt_number=execution.attempt_number + 1,
        **_NOTHING_DECIDED,
    ).with_state(State.RESTARTED, now)


def change_execution_status(execution: Execution, state: State, now: datetime) -> Execution:
    """Set the state of an ended execution by hand; nothing runs again.

    LannerError for a state that is not terminal; IllegalStateError unless the execution ended.
    """
    if not state.is_terminated():
        raise LannerError("You can only change the state of an execution to a terminal state.")
    if not execution.current.is_terminated():
        raise IllegalStateError("You can only change the state of a terminated execution.")
    return execution.with_state(state, now)


# -- helpers ---------------------------------------------------------------------------------

# What the engine decided once about the previous run (its final state, the SLAs it reported)
# no longer holds for an execution that runs again.
_NOTHING_DECIDED: dict[str, Any] = {"final_state": None, "reported_slas": ()}


def _task_run(execution: Execution, task_run_id: str) -> TaskRun:
    try:
        return execution.task_run(task_run_id)
    except KeyError:
        raise LannerError(
            f"Task run id '{task_run_id}' not found in execution '{execution.id}'"
        ) from None


def _tasks_of(flow: Flow, execution: Execution) -> dict[str, Task]:
    """Return the flow's tasks by id, checking it has the task of every task run kept.

    A restart or replay onto another revision of the flow fails here, before anything runs,
    when that revision dropped a task the execution already ran.
    """
    tasks = {task.id: task for task in flow.walk()}
    missing = sorted({run.task_id for run in execution.task_runs} - tasks.keys())
    if missing:
        raise LannerError(
            f"The flow {flow.namespace}.{flow.id} has no task {', '.join(missing)}, "
            f"which execution '{execution.id}' ran"
        )
    return tasks


def _with_ancestors(execution: Execution, runs: Iterable[TaskRun]) -> set[str]:
    """Return the ids of these task runs and of all their parents."""
    by_id = {run.id: run for run in execution.task_runs}
    ids: set[str] = set()
    for run in runs:
        current: TaskRun | None = run
        while current is not None and current.id not in ids:
            ids.add(current.id)
            parent_id = current.parent_task_run_id
            current = by_id.get(parent_id) if parent_id is not None else None
    return ids


def _parents_of(execution: Execution, runs: Sequence[TaskRun]) -> list[TaskRun]:
    """Return the parents of these task runs (those the execution has)."""
    by_id = {run.id: run for run in execution.task_runs}
    parent_ids = {run.parent_task_run_id for run in runs if run.parent_task_run_id is not None}
    return [by_id[parent_id] for parent_id in parent_ids if parent_id in by_id]


def _reset(tasks: Mapping[str, Task], run: TaskRun, now: datetime) -> TaskRun:
    """Make a task run run again: a runnable one is RESTARTED, a flowable one RUNNING."""
    state = State.RUNNING if isinstance(tasks[run.task_id], FlowableTask) else State.RESTARTED
    return replace(run.with_state(state, now), due_at=None)


def _mark(run: TaskRun, state: State, now: datetime) -> TaskRun:
    """Set a task run's state and its last attempt's (the attempt the change stands for)."""
    attempts = run.attempts
    if attempts:
        last = attempts[-1]
        attempts = (*attempts[:-1], replace(last, state=last.state.to(state, now)))
    return replace(run.with_state(state, now), attempts=attempts, due_at=None)


def _branch_task_ids(flow: Flow) -> set[str]:
    """Return the ids of the tasks listed directly in an `errors` or `finally` branch."""
    lists: list[Sequence[Task] | None] = [flow.errors, flow.finally_]
    for task in flow.walk():
        if isinstance(task, FlowableTask):
            lists.extend((task.errors, task.finally_))
    return {task.id for tasks in lists for task in tasks or ()}


def _drop_branches(
    flow: Flow, runs: Sequence[TaskRun], reset: set[str], keep: Iterable[str] = ()
) -> list[TaskRun]:
    """Drop the `errors`/`finally` task runs under the top level and under reset flowables.

    Those branches ran because the flowable ended; once it resolves again, it starts them
    again when they are due. Their descendants go with them; `keep` ids are never dropped.
    """
    branch_ids = _branch_task_ids(flow)
    protected = set(keep)
    dropped: set[str] = set()
    kept: list[TaskRun] = []
    for run in runs:  # creation order: a parent always comes before its children
        parent = run.parent_task_run_id
        reopened = parent is None or parent in reset
        under_dropped = parent is not None and parent in dropped
        if run.id not in protected and (under_dropped or (reopened and run.task_id in branch_ids)):
            dropped.add(run.id)
            continue
        kept.append(run)
    return kept


def _with_label(labels: Sequence[Label], key: str) -> tuple[Label, ...]:
    """Return the labels with `key: true`, set once."""
    if any(label.key == key and label.value == "true" for label in labels):
        return tuple(labels)
    return (*labels, Label(key, "true"))


def _as_new_execution(execution: Execution, revision: int, *, parent: Execution) -> Execution:
    """Copy an execution under a new id, with new task-run ids, as a child of `parent`."""
    execution_id = new_id()
    ids = {run.id: new_id() for run in execution.task_runs}
    runs = tuple(
        replace(
            run,
            id=ids[run.id],
            execution_id=execution_id,
            parent_task_run_id=(
                ids.get(run.parent_task_run_id) if run.parent_task_run_id is not None else None
            ),
        )
        for run in execution.task_runs
    )
    return replace(
        execution,
        id=execution_id,
        flow_revision=revision,
        task_runs=runs,
        outputs=None,
        parent_id=parent.id,
        original_id=parent.original_id or parent.id,
        attempt_number=parent.attempt_number + 1,
        schedule_date=None,
        deleted=False,
        **_NOTHING_DECIDED,
    )
