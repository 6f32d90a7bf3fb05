"""Log lines in PostgreSQL, table `logs` (migration 0001).

Shared by the store and by the queue: a worker reports its results and the log lines of those
task runs in one transaction (see `lanner.queue.postgres.PostgresQueue.finish_all`).
"""

from __future__ import annotations

from collections.abc import Sequence

from lanner.executions import LogEntry
from lanner.store.postgres_schema import Db, JsonRows
from lanner.store.sql import log_row

__all__ = ["LOCKS", "append", "insert_once_locked", "parameters"]

# Appenders of one execution's lines take turns on this lock, held until they commit, so `seq`
# grows in commit order within an execution: a reader that saw a line never finds an older
# one later (two workers could otherwise take seq 5 and 6 and commit 6 first). Seed 2 keeps
# it apart from the queue's claim of the same execution, which the executor holds meanwhile.
LOCKS = (
    "SELECT pg_advisory_xact_lock(hashtextextended(id, 2))"
    " FROM unnest(%s::text[]) WITH ORDINALITY AS ids(id, n) ORDER BY n"
)
"""Take the log locks of the executions in an array parameter, in its order (`parameters`)."""
_ROWS = JsonRows(
    "logs",
    (
        "execution_id",
        "namespace",
        "flow_id",
        "task_id",
        "task_run_id",
        "attempt_number",
        "level",
        "timestamp",
        "value",
    ),
)
_INTO = f"INSERT INTO logs ({', '.join(_ROWS.names)})"
_INSERT = f"{_INTO} {_ROWS.select()}"


def insert_once_locked(locks: str) -> str:
    """Return an INSERT of the lines for a statement whose CTE `locks` is `LOCKS`.

    Its one parameter is the rows of `parameters`. The lines get their `seq` only once every
    lock is held: the count of `locks` is a subquery PostgreSQL evaluates, once, before the
    first row.
    """
    return f"{_INTO} {_ROWS.select(where=f'(SELECT count(*) FROM {locks}) >= 0')}"


def parameters(entries: Sequence[LogEntry]) -> tuple[list[str], str]:
    """Return the executions of `entries` (the parameter of `LOCKS`) and their rows."""
    # In one order everywhere, so that appenders of several executions cannot deadlock.
    executions = sorted({entry.execution_id for entry in entries})
    return executions, _ROWS.encode([log_row(entry) for entry in entries])


async def append(db: Db, entries: Sequence[LogEntry]) -> None:
    """Insert log lines, holding their executions' log locks until the transaction ends."""
    if not entries:
        return
    executions, rows = parameters(entries)
    # Pipelined: taking the locks costs no round trip of its own.
    async with db.pipeline():
        await db.execute(LOCKS, (executions,))
        await db.execute(_INSERT, (rows,))
