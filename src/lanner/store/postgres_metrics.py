"""Task-run metrics in PostgreSQL, table `metrics` (migration 0004)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from lanner.metrics import MetricEntry
from lanner.store import codec
from lanner.store.postgres_schema import Db, JsonRows
from lanner.store.sql import Where, metric_row

__all__ = [
    "INSERT",
    "append",
    "attempt_rows",
    "delete_for_execution",
    "encoded_rows",
    "for_execution",
    "for_flow",
    "insert_where",
    "names",
    "tasks",
]

_ROWS = JsonRows(
    "metrics",
    (
        "namespace",
        "flow_id",
        "execution_id",
        "task_id",
        "task_run_id",
        "name",
        "timestamp",
        "value",
    ),
)
_INTO = f"INSERT INTO metrics ({', '.join(_ROWS.names)})"
INSERT = f"{_INTO} {_ROWS.select()}"
"""Insert metrics; its one parameter is `encoded_rows` of them."""
_ATTEMPT_ROWS = JsonRows(
    "metrics",
    (*_ROWS.names, "attempt"),
    ("text", "text", "text", "text", "text", "text", "bigint", "text", "integer"),
)


def insert_where(where: str) -> str:
    """Return an INSERT of the metrics `where` keeps (a condition on their columns and their
    `attempt`); its one parameter is `attempt_rows`, whose order it keeps."""
    return f"{_INTO} {_ATTEMPT_ROWS.select(', '.join(_ROWS.names), where=where)}"


def attempt_rows(entries: Sequence[tuple[int, MetricEntry]]) -> str:
    """Return the parameter of `insert_where`: each metric with the attempt that reported it."""
    return _ATTEMPT_ROWS.encode([(*metric_row(entry), attempt) for attempt, entry in entries])


def encoded_rows(entries: Sequence[MetricEntry]) -> str:
    """Return the parameter of `INSERT` for `entries`."""
    return _ROWS.encode([metric_row(entry) for entry in entries])


async def append(db: Db, entries: Sequence[MetricEntry]) -> None:
    if entries:
        await db.execute(INSERT, (encoded_rows(entries),))


async def for_execution(
    db: Db,
    execution_id: str,
    task_id: str | None,
    task_run_id: str | None,
    page: int,
    size: int,
) -> tuple[list[MetricEntry], int]:
    """Return one page of an execution's metrics in the order reported, and their count."""
    offset, limit = codec.page_window(page, size)
    where = Where("%s")
    where.equals("execution_id", execution_id)
    where.equals("task_id", task_id)
    where.equals("task_run_id", task_run_id)
    counted = await db.execute(f"SELECT count(*) FROM metrics{where.clause}", where.params)
    total = await counted.fetchone()
    found = await db.execute(
        f"SELECT value FROM metrics{where.clause} ORDER BY seq LIMIT %s OFFSET %s",
        [*where.params, limit, offset],
    )
    entries = [codec.decode_metric(value) for (value,) in await found.fetchall()]
    return entries, int(total[0]) if total is not None else 0


async def names(db: Db, namespace: str, flow_id: str, task_id: str | None) -> list[str]:
    where = Where("%s")
    where.equals("namespace", namespace)
    where.equals("flow_id", flow_id)
    where.equals("task_id", task_id)
    found = await db.execute(
        f"SELECT DISTINCT name FROM metrics{where.clause} ORDER BY name", where.params
    )
    return [name for (name,) in await found.fetchall()]


async def tasks(db: Db, namespace: str, flow_id: str) -> list[str]:
    found = await db.execute(
        "SELECT DISTINCT task_id FROM metrics WHERE namespace = %s AND flow_id = %s"
        " ORDER BY task_id",
        (namespace, flow_id),
    )
    return [task_id for (task_id,) in await found.fetchall()]


async def for_flow(
    db: Db,
    namespace: str,
    flow_id: str,
    name: str,
    task_id: str | None,
    start: datetime,
    end: datetime,
) -> list[MetricEntry]:
    where = Where("%s")
    where.equals("namespace", namespace)
    where.equals("flow_id", flow_id)
    where.equals("name", name)
    where.between("timestamp", start, end)
    where.equals("task_id", task_id)
    found = await db.execute(
        f"SELECT value FROM metrics{where.clause} ORDER BY timestamp, seq", where.params
    )
    return [codec.decode_metric(value) for (value,) in await found.fetchall()]


async def delete_for_execution(db: Db, execution_id: str) -> None:
    await db.execute("DELETE FROM metrics WHERE execution_id = %s", (execution_id,))
