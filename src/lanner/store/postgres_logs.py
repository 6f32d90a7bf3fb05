"""Log lines in PostgreSQL, table `logs` (migration 0001).

Shared by the store and by the queue: a worker reports its results and the log lines of those
task runs in one transaction (see `lanner.queue.postgres.PostgresQueue.finish_all`).
"""

from __future__ import annotations

from collections.abc import Sequence

from lanner.executions import LogEntry
from lanner.store.postgres_schema import Db, JsonRows
from lanner.store.sql import log_row

__all__ = ["append"]

# Appenders of one execution's lines take turns on this lock, held until they commit, so `seq`
# grows in commit order within an execution: a reader that saw a line never finds an older
# one later (two workers could otherwise take seq 5 and 6 and commit 6 first). Seed 2 keeps
# it apart from the queue's claim of the same execution, which the executor holds meanwhile.
_LOCKS = (
    "SELECT pg_advisory_xact_lock(hashtextextended(id, 2))"
    " FROM unnest(%s::text[]) WITH ORDINALITY AS ids(id, n) ORDER BY n"
)
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
_INSERT = f"INSERT INTO logs ({', '.join(_ROWS.names)}) {_ROWS.select()}"


async def append(db: Db, entries: Sequence[LogEntry]) -> None:
    """Insert log lines, holding their executions' log locks until the transaction ends."""
    if not entries:
        return
    rows = [log_row(entry) for entry in entries]
    # In one order everywhere, so that appenders of several executions cannot deadlock.
    executions = sorted({entry.execution_id for entry in entries})
    # Pipelined: taking the locks costs no round trip of its own.
    async with db.pipeline():
        await db.execute(_LOCKS, (executions,))
        await db.execute(_INSERT, (_ROWS.encode(rows),))
