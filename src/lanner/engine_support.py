"""Steps every Engine takes the same way: build a new execution, read one, check resume values."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from lanner.clock import utcnow
from lanner.exceptions import IllegalStateError, LannerError, NotFoundError
from lanner.executions import Attempt, Execution, Label, Level, LogEntry, TaskRun
from lanner.expressions import render_typed
from lanner.flow_checks import (
    FAILED_BY_CHECKS,
    CheckBehavior,
    ChecksBlockedError,
    Judge,
    failed_checks,
    outcome,
)
from lanner.flow_context import trigger_context, trigger_functions
from lanner.flow_parser import parse_flow
from lanner.flows import Flow
from lanner.inputs import (
    InputCheck,
    InputDeclaration,
    Upload,
    check_inputs,
    parse_input,
    resolve_inputs,
)
from lanner.jsonvalues import jsonable
from lanner.limits import check_submission
from lanner.settings import Settings
from lanner.states import State
from lanner.storage import SCHEME, Storage, execution_prefix, file_uri, run_storage
from lanner.store import Store
from lanner.tasks.pause import Pause

__all__ = [
    "UNQUEUE_STATES",
    "check_force_run",
    "check_unqueue",
    "checks_judge",
    "existing",
    "failed_by_checks",
    "flow_of",
    "new_execution",
    "new_execution_checks",
    "not_running",
    "paused_resume_checks",
    "paused_resume_declarations",
    "paused_resume_values",
    "retry_lost_attempt",
]


async def new_execution(
    flow: Flow,
    revision: int,
    storage: Storage,
    inputs: Mapping[str, Any] | None,
    labels: Sequence[Label],
    *,
    validate_inputs: bool,
    schedule_date: datetime | None,
    trigger: Mapping[str, Any] | None,
    max_bytes: int,
    execution_id: str | None = None,
    judge: Judge | None = None,
) -> Execution:
    """Create an execution with its inputs resolved (InputError before anything runs).

    MessageTooBigError when the execution is over `max_bytes` before it starts. The execution
    gets `execution_id` when given (a child's, derived from what asked for it), else a new id.
    Resolving inputs stores FILE inputs: on a remote storage that is done in a thread.
    With a `judge`, the flow's checks are judged on the typed inputs: ChecksBlockedError when
    they block it, and an execution already FAILED (see `failed_by_checks`) when they fail it.
    """
    execution = Execution.create(
        flow.namespace,
        flow.id,
        revision,
        labels=(*flow.labels, *labels),
        trigger=trigger,
        execution_id=execution_id,
    )
    resolved = dict(inputs or {})
    if validate_inputs:
        resolved = await run_storage(
            storage,
            resolve_inputs,
            flow.inputs or [],
            resolved,
            render_typed=lambda template, variables: render_typed(template, variables),
            store_file=_input_file_store(storage, execution),
        )
    behavior = CheckBehavior.CREATE_EXECUTION
    if judge is not None:
        failed = judge(resolved)
        behavior = outcome(failed)
        if behavior is CheckBehavior.BLOCK_EXECUTION:
            # Nothing is created: the files of its FILE inputs, stored already, go too.
            folder = execution_prefix(flow.namespace, flow.id, execution.id)
            await run_storage(storage, storage.delete, SCHEME + folder)
            raise ChecksBlockedError(failed)
    execution = replace(execution, inputs=jsonable(resolved), schedule_date=schedule_date)
    if behavior is CheckBehavior.FAIL_EXECUTION:
        execution = execution.with_state(State.FAILED)
    check_submission(execution, max_bytes)
    return execution


def checks_judge(flow: Flow, revision: int, settings: Settings, store: Store) -> Judge | None:
    """Return what judges the flow's checks on a new execution's inputs (None: it has none)."""
    checks = flow.checks
    if not checks:
        return None
    variables = trigger_context(flow, revision, settings)
    functions = trigger_functions(store)
    return lambda inputs: failed_checks(checks, {**variables, "inputs": inputs}, functions)


def failed_by_checks(execution: Execution) -> LogEntry | None:
    """Return the log line of a new execution its checks created FAILED, or None if they did not.

    Such an execution is stored as it is and never started: no task of it runs.
    """
    if execution.current is not State.FAILED:
        return None
    return LogEntry(
        namespace=execution.namespace,
        flow_id=execution.flow_id,
        execution_id=execution.id,
        timestamp=utcnow(),
        level=Level.WARN,
        message=FAILED_BY_CHECKS,
    )


def new_execution_checks(
    flow: Flow, execution_id: str, inputs: Mapping[str, Any]
) -> list[InputCheck]:
    """Report on each flow input as creating execution `execution_id` with `inputs` would.

    Nothing is stored: an uploaded file stands for the `kestra://` URI it would be stored at,
    as Kestra validates a form without uploading its files.
    """
    folder = execution_prefix(flow.namespace, flow.id, execution_id)
    submitted = {
        input_id: file_uri(f"{folder}/inputs/{input_id}", value.filename)
        if isinstance(value, Upload)
        else value
        for input_id, value in inputs.items()
    }
    return check_inputs(
        flow.inputs or [],
        submitted,
        render_typed=lambda template, variables: render_typed(template, variables),
    )


def _input_file_store(storage: Storage, execution: Execution) -> Callable[[str, str, bytes], str]:
    def store_file(input_id: str, filename: str, data: bytes) -> str:
        folder = execution_prefix(execution.namespace, execution.flow_id, execution.id)
        return storage.put(f"{folder}/inputs/{input_id}", filename, data)

    return store_file


async def existing(store: Store, execution_id: str) -> Execution:
    """Return a stored execution; NotFoundError when there is none."""
    stored = await store.get_execution(execution_id)
    if stored is None:
        raise NotFoundError(f"Unable to find execution '{execution_id}'")
    return stored


def not_running(execution: Execution) -> IllegalStateError:
    """The error of pausing an execution that is not RUNNING (Kestra answers 409 too)."""
    return IllegalStateError(
        f"Cannot pause execution '{execution.id}': it is {execution.current.value}, not RUNNING"
    )


UNQUEUE_STATES = (State.RUNNING, State.CANCELLED, State.FAILED)
"""What an unqueued execution may become: started, or ended without running."""


def check_unqueue(execution: Execution, state: State) -> None:
    """Raise unless a QUEUED execution is unqueued to one of `UNQUEUE_STATES` (as Kestra)."""
    if state not in UNQUEUE_STATES:
        valid = ", ".join(target.value for target in UNQUEUE_STATES)
        raise LannerError(f"Invalid target state: {state.value}. Valid states are: {valid}")
    if execution.current is not State.QUEUED:
        raise IllegalStateError(
            f"Only QUEUED execution can be unqueued: '{execution.id}' is {execution.current.value}"
        )


def check_force_run(execution: Execution) -> None:
    """Raise when an execution ended: only one still going can be forced to run."""
    if execution.current.is_terminated():
        raise IllegalStateError(
            f"Only non terminated executions can be forced run: '{execution.id}' is"
            f" {execution.current.value}"
        )


async def flow_of(store: Store, execution: Execution, revision: int | None) -> Flow:
    """Return the flow an execution runs (or another revision of it)."""
    wanted = revision if revision is not None else execution.flow_revision
    record = await store.get_flow(
        execution.namespace, execution.flow_id, wanted, allow_deleted=True
    )
    if record is None:
        raise NotFoundError(
            f"Unable to find flow {execution.namespace}.{execution.flow_id} revision {wanted}"
        )
    return parse_flow(record.source)


def paused_resume_declarations(flow: Flow, execution: Execution) -> list[InputDeclaration]:
    """Return the `onResume` inputs of the execution's paused Pause tasks, in task run order.

    IllegalStateError when the execution is not PAUSED.
    """
    if execution.current is not State.PAUSED:
        raise IllegalStateError(f"Execution '{execution.id}' is not PAUSED")
    declarations: list[InputDeclaration] = []
    for run in execution.task_runs:
        task = flow.find_task(run.task_id)
        if run.current is State.PAUSED and isinstance(task, Pause) and task.on_resume:
            declarations.extend(parse_input(item) for item in task.on_resume)
    return declarations


def paused_resume_checks(
    flow: Flow, execution: Execution, inputs: Mapping[str, Any]
) -> list[InputCheck]:
    """Report on each `onResume` input as resuming with `inputs` would resolve it.

    IllegalStateError when the execution is not PAUSED.
    """
    return check_inputs(
        paused_resume_declarations(flow, execution),
        inputs,
        render_typed=lambda template, variables: render_typed(template, variables),
    )


def paused_resume_values(
    flow: Flow, execution: Execution, inputs: Mapping[str, Any]
) -> dict[str, Any] | None:
    """Check the values given on resume against the paused tasks' `onResume` inputs.

    IllegalStateError when the execution is not PAUSED; InputError for a bad value.
    """
    declarations = paused_resume_declarations(flow, execution)
    if not declarations:
        return None
    resolved = resolve_inputs(
        declarations,
        inputs,
        render_typed=lambda template, variables: render_typed(template, variables),
    )
    return dict(jsonable(resolved))


def retry_lost_attempt(run: TaskRun, now: datetime) -> TaskRun:
    """Fail the last attempt of a task run whose runner was lost; the run is a retry due now."""
    last = run.attempts[-1]
    attempts = (*run.attempts[:-1], Attempt(last.state.to(State.FAILED, now), last.log_file))
    return replace(run.with_state(State.RETRYING, now), attempts=attempts, due_at=0.0)
