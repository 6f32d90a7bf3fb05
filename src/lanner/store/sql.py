"""What the SQL backends (SQLite, PostgreSQL) share: rows and WHERE clauses.

Both keep the same columns with the same meaning, so a record becomes the same row on either;
only placeholders (`?` for SQLite, `%s` for psycopg) and a few functions differ.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol

from lanner.executions import Execution, Level, LogEntry, TaskRun
from lanner.metrics import MetricEntry
from lanner.states import State
from lanner.store import codec
from lanner.store.base import FlowRecord, LogTail

__all__ = [
    "Connection",
    "Cursor",
    "Transaction",
    "Where",
    "execution_row",
    "flow_record",
    "log_filters",
    "log_row",
    "log_tail",
    "logs_after_query",
    "metric_row",
    "task_run_rows",
]


class Cursor(Protocol):
    """The part of a DB-API cursor the synchronous SQL code reads."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Connection(Protocol):
    """A connection that runs one statement with `?` placeholders (sqlite3's shape)."""

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Cursor: ...


Transaction = Callable[[str], AbstractContextManager[Connection]]
"""Opens a transaction described by `what` (for error messages) and yields the connection."""


class Where:
    """A WHERE clause built from optional filters, with its parameters in order.

    `mark` is the driver's placeholder; clauses given to `add()` use it too.
    """

    def __init__(self, mark: str = "?") -> None:
        self.mark = mark
        self.clauses: list[str] = []
        self.params: list[Any] = []

    @property
    def clause(self) -> str:
        return f" WHERE {' AND '.join(self.clauses)}" if self.clauses else ""

    @property
    def tail(self) -> str:
        """Return the conditions to append to a WHERE clause that is already there."""
        return "".join(f" AND {clause}" for clause in self.clauses)

    def add(self, clause: str, *params: Any) -> None:
        self.clauses.append(clause)
        self.params.extend(params)

    def equals(self, column: str, value: str | int | None) -> None:
        if value is not None:
            self.add(f"{column} = {self.mark}", value)

    def namespace(self, namespace: str | None) -> None:
        # A range rather than LIKE: exact (LIKE ignores case and treats `_` as a wildcard)
        # and able to use an index. Every "ns.*" sorts between "ns." and "ns/" in byte order.
        if namespace is not None:
            mark = self.mark
            clause = f"(namespace = {mark} OR (namespace >= {mark} AND namespace < {mark}))"
            self.add(clause, namespace, f"{namespace}.", f"{namespace}/")

    def states(self, states: Sequence[State]) -> None:
        if not states:
            self.add("1 = 0")  # PostgreSQL refuses an empty IN (); nothing matches
            return
        marks = ", ".join(self.mark for _ in states)
        self.add(f"state IN ({marks})", *(state.value for state in states))

    def labels(self, labels: Mapping[str, str]) -> None:
        for key, value in labels.items():
            clause = (
                "id IN (SELECT execution_id FROM execution_labels"
                f" WHERE key = {self.mark} AND value = {self.mark})"
            )
            self.add(clause, key, value)

    def between(self, column: str, low: datetime | None, high: datetime | None) -> None:
        """Bound a date column, both ends included."""
        if low is not None:
            self.add(f"{column} >= {self.mark}", codec.to_micros(low))
        if high is not None:
            self.add(f"{column} <= {self.mark}", codec.to_micros(high))

    def min_level(self, level: Level | None) -> None:
        if level is not None:
            self.add(f"level >= {self.mark}", int(level))


def log_filters(
    where: Where,
    execution_id: str,
    min_level: Level | None,
    task_id: str | None,
    task_run_id: str | None,
    attempt: int | None,
) -> Where:
    """Add the filters of `Store.get_logs` to `where`; return it."""
    where.equals("execution_id", execution_id)
    where.min_level(min_level)
    where.equals("task_id", task_id)
    where.equals("task_run_id", task_run_id)
    where.equals("attempt_number", attempt)
    return where


def flow_record(row: Sequence[Any]) -> FlowRecord:
    """Read (namespace, flow_id, revision, source, deleted, updated)."""
    namespace, flow_id, revision, source, deleted, updated = row
    return FlowRecord(
        namespace, flow_id, revision, source, bool(deleted), codec.from_micros(updated)
    )


def execution_row(execution: Execution) -> tuple[Any, ...]:
    """Return (id, namespace, flow_id, state, start_date, end_date, labels, value)."""
    trail = execution.state
    end = trail.end_date
    return (
        execution.id,
        execution.namespace,
        execution.flow_id,
        trail.current.value,
        codec.to_micros(trail.start_date),
        codec.to_micros(end) if end is not None else None,
        codec.encode_labels(execution),
        codec.encode_execution(execution),
    )


def task_run_rows(
    execution: Execution, task_runs: Sequence[TaskRun] | None
) -> list[tuple[Any, ...]]:
    """Return (id, execution_id, seq, due_at, value) rows of what `save_execution` writes."""
    if task_runs is None:
        runs: Iterable[tuple[int, TaskRun]] = enumerate(execution.task_runs)
    else:
        runs = _positioned(execution, task_runs)
    return [
        (run.id, execution.id, seq, run.due_at, codec.encode_task_run(run)) for seq, run in runs
    ]


def _positioned(execution: Execution, task_runs: Sequence[TaskRun]) -> list[tuple[int, TaskRun]]:
    """Pair each task run with its position in the execution (after them all if absent).

    The search starts from the end, where new and running task runs are, and stops once
    every one is found: saving a result of a wide loop does not walk all of its task runs.
    """
    wanted = {run.id for run in task_runs}
    positions: dict[str, int] = {}
    runs = execution.task_runs
    for index in range(len(runs) - 1, -1, -1):
        if len(positions) == len(wanted):
            break
        run_id = runs[index].id
        if run_id in wanted:
            positions[run_id] = index
    end = len(runs)
    return [(positions.get(run.id, end + offset), run) for offset, run in enumerate(task_runs)]


def log_row(entry: LogEntry) -> tuple[Any, ...]:
    """Return the row of the `logs` table, in its column order (without `seq`)."""
    return (
        entry.execution_id,
        entry.namespace,
        entry.flow_id,
        entry.task_id,
        entry.task_run_id,
        entry.attempt_number,
        int(entry.level),
        codec.to_micros(entry.timestamp),
        codec.encode_log(entry),
    )


def metric_row(entry: MetricEntry) -> tuple[Any, ...]:
    """Return the row of the `metrics` table, in its column order (without `seq`)."""
    return (
        entry.namespace,
        entry.flow_id,
        entry.execution_id,
        entry.task_id,
        entry.task_run_id,
        entry.name,
        codec.to_micros(entry.timestamp),
        codec.encode_metric(entry),
    )


def logs_after_query(mark: str) -> str:
    """Return the SELECT of `Store.logs_after`: (seq, value) rows, given (execution_id, seq).

    `seq` is the position: it grows with each line appended. Both schemas index the lines by
    execution, then `seq` (migration 0006), so only the new lines are read.
    """
    return f"SELECT seq, value FROM logs WHERE execution_id = {mark} AND seq > {mark} ORDER BY seq"


def log_tail(rows: Sequence[Sequence[Any]], position: int) -> LogTail:
    """Decode the (seq, value) rows read after `position`."""
    entries = [codec.decode_log(value) for _, value in rows]
    return LogTail(entries, int(rows[-1][0]) if rows else position)
