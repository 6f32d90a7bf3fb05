"""A queue in this process's memory: the Protocol's reference, for tests and one-process use."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from lanner.clock import utcnow
from lanner.executions import LogEntry
from lanner.jobs import WorkerResult
from lanner.queue.base import (
    ChangeListener,
    Claim,
    EventKind,
    ExecutorEvent,
    JobTicket,
    Listener,
    Queue,
)
from lanner.queue.notices import wait_flag
from lanner.states import State

__all__ = ["MemoryQueue"]


@dataclass
class _Claim:
    """A claim whose sends go straight to the queue (nothing here can half-fail)."""

    queue: MemoryQueue
    events: Sequence[ExecutorEvent]

    async def send(self, events: Sequence[ExecutorEvent]) -> None:
        await self.queue.send(events)

    async def enqueue(self, tickets: Sequence[JobTicket]) -> None:
        await self.queue.enqueue(tickets)

    async def cancel(self, task_run_ids: Sequence[str]) -> None:
        await self.queue.cancel(task_run_ids)

    async def changed(self, executions: Sequence[tuple[str, State]]) -> None:
        await self.queue.changed(executions)

    async def logged(self, execution_ids: Sequence[str]) -> None:
        await self.queue.logged(execution_ids)


@dataclass
class _Job:
    ticket: JobTicket
    worker_id: str | None = None
    lease_until: datetime | None = None


@dataclass
class _Listeners:
    cancel: list[Listener] = field(default_factory=list)
    change: list[ChangeListener] = field(default_factory=list)
    logs: list[Listener] = field(default_factory=list)


class MemoryQueue(Queue):
    """Keep events and jobs in dictionaries; leases last `lease` seconds."""

    def __init__(self, lease: float = 30.0) -> None:
        self.lease = timedelta(seconds=lease)
        self._ids = itertools.count(1)
        self._events: dict[int, ExecutorEvent] = {}
        self._due: dict[int, datetime] = {}
        self._jobs: dict[tuple[str, int], _Job] = {}
        self._held: set[str] = set()
        self._event_sent = asyncio.Event()
        self._job_queued = asyncio.Event()
        self._listeners = _Listeners()

    @property
    def claim_capacity(self) -> int | None:
        return None  # no connections to run out of

    async def send(self, events: Sequence[ExecutorEvent]) -> None:
        for event in events:
            if event.kind is EventKind.TIMER:
                self._drop_timers(event.execution_id)
            event_id = next(self._ids)
            self._events[event_id] = event
            self._due[event_id] = event.available_at or utcnow()
        if events:
            self._event_sent.set()

    def _drop_timers(self, execution_id: str) -> None:
        for event_id, event in list(self._events.items()):
            if event.kind is EventKind.TIMER and event.execution_id == execution_id:
                del self._events[event_id], self._due[event_id]

    async def due_executions(self, limit: int) -> list[str]:
        now = utcnow()
        found: list[str] = []
        for event_id, event in self._events.items():
            if self._due[event_id] <= now and event.execution_id not in found:
                found.append(event.execution_id)
        return found[:limit]

    @asynccontextmanager
    async def claim(self, execution_id: str) -> AsyncIterator[Claim | None]:
        if execution_id in self._held:
            yield None
            return
        self._held.add(execution_id)
        try:
            now = utcnow()
            taken = [
                event_id
                for event_id, event in self._events.items()
                if event.execution_id == execution_id and self._due[event_id] <= now
            ]
            yield _Claim(self, [self._events[event_id] for event_id in taken])
            for event_id in taken:
                self._events.pop(event_id, None)
                self._due.pop(event_id, None)
        finally:
            self._held.discard(execution_id)

    async def next_due(self) -> float | None:
        moments = [*self._due.values()]
        moments += [job.lease_until for job in self._jobs.values() if job.lease_until]
        first = min(moments, default=None)
        return None if first is None else (first - utcnow()).total_seconds()

    async def wait_for_events(self, timeout: float | None) -> None:
        await wait_flag(self._event_sent, timeout)

    async def waiting(self, execution_ids: Sequence[str]) -> set[str]:
        queued = {event.execution_id for event in self._events.values()}
        return queued.intersection(execution_ids)

    async def reclaim_expired(self) -> int:
        now = utcnow()
        lost = [
            key
            for key, job in self._jobs.items()
            if job.lease_until is not None and job.lease_until < now
        ]
        await self._lose([self._jobs.pop(key).ticket for key in lost])
        return len(lost)

    async def _lose(self, tickets: Sequence[JobTicket]) -> None:
        await self.send([ExecutorEvent(EventKind.LOST, t.execution_id, ticket=t) for t in tickets])

    async def enqueue(self, tickets: Sequence[JobTicket]) -> None:
        for ticket in tickets:
            self._jobs.setdefault((ticket.task_run_id, ticket.attempt), _Job(ticket))
        if tickets:
            self._job_queued.set()

    async def cancel(self, task_run_ids: Sequence[str]) -> None:
        wanted = set(task_run_ids)
        for key, job in list(self._jobs.items()):
            if job.ticket.task_run_id in wanted and job.worker_id is None:
                del self._jobs[key]
        for run_id in task_run_ids:
            for listener in self._listeners.cancel:
                listener(run_id)

    async def missing(self, tickets: Sequence[JobTicket]) -> list[JobTicket]:
        reported = {event.reported_task_run for event in self._events.values()}
        return [
            t
            for t in tickets
            if (t.task_run_id, t.attempt) not in self._jobs and t.task_run_id not in reported
        ]

    async def take(self, worker_id: str, limit: int) -> list[JobTicket]:
        until = utcnow() + self.lease
        taken: list[JobTicket] = []
        for job in self._jobs.values():
            if len(taken) >= limit:
                break
            if job.worker_id is None:
                job.worker_id, job.lease_until = worker_id, until
                taken.append(job.ticket)
        return taken

    async def wait_for_jobs(self, timeout: float | None) -> None:
        await wait_flag(self._job_queued, timeout)

    async def heartbeat(self, worker_id: str) -> None:
        until = utcnow() + self.lease
        for job in self._jobs.values():
            if job.worker_id == worker_id:
                job.lease_until = until

    async def finish(self, worker_id: str, ticket: JobTicket, result: WorkerResult) -> bool:
        [held] = await self.finish_all(worker_id, [(ticket, result)])
        return held

    async def finish_all(
        self,
        worker_id: str,
        results: Sequence[tuple[JobTicket, WorkerResult]],
        logged: Sequence[str] = (),
        logs: Sequence[LogEntry] = (),
        with_metrics: bool = False,
    ) -> list[bool]:
        if logs or with_metrics:
            raise ValueError("a memory queue keeps no log lines nor metrics: store them first")
        await self.logged(logged)
        held = []
        events = []
        for ticket, result in results:
            job = self._jobs.get((ticket.task_run_id, ticket.attempt))
            kept = job is not None and job.worker_id == worker_id
            held.append(kept)
            if kept:
                del self._jobs[ticket.task_run_id, ticket.attempt]
                events.append(ExecutorEvent(EventKind.RESULT, ticket.execution_id, result=result))
        await self.send(events)
        return held

    def shares_database(self, store: object) -> bool:
        return False

    async def drop(self, worker_id: str, ticket: JobTicket) -> None:
        job = self._jobs.get((ticket.task_run_id, ticket.attempt))
        if job is not None and job.worker_id == worker_id:
            del self._jobs[ticket.task_run_id, ticket.attempt]

    async def hand_back(self, worker_id: str, tickets: Sequence[JobTicket]) -> None:
        mine = []
        for ticket in tickets:
            job = self._jobs.get((ticket.task_run_id, ticket.attempt))
            if job is not None and job.worker_id == worker_id:
                del self._jobs[ticket.task_run_id, ticket.attempt]
                mine.append(ticket)
        await self._lose(mine)

    def on_cancel(self, listener: Listener) -> None:
        self._listeners.cancel.append(listener)

    def on_change(self, listener: ChangeListener) -> None:
        self._listeners.change.append(listener)

    def on_logs(self, listener: Listener) -> None:
        self._listeners.logs.append(listener)

    async def changed(self, executions: Sequence[tuple[str, State]]) -> None:
        for execution_id, state in executions:
            for listener in self._listeners.change:
                listener(execution_id, state)

    async def logged(self, execution_ids: Sequence[str]) -> None:
        _call(self._listeners.logs, execution_ids)

    async def close(self) -> None:
        return None


def _call(listeners: Sequence[Listener], values: Sequence[str]) -> None:
    for value in values:
        for listener in listeners:
            listener(value)
