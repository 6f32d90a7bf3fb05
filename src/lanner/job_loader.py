"""Rebuild worker jobs from queue tickets: the execution and flow come from the store.

A worker takes many jobs of one execution at once (the iterations of a ForEach), so it keeps
the latest snapshot of each execution and the parsed flows. A snapshot serves a ticket when it
shows the ticket's task run RUNNING at the ticket's attempt: the executor saved that state
before queueing the job, together with or after every output the task may read, so the
snapshot holds all the job needs. Otherwise the execution is read again; concurrent readers of
one execution share one read.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict

from lanner.clock import utcnow
from lanner.executions import Execution, Level, LogEntry, TaskRun
from lanner.flowable import ExecutionIndex
from lanner.flowrepo import FlowRepository
from lanner.flows import Flow
from lanner.jobs import WorkerJob
from lanner.queue import JobTicket
from lanner.states import State
from lanner.store import Store
from lanner.tasks.base import RunnableTask, Task

__all__ = ["JobLoader", "LoadedJob"]

_SNAPSHOTS = 256


class LoadedJob:
    """A job with what its run context needs besides it."""

    def __init__(self, job: WorkerJob, flow: Flow, errors: list[LogEntry]) -> None:
        self.job = job
        self.flow = flow
        self.errors = errors


class _Snapshot:
    """An execution as read, with what every job of it asks indexed once.

    A ForEach of thousands of values sends thousands of jobs of one execution: looking a task
    run up, finding its parents or whether any task run failed must not walk them all each time.
    """

    def __init__(self, execution: Execution) -> None:
        self.execution = execution
        self.index = ExecutionIndex(execution)
        self.any_failed = any(run.current is State.FAILED for run in execution.task_runs)

    def current_run(self, ticket: JobTicket) -> TaskRun | None:
        """Return the ticket's task run if it is running the ticket's attempt."""
        try:
            run = self.index.get(ticket.task_run_id)
        except KeyError:
            return None
        if run.current is not State.RUNNING or len(run.attempts) != ticket.attempt:
            return None
        return run

    def ancestors(self, run: TaskRun) -> tuple[TaskRun, ...]:
        """Return a task run's parents, outermost first."""
        return tuple(self.index.ancestors(run))


class JobLoader:
    """Turn tickets into jobs, reading the store as little as possible."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._repository = FlowRepository(store)
        self._flows: dict[tuple[str, str, int], tuple[Flow, dict[str, Task]]] = {}
        self._snapshots: OrderedDict[str, _Snapshot] = OrderedDict()
        self._reading: dict[str, asyncio.Task[_Snapshot | None]] = {}

    async def load(self, ticket: JobTicket) -> LoadedJob | None:
        """Return the ticket's job, or None when the store shows the ticket is stale."""
        snapshot = await self._snapshot(ticket)
        run = snapshot.current_run(ticket) if snapshot is not None else None
        if snapshot is None or run is None:
            return None
        execution = snapshot.execution
        flow, tasks = await self._flow(execution)
        task = tasks.get(run.task_id)
        if not isinstance(task, RunnableTask):
            return None
        if ticket.final_state is not None:
            execution = execution.with_state(ticket.final_state, utcnow())
        errors = await self._error_logs(snapshot)
        job = WorkerJob(execution, run, task, snapshot.ancestors(run))
        return LoadedJob(job, flow, errors)

    async def _snapshot(self, ticket: JobTicket) -> _Snapshot | None:
        cached = self._snapshots.get(ticket.execution_id)
        if cached is not None and cached.current_run(ticket) is not None:
            return cached
        reading = self._reading.get(ticket.execution_id)
        if reading is None:
            reading = asyncio.create_task(self._read(ticket.execution_id))
            self._reading[ticket.execution_id] = reading
        return await asyncio.shield(reading)

    async def _read(self, execution_id: str) -> _Snapshot | None:
        try:
            execution = await self.store.get_execution(execution_id)
        finally:
            del self._reading[execution_id]
        if execution is None:
            return None
        snapshot = self._snapshots[execution_id] = _Snapshot(execution)
        self._snapshots.move_to_end(execution_id)
        while len(self._snapshots) > _SNAPSHOTS:
            self._snapshots.popitem(last=False)
        return snapshot

    async def _flow(self, execution: Execution) -> tuple[Flow, dict[str, Task]]:
        key = (execution.namespace, execution.flow_id, execution.flow_revision)
        found = self._flows.get(key)
        if found is None:
            stored = await self._repository.get(*key, allow_deleted=True)
            tasks = {task.id: task for task in stored.flow.walk()}
            found = self._flows[key] = (stored.flow, tasks)
        return found

    async def _error_logs(self, snapshot: _Snapshot) -> list[LogEntry]:
        """Read the ERROR lines `errorLogs()` may show, when a task run failed."""
        if not snapshot.any_failed:
            return []
        return await self.store.get_logs(snapshot.execution.id, min_level=Level.ERROR)
