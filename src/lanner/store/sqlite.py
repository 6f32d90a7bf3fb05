"""A store in one SQLite file: the default backend on one machine.

One connection per store, in WAL mode: readers (another `lanner` command, say) never block the
writer, and `synchronous=NORMAL` keeps commits off the disk's flush path while a committed
transaction still survives the process being killed. Statements run synchronously inside the
async methods on purpose: each takes well under a millisecond, less than a hop to a thread
would cost. A store therefore belongs to one event loop.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Any

from lanner.clock import utcnow
from lanner.exceptions import StoreError
from lanner.executions import Execution, Level, LogEntry, TaskRun
from lanner.metrics import MetricEntry
from lanner.states import State
from lanner.store import codec, sqlite_metrics, sqlite_triggers
from lanner.store.base import FlowRecord, LogTail, Page, Store
from lanner.store.kv import KVStore
from lanner.store.sql import (
    Where,
    execution_row,
    flow_record,
    log_filters,
    log_row,
    log_tail,
    logs_after_query,
    task_run_rows,
)
from lanner.store.sql_kv import SqlKV
from lanner.store.sqlite_schema import configure, migrate, transaction
from lanner.store.triggers import TriggerState, encode_state

__all__ = ["SqliteStore"]

_SQLITE_MAX_INT = 2**63

_FLOW = "SELECT namespace, flow_id, revision, source, deleted, updated FROM flows"
_LAST_FLOW = f"{_FLOW} WHERE namespace = ? AND flow_id = ? ORDER BY revision DESC LIMIT 1"
_FLOW_REVISION = f"{_FLOW} WHERE namespace = ? AND flow_id = ? AND revision = ?"
_FLOW_REVISIONS = f"{_FLOW} WHERE namespace = ? AND flow_id = ? ORDER BY revision"
_INSERT_FLOW = (
    "INSERT INTO flows (namespace, flow_id, revision, source, deleted, updated)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
_LATEST_FLOWS = (
    "FROM flows AS f WHERE deleted = 0 AND revision ="
    " (SELECT MAX(revision) FROM flows WHERE namespace = f.namespace AND flow_id = f.flow_id)"
)

_UPSERT_EXECUTION = """
INSERT INTO executions (id, namespace, flow_id, state, start_date, end_date, labels, value)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
    namespace = excluded.namespace, flow_id = excluded.flow_id, state = excluded.state,
    start_date = excluded.start_date, end_date = excluded.end_date,
    labels = excluded.labels, value = excluded.value
"""
# A task run keeps the position it was first saved at.
_UPSERT_TASK_RUN = """
INSERT INTO task_runs (id, execution_id, seq, due_at, value) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET due_at = excluded.due_at, value = excluded.value
"""
_TASK_RUNS_OF = (
    "SELECT execution_id, due_at, value FROM task_runs"
    " WHERE execution_id IN (SELECT value FROM json_each(?)) ORDER BY seq, rowid"
)

_INSERT_LOG = """
INSERT INTO logs (execution_id, namespace, flow_id, task_id, task_run_id, attempt_number,
                  level, timestamp, value)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
_LOGS_AFTER = logs_after_query("?")


