"""What the execution routes do, one function each, on top of the process's services."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from lanner.api.execution_forms import SYSTEM_PREFIX, refuse_system_labels
from lanner.api.execution_watch import killing_or_done, load, settled, wait_until
from lanner.exceptions import IllegalStateError
from lanner.executions import Execution, Label
from lanner.flowjson import flow_json
from lanner.flowrepo import StoredFlow
from lanner.services import Services
from lanner.states import State
from lanner.storage import SCHEME, execution_prefix

KILL_ANSWER_SECONDS = 2.0
"""How long a kill or a pause waits for the engine before answering with the execution."""
KILLED_BEFORE_DELETE_SECONDS = 30.0
"""How long a delete that killed an execution waits for it to end before giving up."""


@dataclass(frozen=True)
class CreateRequest:
    """Everything a client sends to start an execution."""

    inputs: Mapping[str, Any]
    labels: Sequence[Label]
    wait: bool = False
    schedule_date: datetime | None = None


async def executable_flow(
    services: Services, namespace: str, flow_id: str, revision: int | None
) -> StoredFlow:
    """Return the flow revision to run; NotFoundError if unknown, IllegalStateError if disabled."""
    stored = await services.flows.get(namespace, flow_id, revision)
    if stored.flow.disabled:
        raise IllegalStateError("Cannot execute a disabled flow")
    return stored


async def create(services: Services, stored: StoredFlow, request: CreateRequest) -> Execution:
    """Start an execution; with `wait`, return it once it has ended or paused."""
    execution = await services.runner.submit(
        stored.flow,
        stored.revision,
        request.inputs,
        request.labels,
        schedule_date=request.schedule_date,
        checked=True,
    )
    if not request.wait:
        return execution
    return await wait_until(services, execution.id, settled)


async def kill(services: Services, execution_id: str) -> Execution:
    """Ask for a running execution to be killed; return it once the kill is under way."""
    execution = await load(services, execution_id)
    if execution.current.is_terminated():
        raise IllegalStateError("Execution is already finished, can't kill it")
    await services.runner.kill(execution_id)
    return await wait_until(services, execution_id, killing_or_done, KILL_ANSWER_SECONDS)


async def pause(services: Services, execution_id: str) -> Execution:
    """Ask for a running execution to be paused; return it once PAUSED (or ended meanwhile)."""
    await services.runner.pause(execution_id)
    return await wait_until(services, execution_id, settled, KILL_ANSWER_SECONDS)


def _started_or_done(execution: Execution) -> bool:
    return execution.current not in (State.CREATED, State.QUEUED)


async def unqueue(services: Services, execution_id: str, state: State) -> Execution:
    """Start a QUEUED execution now, or end it in `state`; return it once it left QUEUED."""
    await services.runner.unqueue(execution_id, state)
    return await wait_until(services, execution_id, _started_or_done, KILL_ANSWER_SECONDS)


async def force_run(services: Services, execution_id: str) -> Execution:
    """Run an execution now (started, unqueued or resumed); return it once it has moved."""
    before = await load(services, execution_id)
    await services.runner.force_run(execution_id)
    if before.current is State.PAUSED:
        return await wait_until(
            services, execution_id, lambda e: e.current is not State.PAUSED, KILL_ANSWER_SECONDS
        )
    return await wait_until(services, execution_id, _started_or_done, KILL_ANSWER_SECONDS)


async def delete(
    services: Services,
    execution_id: str,
    *,
    delete_logs: bool = True,
    delete_metrics: bool = True,
    delete_storage: bool = True,
) -> None:
    """Delete an ended execution with its task runs and, unless asked to keep them, its log
    lines, metrics and files."""
    execution = await load(services, execution_id)
    if not execution.current.is_terminated():
        raise IllegalStateError(
            f"Execution '{execution_id}' is {execution.current.value}: kill it before deleting it"
        )
    await services.store.delete_execution(
        execution_id, keep_logs=not delete_logs, keep_metrics=not delete_metrics
    )
    if delete_storage:
        folder = execution_prefix(execution.namespace, execution.flow_id, execution.id)
        await asyncio.to_thread(services.storage.delete, f"{SCHEME}{folder}")


async def wait_killed(services: Services, execution_id: str) -> None:
    """Return once an execution asked to die has ended; IllegalStateError if it does not.

    Deleting a running execution outright would leave its task runs working for nothing and
    its late results arriving for an execution that is gone: it is killed, then deleted.
    """
    execution = await wait_until(services, execution_id, _terminated, KILLED_BEFORE_DELETE_SECONDS)
    if not execution.current.is_terminated():
        raise IllegalStateError(
            f"Execution '{execution_id}' is still {execution.current.value}"
            f" {KILLED_BEFORE_DELETE_SECONDS:g} s after it was killed: it was not deleted"
        )


def _terminated(execution: Execution) -> bool:
    return execution.current.is_terminated()


async def set_labels(services: Services, execution_id: str, labels: Sequence[Label]) -> Execution:
    """Replace the labels of an ended execution; its system labels stay as they are."""
    execution = await load(services, execution_id)
    if not execution.current.is_terminated():
        raise IllegalStateError("The execution is not terminated")
    system = [label for label in execution.labels if label.key.startswith(SYSTEM_PREFIX)]
    refuse_system_labels(labels, allowed=system)
    merged = {label.key: label.value for label in labels if label.key or label.value}
    for label in system:
        merged.setdefault(label.key, label.value)
    updated = replace(execution, labels=tuple(Label(key, value) for key, value in merged.items()))
    await services.store.save_execution(updated, [])
    return updated


async def flow_of(services: Services, execution_id: str) -> dict[str, Any]:
    """Return the flow revision an execution ran, as Kestra's flow JSON."""
    execution = await load(services, execution_id)
    stored = await services.flows.get(
        execution.namespace, execution.flow_id, execution.flow_revision, allow_deleted=True
    )
    return flow_json(stored.record, stored.flow)
