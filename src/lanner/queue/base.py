"""The `Queue` Protocol: what the processes of a scaled-out lanner tell each other.

Executors consume *events* (a new execution to drive, a worker's result, a kill, a resume, a
timer, a job whose worker was lost); workers take *jobs* (one attempt of one task run). A job
carries only what a worker needs to rebuild it from the store, so the queue stays small and the
store stays the one truth. Events are consumed per execution, under a claim that no other
executor can hold at the same time: one execution is never decided twice at once.

Delivery is at least once: an executor that dies mid-claim leaves its events for the next one,
and every event is safe to see twice (a result for an attempt already decided is ignored, a job
already queued is not queued again).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from lanner.children import ChildEvent
from lanner.executions import LogEntry
from lanner.jobs import WorkerResult
from lanner.states import State

__all__ = [
    "ChangeListener",
    "Claim",
    "EventKind",
    "ExecutorEvent",
    "JobTicket",
    "Listener",
    "Queue",
]

Listener = Callable[[str], None]
ChangeListener = Callable[[str, State], None]
"""Called with an execution's id and its new state."""


class EventKind(StrEnum):
    ADVANCE = "advance"
    """Move the execution on (it was created, restarted, or a slot freed up)."""
    RESULT = "result"
    KILL = "kill"
    RESUME = "resume"
    PAUSE = "pause"
    """Pause a running execution (see `Executor.pause`)."""
    UNQUEUE = "unqueue"
    """Start a QUEUED execution now, or end it without running (`state` says which)."""
    FORCE_RUN = "force-run"
    """Start a CREATED or QUEUED execution now (see `Executor.start_now`)."""
    TIMER = "timer"
    """An ADVANCE due at `available_at` (retry backoff, Sleep-free waits, pause timeouts)."""
    LOST = "lost"
    """The worker of `ticket` stopped: the attempt runs again, as a new attempt."""
    CHILD = "child"
    """A child execution of a Subflow or ForEachItem task run was created, ended or refused."""


@dataclass(frozen=True, slots=True)
class JobTicket:
    """One attempt of one task run, for a worker to rebuild from the store.

    `attempt` is the number of attempts the task run has once this one started; a worker that
    finds another number in the store drops the ticket as stale. `final_state` is the state an
    afterExecution task reads as `execution.state`: the stored execution's `final_state`, which
    is not yet its state.
    """

    execution_id: str
    task_run_id: str
    flow_revision: int
    attempt: int
    final_state: State | None = None


@dataclass(frozen=True, slots=True)
class ExecutorEvent:
    kind: EventKind
    execution_id: str
    result: WorkerResult | None = None
    outputs: Mapping[str, Any] | None = None
    """The `onResume` values of a RESUME."""
    ticket: JobTicket | None = None
    """The job of a LOST event."""
    available_at: datetime | None = None
    """When a TIMER is due; a new TIMER replaces the execution's pending ones."""
    child: ChildEvent | None = None
    """What happened to a child, for a CHILD event."""
    state: State | None = None
    """What an UNQUEUE makes of the execution: RUNNING, CANCELLED or FAILED."""

    @property
    def reported_task_run(self) -> str | None:
        """The task run whose job ended, for a RESULT or LOST event."""
        if self.result is not None:
            return self.result.task_run_id
        return self.ticket.task_run_id if self.ticket is not None else None


class Claim(Protocol):
    """The events of one execution, held by one executor until the claim ends.

    Leaving the claim's block normally consumes `events`; an exception leaves them queued.
    What the holder sends through the claim takes effect with that consumption, at once.
    """

    events: Sequence[ExecutorEvent]

    async def send(self, events: Sequence[ExecutorEvent]) -> None: ...

    async def enqueue(self, tickets: Sequence[JobTicket]) -> None: ...

    async def cancel(self, task_run_ids: Sequence[str]) -> None: ...

    async def changed(self, executions: Sequence[tuple[str, State]]) -> None: ...

    async def logged(self, execution_ids: Sequence[str]) -> None: ...


