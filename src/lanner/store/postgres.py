"""A store in PostgreSQL: what several lanner processes share when they scale out.

The store's methods run on a pool of async psycopg connections; the KV store, which must
answer synchronously, has a small pool of its own (`postgres_kv`). The schema is created and
upgraded on open, under an advisory lock, so processes starting together take turns. Tables
and columns are SQLite's, with the same meaning (`migrations/postgres` mirrors
`migrations/sqlite` file for file).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from lanner.clock import utcnow
from lanner.exceptions import StoreError
from lanner.executions import Execution, Level, LogEntry, TaskRun
from lanner.metrics import MetricEntry
from lanner.settings import DEFAULT_DATABASE_POOL_SIZE, DEFAULT_KV_POOL_SIZE
from lanner.states import State
from lanner.store import codec, postgres_logs, postgres_metrics, postgres_triggers
from lanner.store.base import FlowRecord, LogTail, Page, Store
from lanner.store.kv import KVStore
from lanner.store.postgres_kv import PostgresKV
from lanner.store.postgres_schema import (
    Db,
    JsonRows,
    migrate,
    redact,
    statement,
    transaction,
)
from lanner.store.sql import (
    Where,
    execution_row,
    flow_record,
    log_filters,
    log_tail,
    logs_after_query,
    task_run_rows,
)
from lanner.store.triggers import TriggerState, encode_state

__all__ = ["PostgresStore"]

_MAX_BIGINT = 2**63
# Savers of one flow take turns on this lock, so each gets the next revision number.
_FLOW_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))"

_FLOW = "SELECT namespace, flow_id, revision, source, deleted, updated FROM flows"
_LAST_FLOW = f"{_FLOW} WHERE namespace = %s AND flow_id = %s ORDER BY revision DESC LIMIT 1"
_FLOW_REVISION = f"{_FLOW} WHERE namespace = %s AND flow_id = %s AND revision = %s"
_FLOW_REVISIONS = f"{_FLOW} WHERE namespace = %s AND flow_id = %s ORDER BY revision"
_INSERT_FLOW = (
    "INSERT INTO flows (namespace, flow_id, revision, source, deleted, updated)"
    " VALUES (%s, %s, %s, %s, %s, %s)"
)
_LATEST_FLOWS = (
    "FROM flows AS f WHERE NOT deleted AND revision ="
    " (SELECT MAX(revision) FROM flows WHERE namespace = f.namespace AND flow_id = f.flow_id)"
)

_UPSERT_EXECUTION = """
INSERT INTO executions (id, namespace, flow_id, state, start_date, end_date, labels, value)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (id) DO UPDATE SET
    namespace = excluded.namespace, flow_id = excluded.flow_id, state = excluded.state,
    start_date = excluded.start_date, end_date = excluded.end_date,
    labels = excluded.labels, value = excluded.value
