"""The queue in PostgreSQL, shared by the executor, worker and webserver processes.

Rows are taken with `FOR UPDATE SKIP LOCKED`, so workers never wait on each other; an
execution's events are claimed under a transaction-level advisory lock on its id, so two
executors never decide it at once. Waiting costs nothing: each process keeps one connection
LISTENing, and `NOTIFY` (sent when the sending transaction commits) wakes it. The only timed
wake-ups are the ones something is due at: a timer event, or a job lease running out.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from enum import StrEnum
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from lanner.exceptions import StoreError
from lanner.executions import LogEntry
from lanner.jobs import WorkerResult
from lanner.metrics import MetricEntry
from lanner.queue.base import (
    ChangeListener,
    Claim,
    EventKind,
    ExecutorEvent,
    JobTicket,
    Listener,
    Queue,
)
from lanner.queue.codec import decode_event, encode_event
from lanner.queue.notices import Notices
from lanner.states import State
from lanner.store import postgres_logs, postgres_metrics
from lanner.store.postgres import PostgresStore
from lanner.store.postgres_schema import Db, JsonRows, redact, statement, transaction

__all__ = ["Notice", "PostgresQueue"]

_POOL_SIZE = 4


class Notice(StrEnum):
    """The notices of the queue, each a channel a process LISTENs on if it needs it.

    Every notice wakes each process that listens to its channel, so a process listens only
    to what it waits for or reacts to (see `PostgresQueue.open`).
    """

    EVENTS = "lanner_events"
    """Events were queued: executors look for due executions."""
    JOBS = "lanner_jobs"
    """Jobs were queued: workers take them."""
    CANCEL = "lanner_cancel"
    """Jobs are to stop (payload: a task run id): workers running them cancel them."""
    CHANGE = "lanner_change"
    """An execution changed (payload: its id and state): for followers and Flow triggers."""
    LOGS = "lanner_logs"
    """Log lines were stored (payload: an execution id): for followers."""


_EVENTS, _JOBS, _CANCEL, _CHANGE, _LOGS = (notice.value for notice in Notice)
_EVENT_ROWS = JsonRows("executor_events", ("execution_id", "kind", "payload", "available_at"))
_INSERT_EVENTS = (
    "INSERT INTO executor_events (execution_id, kind, payload, available_at) "
    + _EVENT_ROWS.select("execution_id, kind, payload, COALESCE(available_at, now())")
)
_DROP_TIMERS = "DELETE FROM executor_events WHERE execution_id = %s AND kind = 'timer'"
_DUE = (
    "SELECT execution_id FROM executor_events WHERE available_at <= now()"
    " GROUP BY execution_id ORDER BY min(id) LIMIT %s"
)
# A claim in one statement: try the execution's lock and, if it is held, take its due events
# (deleted now; the claim's transaction rolls back if its holder fails, and they come back).
# The lock comes first: the DELETE's scan waits on its uncorrelated subquery. One row at least
# comes back, the first column saying whether the lock is held.
_CLAIM = """
WITH lock AS (SELECT pg_try_advisory_xact_lock(hashtextextended(%(id)s, 1)) AS held),
taken AS (
    DELETE FROM executor_events
    WHERE execution_id = %(id)s AND available_at <= now() AND (SELECT held FROM lock)
    RETURNING id, kind, payload
)
SELECT (SELECT held FROM lock), taken.kind, taken.payload
FROM (SELECT) AS one LEFT JOIN taken ON true ORDER BY taken.id
"""
_NEXT_DUE = """
SELECT EXTRACT(EPOCH FROM LEAST(
    (SELECT min(available_at) FROM executor_events),
    (SELECT min(lease_until) FROM worker_jobs WHERE worker_id IS NOT NULL)
) - clock_timestamp())
"""
_WAITING = "SELECT DISTINCT execution_id FROM executor_events WHERE execution_id = ANY(%s)"
_TICKET = "execution_id, task_run_id, flow_revision, attempt, final_state"
_EXPIRED = (
    "DELETE FROM worker_jobs WHERE worker_id IS NOT NULL AND lease_until < clock_timestamp()"
    f" RETURNING {_TICKET}"
)
_JOB_ROWS = JsonRows(
    "worker_jobs", ("execution_id", "task_run_id", "flow_revision", "attempt", "final_state")
)
_ENQUEUE = (
    f"INSERT INTO worker_jobs ({_TICKET}) {_JOB_ROWS.select()}"
    " ON CONFLICT (task_run_id, attempt) DO NOTHING"
)
_CANCEL_QUEUED = "DELETE FROM worker_jobs WHERE task_run_id = ANY(%s) AND worker_id IS NULL"
# The jobs are picked by the subquery on the queued index, then updated by their row address:
# joining on the key instead, the planner scans the whole table for the update (a queue of
# thousands of jobs read in full at every take). Returned in queue order.
_TAKE = f"""
WITH taken AS (
    UPDATE worker_jobs
    SET worker_id = %s, lease_until = clock_timestamp() + make_interval(secs => %s)
    WHERE ctid = ANY(ARRAY(
        SELECT ctid FROM worker_jobs WHERE worker_id IS NULL
        ORDER BY seq LIMIT %s FOR UPDATE SKIP LOCKED
    ))
    RETURNING seq, {_TICKET}
)
SELECT {_TICKET} FROM taken ORDER BY seq
"""
_HEARTBEAT = (
    "UPDATE worker_jobs SET lease_until = clock_timestamp() + make_interval(secs => %s)"
    " WHERE worker_id = %s"
)
_RELEASE = (
    "DELETE FROM worker_jobs WHERE worker_id = %s AND (task_run_id, attempt) IN"
    " (SELECT * FROM unnest(%s::text[], %s::int[])) RETURNING task_run_id, attempt"
)
_QUEUED = (
    "SELECT task_run_id, attempt FROM worker_jobs WHERE (task_run_id, attempt) IN"
    " (SELECT * FROM unnest(%s::text[], %s::int[]))"
)
_REPORTED = (
    "SELECT kind, execution_id, payload FROM executor_events"
    " WHERE execution_id = ANY(%s) AND kind IN ('result', 'lost')"
)
_NOTIFY = "SELECT pg_notify(%s, value) FROM unnest(%s::text[]) AS value"
_REPORT_ROWS = JsonRows(
    "executor_events",
    ("execution_id", "payload", "task_run_id", "attempt"),
    ("text", "text", "text", "integer"),
)
"""The results of a report, with the job each answers."""
_STILL_HELD = "(task_run_id, attempt) IN (SELECT task_run_id, attempt FROM released)"
# A worker's report in one statement, run on its own (no BEGIN or COMMIT to send): release the
# jobs it still holds, queue the results of those only in the order given, store the metrics
# they reported (when the worker stores them) and its log lines (numbered once their
# executions' log locks are held, see postgres_logs), and send the notices (the "results
# queued" one only if a result was). One row comes back: the released jobs.
_REPORT = f"""
WITH log_locks AS ({postgres_logs.LOCKS}), released AS ({_RELEASE}), queued AS (
    INSERT INTO executor_events (execution_id, kind, payload, available_at)
    {_REPORT_ROWS.select("execution_id, 'result', payload, now()", where=_STILL_HELD)}
), measured AS ({postgres_metrics.insert_where(_STILL_HELD)}),
lines AS ({postgres_logs.insert_once_locked("log_locks")}), notices AS (
    SELECT pg_notify(n.channel, n.value)
    FROM unnest(%s::text[], %s::text[]) AS n(channel, value)
    WHERE n.channel <> '{_EVENTS}' OR EXISTS (SELECT FROM released)
)
SELECT (SELECT count(*) FROM notices), array_agg(task_run_id), array_agg(attempt) FROM released
"""


class _Writes:
    """What a queue writes, inside one transaction; notices go out when it commits."""

    def __init__(self, db: Db) -> None:
        self.db = db

    async def send(self, events: Sequence[ExecutorEvent]) -> None:
        await _insert_events(self.db, events)

    async def enqueue(self, tickets: Sequence[JobTicket]) -> None:
        if tickets:
            rows = [_ticket_row(ticket) for ticket in tickets]
            await self.db.execute(_ENQUEUE, (_JOB_ROWS.encode(rows),))
            await self.db.execute(_NOTIFY, (_JOBS, [""]))

    async def cancel(self, task_run_ids: Sequence[str]) -> None:
        if task_run_ids:
            await self.db.execute(_CANCEL_QUEUED, (list(task_run_ids),))
            await self.db.execute(_NOTIFY, (_CANCEL, list(task_run_ids)))

    async def changed(self, executions: Sequence[tuple[str, State]]) -> None:
        payloads = [f"{execution_id} {state.value}" for execution_id, state in executions]
        await self.notify(_CHANGE, payloads)

    async def logged(self, execution_ids: Sequence[str]) -> None:
        await self.notify(_LOGS, execution_ids)

    async def notify(self, channel: str, values: Sequence[str]) -> None:
        if values:
            await self.db.execute(_NOTIFY, (channel, list(values)))


class _Claim(_Writes):
    def __init__(self, db: Db, events: Sequence[ExecutorEvent]) -> None:
        super().__init__(db)
        self.events = events


class PostgresQueue(Queue):
    """Events and jobs in the tables of migration 0005; leases last `lease` seconds."""

    def __init__(self, pool: AsyncConnectionPool, notices: Notices, lease: float, url: str) -> None:
        self._pool = pool
        self.url = redact(url)
        """The database, its password hidden: the same text as `PostgresStore.url`."""
        self._notices = notices
        self.lease = lease

    @classmethod
    async def open(
        cls,
        url: str,
        lease: float = 30.0,
        *,
        connections: int = _POOL_SIZE,
        hears: Collection[Notice] = tuple(Notice),
    ) -> PostgresQueue:
        """Connect to a database whose schema the store has brought up to date.

        `connections` bounds the pool: an executor holds one per execution it decides at once.
        `hears` are the notices the process listens to (all by default); waiting for or
        listening to another raises ValueError.
        """
        pool = AsyncConnectionPool(
            url, min_size=1, max_size=connections, open=False, name="lanner-queue"
        )
        try:
            await pool.open(wait=True, timeout=30)
            notices = await Notices.open(
                url, [notice.value for notice in Notice if notice in hears]
            )
        except (TimeoutError, psycopg.Error) as exc:
            await pool.close()
            raise StoreError(f"Unable to open the queue in {redact(url)}: {exc}") from exc
        return cls(pool, notices, lease, url)

    def _transaction(self, what: str) -> contextlib.AbstractAsyncContextManager[Db]:
        return transaction(self._pool, what)

    def _statement(self, what: str) -> contextlib.AbstractAsyncContextManager[Db]:
        """For one statement: a round trip, where a transaction adds BEGIN and COMMIT."""
        return statement(self._pool, what)

    @property
    def claim_capacity(self) -> int | None:
        return self._pool.max_size - 1

    # -- executors --------------------------------------------------------------------------

    async def send(self, events: Sequence[ExecutorEvent]) -> None:
        if not events:
            return
        async with self._transaction("queue events") as db:
            await _insert_events(db, events)

    async def due_executions(self, limit: int) -> list[str]:
        async with self._statement("read the queue") as db:
            rows = await (await db.execute(_DUE, (limit,))).fetchall()
        return [execution_id for (execution_id,) in rows]

    @asynccontextmanager
    async def claim(self, execution_id: str) -> AsyncIterator[Claim | None]:
        async with self._transaction(f"claim execution '{execution_id}'") as db:
            rows = await (await db.execute(_CLAIM, {"id": execution_id})).fetchall()
            if not rows[0][0]:
                yield None
                return
            events = [
                decode_event(kind, execution_id, p) for _, kind, p in rows if kind is not None
            ]
            yield _Claim(db, events)

    async def next_due(self) -> float | None:
        async with self._statement("read the queue") as db:
            (seconds,) = await _one(db, _NEXT_DUE, ())
        return None if seconds is None else float(seconds)

    async def wait_for_events(self, timeout: float | None) -> None:
        await self._notices.wait(_EVENTS, timeout)

    async def waiting(self, execution_ids: Sequence[str]) -> set[str]:
        if not execution_ids:
            return set()
        async with self._statement("read the queue") as db:
            rows = await (await db.execute(_WAITING, (list(execution_ids),))).fetchall()
        return {execution_id for (execution_id,) in rows}

    async def reclaim_expired(self) -> int:
        async with self._transaction("reclaim lost jobs") as db:
            rows = await (await db.execute(_EXPIRED)).fetchall()
            await _insert_events(db, [_lost(_ticket_of(row)) for row in rows])
        return len(rows)

    async def enqueue(self, tickets: Sequence[JobTicket]) -> None:
        if tickets:
            async with self._transaction("queue jobs") as db:
                await _Writes(db).enqueue(tickets)

    async def cancel(self, task_run_ids: Sequence[str]) -> None:
        if task_run_ids:
            async with self._transaction("cancel jobs") as db:
                await _Writes(db).cancel(task_run_ids)

    async def missing(self, tickets: Sequence[JobTicket]) -> list[JobTicket]:
        if not tickets:
            return []
        executions = sorted({ticket.execution_id for ticket in tickets})
        async with self._transaction("read the queue") as db:
            found = set(await (await db.execute(_QUEUED, _job_keys(tickets))).fetchall())
            pending = await (await db.execute(_REPORTED, (executions,))).fetchall()
        reported = {decode_event(*row).reported_task_run for row in pending}
        return [
            t
            for t in tickets
            if (t.task_run_id, t.attempt) not in found and t.task_run_id not in reported
        ]

    # -- workers ----------------------------------------------------------------------------

    async def take(self, worker_id: str, limit: int) -> list[JobTicket]:
        async with self._statement("take jobs") as db:
            rows = await (await db.execute(_TAKE, (worker_id, self.lease, limit))).fetchall()
        return [_ticket_of(row) for row in rows]

    async def wait_for_jobs(self, timeout: float | None) -> None:
        await self._notices.wait(_JOBS, timeout)

    async def heartbeat(self, worker_id: str) -> None:
        async with self._statement("extend job leases") as db:
            await db.execute(_HEARTBEAT, (self.lease, worker_id))

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
        noticed = sorted({*logged, *(entry.execution_id for entry in logs)})
        if not results and not logs:
            await self.logged(noticed)
            return []
        tickets = [ticket for ticket, _ in results]
        logged_executions, lines = postgres_logs.parameters(logs)
        channels = [_EVENTS] * bool(results) + [_LOGS] * len(noticed)
        values = [""] * bool(results) + noticed
        reported, measured = _reported(results, with_metrics)
        async with self._statement("report jobs' results") as db:
            released = await db.execute(
                _REPORT,
                (
                    logged_executions,
                    worker_id,
                    *_job_keys(tickets),
                    _REPORT_ROWS.encode(_result_rows(reported)),
                    postgres_metrics.attempt_rows(measured),
                    lines,
                    channels,
                    values,
                ),
            )
            row = await released.fetchone()
        assert row is not None  # an aggregate without GROUP BY gives one row
        _, runs, attempts = row
        return _held(tickets, list(zip(runs or [], attempts or [], strict=True)))

    def shares_database(self, store: object) -> bool:
        return isinstance(store, PostgresStore) and store.url == self.url

    async def drop(self, worker_id: str, ticket: JobTicket) -> None:
        async with self._transaction("drop a stale job") as db:
            await _release(db, worker_id, [ticket])

    async def hand_back(self, worker_id: str, tickets: Sequence[JobTicket]) -> None:
        async with self._transaction("hand jobs back") as db:
            held = await _release(db, worker_id, tickets)
            await _insert_events(
                db, [_lost(t) for t, kept in zip(tickets, held, strict=True) if kept]
            )

    # -- notices ----------------------------------------------------------------------------

    def on_cancel(self, listener: Listener) -> None:
        self._notices.listen(_CANCEL, listener)

    def on_change(self, listener: ChangeListener) -> None:
        def parse(payload: str) -> None:
            execution_id, _, state = payload.partition(" ")
            listener(execution_id, State(state))

        self._notices.listen(_CHANGE, parse)

    def on_logs(self, listener: Listener) -> None:
        self._notices.listen(_LOGS, listener)

    async def changed(self, executions: Sequence[tuple[str, State]]) -> None:
        if executions:
            async with self._statement("send a notice") as db:
                await _Writes(db).changed(executions)

    async def logged(self, execution_ids: Sequence[str]) -> None:
        if execution_ids:
            async with self._statement("send a notice") as db:
                await _Writes(db).logged(execution_ids)

    async def close(self) -> None:
        await self._notices.close()
        await self._pool.close()


async def _one(db: Db, query: str, params: tuple[Any, ...]) -> tuple[Any, ...]:
    row = await (await db.execute(query, params)).fetchone()
    assert row is not None  # every query given here returns one row
    return tuple(row)


async def _insert_events(db: Db, events: Sequence[ExecutorEvent]) -> None:
    if not events:
        return
    async with db.cursor() as cursor:
        for event in events:
            if event.kind is EventKind.TIMER:
                await cursor.execute(_DROP_TIMERS, (event.execution_id,))
        rows = [
            (
                event.execution_id,
                event.kind.value,
                encode_event(event),
                event.available_at.isoformat() if event.available_at is not None else None,
            )
            for event in events
        ]
        await cursor.execute(_INSERT_EVENTS, (_EVENT_ROWS.encode(rows),))
    await db.execute(_NOTIFY, (_EVENTS, [""]))


def _reported(
    results: Sequence[tuple[JobTicket, WorkerResult]], with_metrics: bool
) -> tuple[list[tuple[JobTicket, WorkerResult]], list[tuple[int, MetricEntry]]]:
    """Return the results to queue, a job reported twice in one batch only with its first, and
    the metrics to store with them (each with the attempt that reported it): when the report
    stores the metrics, the results are queued without them."""
    first: dict[tuple[str, int], tuple[JobTicket, WorkerResult]] = {}
    for ticket, result in results:
        first.setdefault((ticket.task_run_id, ticket.attempt), (ticket, result))
    if not with_metrics:
        return list(first.values()), []
    measured = [(t.attempt, entry) for t, result in first.values() for entry in result.metrics]
    bare = [
        (t, replace(result, metrics=()) if result.metrics else result)
        for t, result in first.values()
    ]
    return bare, measured


def _result_rows(results: Sequence[tuple[JobTicket, WorkerResult]]) -> list[tuple[Any, ...]]:
    """The rows of `_REPORT_ROWS` for results, one per job (see `_reported`)."""
    return [
        (
            ticket.execution_id,
            encode_event(ExecutorEvent(EventKind.RESULT, ticket.execution_id, result=result)),
            ticket.task_run_id,
            ticket.attempt,
        )
        for ticket, result in results
    ]


async def _release(db: Db, worker_id: str, tickets: Sequence[JobTicket]) -> list[bool]:
    """Release jobs a worker holds, in one statement; say, for each, whether it held it."""
    released = await db.execute(_RELEASE, (worker_id, *_job_keys(tickets)))
    return _held(tickets, await released.fetchall())


def _job_keys(tickets: Sequence[JobTicket]) -> tuple[list[str], list[int]]:
    """The task run ids and the attempts of jobs: the arrays `_RELEASE` and `_QUEUED` unnest."""
    return [ticket.task_run_id for ticket in tickets], [ticket.attempt for ticket in tickets]


def _held(tickets: Sequence[JobTicket], released: Sequence[tuple[Any, ...]]) -> list[bool]:
    """Say, for each ticket, whether its job was among the `(task_run_id, attempt)` released."""
    held = {(run, attempt) for run, attempt in released}
    flags = []
    for ticket in tickets:
        key = (ticket.task_run_id, ticket.attempt)
        flags.append(key in held)
        held.discard(key)  # a ticket given twice was held once, as releasing one by one says
    return flags


def _lost(ticket: JobTicket) -> ExecutorEvent:
    return ExecutorEvent(EventKind.LOST, ticket.execution_id, ticket=ticket)


def _ticket_row(ticket: JobTicket) -> tuple[Any, ...]:
    final = ticket.final_state.value if ticket.final_state else None
    return (ticket.execution_id, ticket.task_run_id, ticket.flow_revision, ticket.attempt, final)


def _ticket_of(row: Sequence[Any]) -> JobTicket:
    execution_id, task_run_id, revision, attempt, final = row
    return JobTicket(execution_id, task_run_id, revision, attempt, State(final) if final else None)