class SqliteStore(Store):
    """Keep everything in one SQLite database file."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        """Wrap an open, migrated connection; use `SqliteStore.open()` to get one."""
        self._db = connection
        self.path = path
        self.kv: KVStore = SqlKV(self._read, self._write)

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> SqliteStore:
        """Open (or create) the database at `path` and bring its schema up to date."""
        file = Path(path).expanduser()
        file.parent.mkdir(parents=True, exist_ok=True)
        try:
            connection = sqlite3.connect(file, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreError(f"Unable to open the database {file}: {exc}") from exc
        try:
            configure(connection)
            migrate(connection, file)
        except BaseException:
            connection.close()
            raise
        return cls(connection, file)

    # -- flows ------------------------------------------------------------------------------

    async def save_flow(
        self, namespace: str, flow_id: str, source: str, *, deleted: bool = False
    ) -> FlowRecord:
        with self._write(f"save flow {namespace}.{flow_id}") as db:
            row = db.execute(_LAST_FLOW, (namespace, flow_id)).fetchone()
            last = flow_record(row) if row is not None else None
            if last is not None and last.source == source and last.deleted == deleted:
                return last
            revision = last.revision + 1 if last is not None else 1
            updated = codec.to_micros(utcnow())
            db.execute(_INSERT_FLOW, (namespace, flow_id, revision, source, deleted, updated))
        return FlowRecord(namespace, flow_id, revision, source, deleted, codec.from_micros(updated))

    async def get_flow(
        self,
        namespace: str,
        flow_id: str,
        revision: int | None = None,
        *,
        allow_deleted: bool = False,
    ) -> FlowRecord | None:
        if revision is not None and not 0 < revision < _SQLITE_MAX_INT:
            return None  # no such revision can be stored; SQLite would refuse the number
        with self._read(f"read flow {namespace}.{flow_id}") as db:
            if revision is None:
                row = db.execute(_LAST_FLOW, (namespace, flow_id)).fetchone()
            else:
                row = db.execute(_FLOW_REVISION, (namespace, flow_id, revision)).fetchone()
        record = flow_record(row) if row is not None else None
        if record is None or (record.deleted and not allow_deleted):
            return None
        return record

    async def flow_revisions(self, namespace: str, flow_id: str) -> list[FlowRecord]:
        with self._read(f"read flow {namespace}.{flow_id}") as db:
            rows = db.execute(_FLOW_REVISIONS, (namespace, flow_id)).fetchall()
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
        where = Where()
        where.namespace(namespace)
        if query is not None:
            needle = codec.ascii_lower(query)
            where.add("(instr(lower(flow_id), ?) > 0 OR instr(lower(namespace), ?) > 0)")
            where.params.extend((needle, needle))
        columns = "namespace, flow_id, revision, source, deleted, updated"
        with self._read("search flows") as db:
            total = db.execute(f"SELECT COUNT(*) {_LATEST_FLOWS}{where.tail}", where.params)
            count = total.fetchone()[0]
            rows = db.execute(
                f"SELECT {columns} {_LATEST_FLOWS}{where.tail}"
                " ORDER BY namespace, flow_id LIMIT ? OFFSET ?",
                [*where.params, limit, offset],
            ).fetchall()
        return Page([flow_record(row) for row in rows], count)

    # -- executions -------------------------------------------------------------------------

    async def save_execution(
        self, execution: Execution, task_runs: Sequence[TaskRun] | None = None
    ) -> str | None:
        # Serialise before taking the write lock: the lock is held for the SQL alone, and a
        # value that cannot be stored fails before anything is written.
        row = execution_row(execution)
        runs = task_run_rows(execution, task_runs)
        with self._write(f"save execution '{execution.id}'") as db:
            db.execute(_UPSERT_EXECUTION, row)
            if task_runs is None:
                db.execute("DELETE FROM task_runs WHERE execution_id = ?", (execution.id,))
            db.executemany(_UPSERT_TASK_RUN, runs)
        return None

    async def execution_stamp(self, execution_id: str) -> str | None:
        # One process drives a SQLite database's executions and keeps them itself: no stamps.
        return None

    async def get_execution(self, execution_id: str) -> Execution | None:
        with self._read(f"read execution '{execution_id}'") as db:
            rows = db.execute("SELECT id, value FROM executions WHERE id = ?", (execution_id,))
            found = _with_task_runs(db, rows.fetchall())
        return found[0] if found else None

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
        where = Where()
        where.namespace(namespace)
        where.equals("flow_id", flow_id)
        if states is not None:
            where.states(states)
        where.labels(labels or {})
        where.between("start_date", start_after, start_before)
        order = "DESC" if sort_desc else "ASC"
        with self._read("search executions") as db:
            total = db.execute(f"SELECT COUNT(*) FROM executions{where.clause}", where.params)
            count = total.fetchone()[0]
            rows = db.execute(
                f"SELECT id, value FROM executions{where.clause}"
                f" ORDER BY start_date {order}, rowid {order} LIMIT ? OFFSET ?",
                [*where.params, limit, offset],
            ).fetchall()
            return Page(_with_task_runs(db, rows), count)

    async def executions_in_states(self, states: Sequence[State]) -> list[Execution]:
        where = Where()
        where.states(states)
        with self._read("read executions") as db:
            rows = db.execute(
                f"SELECT id, value FROM executions{where.clause} ORDER BY start_date, rowid",
                where.params,
            ).fetchall()
            return _with_task_runs(db, rows)

    async def execution_states(self, execution_ids: Sequence[str]) -> dict[str, State]:
        if not execution_ids:
            return {}
        # One JSON parameter rather than one per id: SQLite bounds the number of parameters.
        with self._read("read execution states") as db:
            rows = db.execute(
                "SELECT id, state FROM executions WHERE id IN (SELECT value FROM json_each(?))",
                (json.dumps(list(execution_ids)),),
            ).fetchall()
        return {execution_id: State(state) for execution_id, state in rows}

    async def delete_execution(
        self, execution_id: str, *, keep_logs: bool = False, keep_metrics: bool = False
    ) -> bool:
        # Task runs and labels follow through their foreign keys; logs have none.
        with self._write(f"delete execution '{execution_id}'") as db:
            deleted = db.execute("DELETE FROM executions WHERE id = ?", (execution_id,))
            if not keep_logs:
                db.execute("DELETE FROM logs WHERE execution_id = ?", (execution_id,))
            if not keep_metrics:
                sqlite_metrics.delete_for_execution(db, execution_id)
        return deleted.rowcount > 0

    # -- logs -------------------------------------------------------------------------------

    async def append_logs(self, entries: Sequence[LogEntry]) -> None:
        if not entries:
            return
        rows = [log_row(entry) for entry in entries]
        with self._write("append logs") as db:
            db.executemany(_INSERT_LOG, rows)

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
        where = log_filters(Where(), execution_id, min_level, task_id, task_run_id, attempt)
        with self._read(f"read the logs of execution '{execution_id}'") as db:
            rows = db.execute(f"SELECT value FROM logs{where.clause} ORDER BY seq", where.params)
            return [value for (value,) in rows.fetchall()]

    async def logs_after(self, execution_id: str, position: int = 0) -> LogTail:
        # A single writer appends: rowids grow in the order lines are committed.
        with self._read(f"read the logs of execution '{execution_id}'") as db:
            rows = db.execute(_LOGS_AFTER, (execution_id, position)).fetchall()
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
        where = Where()
        where.namespace(namespace)
        where.equals("flow_id", flow_id)
        where.min_level(min_level)
        where.between("timestamp", after, before)
        if query is not None:
            message = "lower(json_extract(value, '$.message'))"
            where.add(f"instr({message}, ?) > 0", codec.ascii_lower(query))
        with self._read("search logs") as db:
            total = db.execute(f"SELECT COUNT(*) FROM logs{where.clause}", where.params)
            count = total.fetchone()[0]
            rows = db.execute(
                f"SELECT value FROM logs{where.clause}"
                " ORDER BY timestamp DESC, seq DESC LIMIT ? OFFSET ?",
                [*where.params, limit, offset],
            ).fetchall()
        return Page([codec.decode_log(value) for (value,) in rows], count)

    async def delete_logs(self, execution_id: str) -> int:
        with self._write(f"delete the logs of execution '{execution_id}'") as db:
            deleted = db.execute("DELETE FROM logs WHERE execution_id = ?", (execution_id,))
        return int(deleted.rowcount)

    async def delete_flow_logs(
        self, namespace: str, flow_id: str, *, trigger_id: str | None = None
    ) -> int:
        where = Where()
        where.equals("namespace", namespace)
        where.equals("flow_id", flow_id)
        where.equals("json_extract(value, '$.triggerId')", trigger_id)
        with self._write(f"delete the logs of flow {namespace}.{flow_id}") as db:
            deleted = db.execute(f"DELETE FROM logs{where.clause}", where.params)
        return int(deleted.rowcount)

    # -- metrics ----------------------------------------------------------------------------

    async def append_metrics(self, entries: Sequence[MetricEntry]) -> None:
        if entries:
            with self._write("append metrics") as db:
                sqlite_metrics.append(db, entries)

    async def get_metrics(
        self,
        execution_id: str,
        *,
        task_id: str | None = None,
        task_run_id: str | None = None,
        page: int = 1,
        size: int = 10,
    ) -> Page[MetricEntry]:
        with self._read(f"read the metrics of execution '{execution_id}'") as db:
            found = sqlite_metrics.for_execution(db, execution_id, task_id, task_run_id, page, size)
        return Page(*found)

    async def metric_names(
        self, namespace: str, flow_id: str, task_id: str | None = None
    ) -> list[str]:
        with self._read(f"read the metric names of flow {namespace}.{flow_id}") as db:
            return sqlite_metrics.names(db, namespace, flow_id, task_id)

    async def tasks_with_metrics(self, namespace: str, flow_id: str) -> list[str]:
        with self._read(f"read the tasks with metrics of flow {namespace}.{flow_id}") as db:
            return sqlite_metrics.tasks(db, namespace, flow_id)

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
        with self._read(f"read metric '{name}' of flow {namespace}.{flow_id}") as db:
            return sqlite_metrics.for_flow(db, namespace, flow_id, name, task_id, start, end)

    # -- trigger states ---------------------------------------------------------------------

    async def get_trigger_state(
        self, namespace: str, flow_id: str, trigger_id: str
    ) -> TriggerState | None:
        with self._read(f"read trigger {namespace}.{flow_id}.{trigger_id}") as db:
            return sqlite_triggers.get_state(db, namespace, flow_id, trigger_id)

    async def save_trigger_state(self, state: TriggerState) -> None:
        value = encode_state(state)
        with self._write(f"save trigger {'.'.join(state.key)}") as db:
            sqlite_triggers.save_state(db, state, value)

    async def list_trigger_states(
        self, *, namespace: str | None = None, flow_id: str | None = None
    ) -> list[TriggerState]:
        with self._read("read trigger states") as db:
            return sqlite_triggers.list_states(db, namespace, flow_id)

    async def delete_trigger_state(self, namespace: str, flow_id: str, trigger_id: str) -> bool:
        with self._write(f"delete trigger {namespace}.{flow_id}.{trigger_id}") as db:
            return sqlite_triggers.delete_state(db, namespace, flow_id, trigger_id)

    async def close(self) -> None:
        self._db.close()

    # -- transactions -----------------------------------------------------------------------

    def _write(self, what: str) -> AbstractContextManager[sqlite3.Connection]:
        # IMMEDIATE takes the write lock up front; a deferred transaction that later needs
        # it can fail with SQLITE_BUSY without waiting for `busy_timeout`.
        return transaction(self._db, "BEGIN IMMEDIATE", what)

    def _read(self, what: str) -> AbstractContextManager[sqlite3.Connection]:
        # Several SELECTs in one transaction see one snapshot of the database.
        return transaction(self._db, "BEGIN", what)


def _with_task_runs(db: sqlite3.Connection, rows: Sequence[Sequence[Any]]) -> list[Execution]:
    """Decode execution rows (id, value) with their task runs, read in one query."""
    if not rows:
        return []
    runs: dict[str, list[TaskRun]] = {execution_id: [] for execution_id, _ in rows}
    found = db.execute(_TASK_RUNS_OF, (json.dumps(list(runs)),))
    for execution_id, due_at, value in found.fetchall():
        runs[execution_id].append(codec.decode_task_run(value, due_at))
    return [codec.decode_execution(value, runs[execution_id]) for execution_id, value in rows]