RETURNING xmin::text
"""
# A task run keeps the position it was first saved at.
_TASK_RUN_ROWS = JsonRows("task_runs", ("id", "execution_id", "seq", "due_at", "value"))
_UPSERT_TASK_RUNS = (
    f"INSERT INTO task_runs ({', '.join(_TASK_RUN_ROWS.names)}) {_TASK_RUN_ROWS.select()}"
    " ON CONFLICT (id) DO UPDATE SET due_at = excluded.due_at, value = excluded.value"
)
# A step of an execution in one statement, run on its own (no BEGIN or COMMIT to send): its
# metrics, its row (whose stamp comes back), its changed task runs, and its log lines, numbered
# once the execution's log lock is held (see postgres_logs).
_SAVE_STEP = f"""
WITH log_locks AS ({postgres_logs.LOCKS}),
measured AS ({postgres_metrics.INSERT}),
saved AS ({_UPSERT_EXECUTION.strip()}),
runs AS ({_UPSERT_TASK_RUNS}),
lines AS ({postgres_logs.insert_once_locked("log_locks")})
SELECT * FROM saved
"""
_TASK_RUNS_OF = (
    "SELECT execution_id, due_at, value FROM task_runs"
    " WHERE execution_id = ANY(%s) ORDER BY seq, row_order"
)
_LOGS_AFTER = logs_after_query("%s")


def ascii_lower(sql: str) -> str:
    """Lower-case ASCII letters only, like SQLite's lower(): PostgreSQL's follows the locale."""
    return f"translate({sql}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"


def json_field(name: str) -> str:
    """Return the text of a top-level field of the JSON in `value`.

    PostgreSQL cannot turn the escape of a NUL character into text, and one such line would
    fail the whole query; it is read as U+0001 instead (no search looks for either).
    """
    return rf"(replace(value, '\u0000', '\u0001')::json ->> '{name}')"


class PostgresStore(Store):
    """Keep everything in a PostgreSQL database."""

    def __init__(self, pool: AsyncConnectionPool, kv: PostgresKV, url: str) -> None:
        """Use open pools; `PostgresStore.open()` makes them and migrates the schema."""
        self._pool = pool
        self._kv = kv
        self.url = redact(url)
        self.kv: KVStore = kv

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        pool_size: int = DEFAULT_DATABASE_POOL_SIZE,
        kv_pool_size: int = DEFAULT_KV_POOL_SIZE,
    ) -> PostgresStore:
        """Connect to the database at `url` and bring its schema up to date.

        The store opens up to `pool_size` connections, its KV store up to `kv_pool_size` more.
        """
        shown = redact(url)
        await migrate(url)
        pool = AsyncConnectionPool(
            url, min_size=1, max_size=pool_size, open=False, name="lanner-store"
        )
        try:
            await pool.open(wait=True, timeout=30)
        except psycopg.Error as exc:
            await pool.close()
            raise StoreError(f"Unable to open the database {shown}: {exc}") from exc
        try:
            kv = PostgresKV.open(url, shown, kv_pool_size)
        except BaseException:
            await pool.close()
            raise
        return cls(pool, kv, url)

    # -- flows ------------------------------------------------------------------------------

    async def save_flow(
        self, namespace: str, flow_id: str, source: str, *, deleted: bool = False
    ) -> FlowRecord:
        async with self._transaction(f"save flow {namespace}.{flow_id}") as db:
            await db.execute(_FLOW_LOCK, (f"flow\x1f{namespace}\x1f{flow_id}",))
            row = await (await db.execute(_LAST_FLOW, (namespace, flow_id))).fetchone()
            last = flow_record(row) if row is not None else None
            if last is not None and last.source == source and last.deleted == deleted:
                return last
            revision = last.revision + 1 if last is not None else 1
            updated = codec.to_micros(utcnow())
            await db.execute(_INSERT_FLOW, (namespace, flow_id, revision, source, deleted, updated))
        return FlowRecord(namespace, flow_id, revision, source, deleted, codec.from_micros(updated))

    async def get_flow(
        self,
        namespace: str,
        flow_id: str,
        revision: int | None = None,
        *,
        allow_deleted: bool = False,
    ) -> FlowRecord | None:
        if revision is not None and not 0 < revision < _MAX_BIGINT:
            return None  # no such revision can be stored; PostgreSQL would refuse the number
        async with self._transaction(f"read flow {namespace}.{flow_id}") as db:
            if revision is None:
                found = await db.execute(_LAST_FLOW, (namespace, flow_id))
            else:
                found = await db.execute(_FLOW_REVISION, (namespace, flow_id, revision))
            row = await found.fetchone()
        record = flow_record(row) if row is not None else None
        if record is None or (record.deleted and not allow_deleted):
            return None
        return record

    async def flow_revisions(self, namespace: str, flow_id: str) -> list[FlowRecord]:
        async with self._transaction(f"read flow {namespace}.{flow_id}") as db:
            rows = await (await db.execute(_FLOW_REVISIONS, (namespace, flow_id))).fetchall()
        return [flow_record(row) for row in rows]

    async def search_flows(
        self,
        *,
        namespace: str | None = None,
        query: str | None = None,
        page: int = 1,
        size: int = 10,
    ) -> Page[FlowRecord]:
        offset, limit = codec.page_window(page, size)
        where = Where("%s")
        where.namespace(namespace)
        if query is not None:
            needle = codec.ascii_lower(query)
            where.add(
                f"(strpos({ascii_lower('flow_id')}, %s) > 0"
                f" OR strpos({ascii_lower('namespace')}, %s) > 0)",
                needle,
                needle,
            )
        columns = "namespace, flow_id, revision, source, deleted, updated"
        async with self._snapshot("search flows") as db:
            count = await _count(db, f"SELECT COUNT(*) {_LATEST_FLOWS}{where.tail}", where.params)
            found = await db.execute(
                f"SELECT {columns} {_LATEST_FLOWS}{where.tail}"
                " ORDER BY namespace, flow_id LIMIT %s OFFSET %s",
                [*where.params, limit, offset],
            )
            rows = await found.fetchall()
        return Page([flow_record(row) for row in rows], count)

    # -- executions -------------------------------------------------------------------------

    async def save_execution(
        self, execution: Execution, task_runs: Sequence[TaskRun] | None = None
    ) -> str | None:
        # Serialise first: a value that cannot be stored fails before anything is written.
        row = execution_row(execution)
        runs = task_run_rows(execution, task_runs)
        async with self._transaction(f"save execution '{execution.id}'") as db:
            return await _save_execution(db, execution.id, row, runs, whole=task_runs is None)

    async def save_step(
        self,
        execution: Execution,
        task_runs: Sequence[TaskRun] | None,
        logs: Sequence[LogEntry],
        metrics: Sequence[MetricEntry],
    ) -> str | None:
        row = execution_row(execution)
        runs = task_run_rows(execution, task_runs)
        if task_runs is None:  # the whole execution: its task runs are replaced
            async with self._transaction(f"save execution '{execution.id}'") as db:
                await postgres_metrics.append(db, metrics)
                stamp = await _save_execution(db, execution.id, row, runs, whole=True)
                # Last: the lines' lock is held from here to the commit only.
                await postgres_logs.append(db, logs)
            return stamp
        logged_executions, lines = postgres_logs.parameters(logs)
        parameters = (
            logged_executions,
            postgres_metrics.encoded_rows(metrics),
            *row,
            _TASK_RUN_ROWS.encode(_latest(runs)),
            lines,
        )
        async with statement(self._pool, f"save execution '{execution.id}'") as db:
            saved = await (await db.execute(_SAVE_STEP, parameters)).fetchone()
        stamp = saved[0] if saved is not None else None
        return stamp if isinstance(stamp, str) else None

    async def execution_stamp(self, execution_id: str) -> str | None:
        # The row's xmin: the id of the transaction that last wrote it, which every write of
        # the execution changes (each save rewrites its row). One statement: no transaction
        # to open and close around it (the executor reads this before every decision).
        async with statement(self._pool, f"read execution '{execution_id}'") as db:
            found = await db.execute(
                "SELECT xmin::text FROM executions WHERE id = %s", (execution_id,)
            )
            row = await found.fetchone()
        return None if row is None else str(row[0])

    async def get_execution(self, execution_id: str) -> Execution | None:
        async with self._snapshot(f"read execution '{execution_id}'") as db:
            found = await db.execute(
                "SELECT id, value FROM executions WHERE id = %s", (execution_id,)
            )
            executions = await _with_task_runs(db, await found.fetchall())
        return executions[0] if executions else None

    async def search_executions(
        self,
        *,
        namespace: str | None = None,
        flow_id: str | None = None,
        states: Sequence[State] | None = None,
        labels: Mapping[str, str] | None = None,
        start_after: datetime | None = None,
        start_before: datetime | None = None,
        page: int = 1,
        size: int = 10,
        sort_desc: bool = True,
    ) -> Page[Execution]:
        offset, limit = codec.page_window(page, size)
        where = Where("%s")
        where.namespace(namespace)
        where.equals("flow_id", flow_id)
        if states is not None:
            where.states(states)
        where.labels(labels or {})
        where.between("start_date", start_after, start_before)
        order = "DESC" if sort_desc else "ASC"
        async with self._snapshot("search executions") as db:
            count = await _count(db, f"SELECT COUNT(*) FROM executions{where.clause}", where.params)
            found = await db.execute(
                f"SELECT id, value FROM executions{where.clause}"
                f" ORDER BY start_date {order}, row_order {order} LIMIT %s OFFSET %s",
                [*where.params, limit, offset],
            )
            return Page(await _with_task_runs(db, await found.fetchall()), count)

    async def executions_in_states(self, states: Sequence[State]) -> list[Execution]:
        where = Where("%s")
        where.states(states)
        async with self._snapshot("read executions") as db:
            found = await db.execute(
                f"SELECT id, value FROM executions{where.clause} ORDER BY start_date, row_order",
                where.params,
            )
            return await _with_task_runs(db, await found.fetchall())

    async def execution_states(self, execution_ids: Sequence[str]) -> dict[str, State]:
        if not execution_ids:
            return {}
        async with self._transaction("read execution states") as db:
            found = await db.execute(
                "SELECT id, state FROM executions WHERE id = ANY(%s)", (list(execution_ids),)
            )
            rows = await found.fetchall()
        return {execution_id: State(state) for execution_id, state in rows}

    async def delete_execution(
        self, execution_id: str, *, keep_logs: bool = False, keep_metrics: bool = False
    ) -> bool:
        # Task runs and labels follow through their foreign keys; logs have none.
        async with self._transaction(f"delete execution '{execution_id}'") as db:
            deleted = await db.execute("DELETE FROM executions WHERE id = %s", (execution_id,))
            if not keep_logs:
                await db.execute("DELETE FROM logs WHERE execution_id = %s", (execution_id,))
            if not keep_metrics:
                await postgres_metrics.delete_for_execution(db, execution_id)
        return deleted.rowcount > 0

    # -- logs -------------------------------------------------------------------------------

    async def append_logs(self, entries: Sequence[LogEntry]) -> None:
        if not entries:
            return
        async with self._transaction("append logs") as db:
            await postgres_logs.append(db, entries)

    async def get_logs(
        self,
        execution_id: str,
        *,
        min_level: Level | None = None,
        task_id: str | None = None,
        task_run_id: str | None = None,
        attempt: int | None = None,
    ) -> list[LogEntry]:
        texts = await self.get_logs_json(
            execution_id,
            min_level=min_level,
            task_id=task_id,
            task_run_id=task_run_id,
            attempt=attempt,
        )
        return [codec.decode_log(text) for text in texts]

    async def get_logs_json(
        self,
        execution_id: str,
        *,
        min_level: Level | None = None,
        task_id: str | None = None,
        task_run_id: str | None = None,
        attempt: int | None = None,
    ) -> list[str]:
        where = log_filters(Where("%s"), execution_id, min_level, task_id, task_run_id, attempt)
        async with self._transaction(f"read the logs of execution '{execution_id}'") as db:
            found = await db.execute(
                f"SELECT value FROM logs{where.clause} ORDER BY seq", where.params
            )
            return [value for (value,) in await found.fetchall()]

    async def logs_after(self, execution_id: str, position: int = 0) -> LogTail:
        async with self._transaction(f"read the logs of execution '{execution_id}'") as db:
            found = await db.execute(_LOGS_AFTER, (execution_id, position))
            rows = await found.fetchall()
        return log_tail(rows, position)

    async def search_logs(
        self,
        *,
        namespace: str | None = None,
        flow_id: str | None = None,
        min_level: Level | None = None,
        query: str | None = None,
        after: datetime | None = None,
        before: datetime | None = None,
        page: int = 1,
        size: int = 10,
    ) -> Page[LogEntry]:
        offset, limit = codec.page_window(page, size)
        where = Where("%s")
        where.namespace(namespace)
        where.equals("flow_id", flow_id)
        where.min_level(min_level)
        where.between("timestamp", after, before)
        if query is not None:
            message = ascii_lower(json_field("message"))
            where.add(f"strpos({message}, %s) > 0", codec.ascii_lower(query))
        async with self._snapshot("search logs") as db:
            count = await _count(db, f"SELECT COUNT(*) FROM logs{where.clause}", where.params)
            found = await db.execute(
                f"SELECT value FROM logs{where.clause}"
                " ORDER BY timestamp DESC, seq DESC LIMIT %s OFFSET %s",
                [*where.params, limit, offset],
            )
            rows = await found.fetchall()
        return Page([codec.decode_log(value) for (value,) in rows], count)

    async def delete_logs(self, execution_id: str) -> int:
        async with self._transaction(f"delete the logs of execution '{execution_id}'") as db:
            deleted = await db.execute("DELETE FROM logs WHERE execution_id = %s", (execution_id,))
        return deleted.rowcount

    async def delete_flow_logs(
        self, namespace: str, flow_id: str, *, trigger_id: str | None = None
    ) -> int:
        where = Where("%s")
        where.equals("namespace", namespace)
        where.equals("flow_id", flow_id)
        where.equals(json_field("triggerId"), trigger_id)
        async with self._transaction(f"delete the logs of flow {namespace}.{flow_id}") as db:
            deleted = await db.execute(f"DELETE FROM logs{where.clause}", where.params)
        return deleted.rowcount

    # -- metrics ----------------------------------------------------------------------------

    async def append_metrics(self, entries: Sequence[MetricEntry]) -> None:
        if entries:
            async with self._transaction("append metrics") as db:
                await postgres_metrics.append(db, entries)

    async def get_metrics(
        self,
        execution_id: str,
        *,
        task_id: str | None = None,
        task_run_id: str | None = None,
        page: int = 1,
        size: int = 10,
    ) -> Page[MetricEntry]:
        async with self._snapshot(f"read the metrics of execution '{execution_id}'") as db:
            found = await postgres_metrics.for_execution(
                db, execution_id, task_id, task_run_id, page, size
            )
        return Page(*found)

    async def metric_names(
        self, namespace: str, flow_id: str, task_id: str | None = None
    ) -> list[str]:
        async with self._transaction(f"read the metric names of flow {namespace}.{flow_id}") as db:
            return await postgres_metrics.names(db, namespace, flow_id, task_id)

    async def tasks_with_metrics(self, namespace: str, flow_id: str) -> list[str]:
        what = f"read the tasks with metrics of flow {namespace}.{flow_id}"
        async with self._transaction(what) as db:
            return await postgres_metrics.tasks(db, namespace, flow_id)

    async def flow_metrics(
        self,
        namespace: str,
        flow_id: str,
        name: str,
        *,
        task_id: str | None = None,
        start: datetime,
        end: datetime,
    ) -> list[MetricEntry]:
        async with self._transaction(f"read metric '{name}' of flow {namespace}.{flow_id}") as db:
            return await postgres_metrics.for_flow(
                db, namespace, flow_id, name, task_id, start, end
            )

    # -- trigger states ---------------------------------------------------------------------

    async def get_trigger_state(
        self, namespace: str, flow_id: str, trigger_id: str
    ) -> TriggerState | None:
        async with self._transaction(f"read trigger {namespace}.{flow_id}.{trigger_id}") as db:
            return await postgres_triggers.get_state(db, namespace, flow_id, trigger_id)

    async def save_trigger_state(self, state: TriggerState) -> None:
        value = encode_state(state)
        async with self._transaction(f"save trigger {'.'.join(state.key)}") as db:
            await postgres_triggers.save_state(db, state, value)

    async def list_trigger_states(
        self, *, namespace: str | None = None, flow_id: str | None = None
    ) -> list[TriggerState]:
        async with self._transaction("read trigger states") as db:
            return await postgres_triggers.list_states(db, namespace, flow_id)

    async def delete_trigger_state(self, namespace: str, flow_id: str, trigger_id: str) -> bool:
        async with self._transaction(f"delete trigger {namespace}.{flow_id}.{trigger_id}") as db:
            return await postgres_triggers.delete_state(db, namespace, flow_id, trigger_id)

    async def close(self) -> None:
        self._kv.close()
        await self._pool.close()

    # -- transactions -----------------------------------------------------------------------

    def _transaction(self, what: str) -> AbstractAsyncContextManager[Db]:
        return transaction(self._pool, what)

    def _snapshot(self, what: str) -> AbstractAsyncContextManager[Db]:
        return transaction(self._pool, what, snapshot=True)


async def _count(db: Db, sql: str, params: Sequence[Any]) -> int:
    row = await (await db.execute(sql, params)).fetchone()
    return int(row[0]) if row is not None else 0


async def _with_task_runs(db: Db, rows: Sequence[Sequence[Any]]) -> list[Execution]:
    """Decode execution rows (id, value) with their task runs, read in one query."""
    if not rows:
        return []
    runs: dict[str, list[TaskRun]] = {execution_id: [] for execution_id, _ in rows}
    found = await db.execute(_TASK_RUNS_OF, (list(runs),))
    for execution_id, due_at, value in await found.fetchall():
        runs[execution_id].append(codec.decode_task_run(value, due_at))
    return [codec.decode_execution(value, runs[execution_id]) for execution_id, value in rows]


async def _save_execution(
    db: Db,
    execution_id: str,
    row: tuple[Any, ...],
    runs: list[tuple[Any, ...]],
    *,
    whole: bool,
) -> str | None:
    """Write an execution's row and task runs in the transaction of `db`; return its stamp."""
    saved = await db.execute(_UPSERT_EXECUTION, row)
    (stamp,) = await saved.fetchone() or (None,)
    if whole:
        await db.execute("DELETE FROM task_runs WHERE execution_id = %s", (execution_id,))
    if runs:
        await db.execute(_UPSERT_TASK_RUNS, (_TASK_RUN_ROWS.encode(_latest(runs)),))
    return stamp if isinstance(stamp, str) else None


def _latest(runs: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """One row per task run id, the last one given: one statement may not update a row twice."""
    return list({row[0]: row for row in runs}.values())