class Queue(Protocol):
    """Events for executors, jobs for workers, and the notices between processes."""

    # -- executors --------------------------------------------------------------------------

    async def send(self, events: Sequence[ExecutorEvent]) -> None:
        """Queue events (in one transaction) and wake an executor."""
        ...

    async def due_executions(self, limit: int) -> list[str]:
        """Return ids of executions with events due now, oldest event first."""
        ...

    @property
    def claim_capacity(self) -> int | None:
        """How many claims one process may hold at once, None for no limit.

        A claim holds a connection until it ends; a holder also makes other calls meanwhile,
        which need one more. A process that held every connection in claims would wait for
        ever on those calls.
        """
        ...

    def claim(self, execution_id: str) -> AbstractAsyncContextManager[Claim | None]:
        """Hold an execution's due events; None when another executor holds them."""
        ...

    async def next_due(self) -> float | None:
        """Return in how many seconds the next timer is due or job lease runs out, if ever.

        Seconds rather than a date: the database's clock decides what is due, not the caller's.
        """
        ...

    async def wait_for_events(self, timeout: float | None) -> None:
        """Return when events were sent since the last call, or after `timeout` seconds."""
        ...

    async def reclaim_expired(self) -> int:
        """Turn jobs whose lease ran out into LOST events; return how many."""
        ...

    async def waiting(self, execution_ids: Sequence[str]) -> set[str]:
        """Return those of these executions that have events queued, due now or later."""
        ...

    async def enqueue(self, tickets: Sequence[JobTicket]) -> None:
        """Queue jobs for workers; a ticket already queued is not queued twice."""
        ...

    async def cancel(self, task_run_ids: Sequence[str]) -> None:
        """Drop these task runs' queued jobs and tell workers to stop the running ones."""
        ...

    async def missing(self, tickets: Sequence[JobTicket]) -> list[JobTicket]:
        """Return the tickets that are neither queued nor leased nor reported.

        Reported: a result (or the loss) of the ticket's task run waits for an executor, so
        the job ended and must not run again.
        """
        ...

    # -- workers ----------------------------------------------------------------------------

    async def take(self, worker_id: str, limit: int) -> list[JobTicket]:
        """Lease up to `limit` queued jobs to a worker, oldest first."""
        ...

    async def wait_for_jobs(self, timeout: float | None) -> None:
        """Return when jobs were queued since the last call, or after `timeout` seconds."""
        ...

    async def heartbeat(self, worker_id: str) -> None:
        """Extend the lease of every job a worker holds."""
        ...

    async def finish(self, worker_id: str, ticket: JobTicket, result: WorkerResult) -> bool:
        """Report a job's result, in one transaction with releasing it.

        False (and nothing sent) when the worker no longer held the job: its lease ran out
        and the attempt was given to another worker.
        """
        ...

    async def finish_all(
        self,
        worker_id: str,
        results: Sequence[tuple[JobTicket, WorkerResult]],
        logged: Sequence[str] = (),
        logs: Sequence[LogEntry] = (),
        with_metrics: bool = False,
    ) -> list[bool]:
        """Report several jobs' results in one transaction, each as `finish` does.

        `logged` names executions whose log lines were just stored: the notice (see `logged`)
        goes out with the results. `logs` are log lines to store in that same transaction (and
        notice); `with_metrics` stores the metrics of the results queued there too, and queues
        the results without them: both for a queue that `shares_database` with the store only.
        Return, for each result, whether the worker still held its job.
        """
        ...

    def shares_database(self, store: object) -> bool:
        """Say whether this queue writes to the database of `store`: then `finish_all` can
        store log lines and metrics with the results, saving a transaction per report (and the
        executor the handling of the metrics)."""
        ...

    async def drop(self, worker_id: str, ticket: JobTicket) -> None:
        """Release a job without a result (the store shows it is stale)."""
        ...

    async def hand_back(self, worker_id: str, tickets: Sequence[JobTicket]) -> None:
        """Give jobs up (a worker stopping): each becomes a LOST event at once."""
        ...

    # -- notices ----------------------------------------------------------------------------

    def on_cancel(self, listener: Listener) -> None:
        """Call `listener(task_run_id)` when an executor cancels a running job."""
        ...

    def on_change(self, listener: ChangeListener) -> None:
        """Call `listener(execution_id, state)` when an execution changed in the store."""
        ...

    def on_logs(self, listener: Listener) -> None:
        """Call `listener(execution_id)` when log lines of an execution were stored."""
        ...

    async def changed(self, executions: Sequence[tuple[str, State]]) -> None:
        """Tell every process that these executions (id, new state) changed in the store."""
        ...

    async def logged(self, execution_ids: Sequence[str]) -> None:
        """Tell every process that log lines of these executions were stored."""
        ...

    async def close(self) -> None: ...
