"""Task-run metrics in the SQLite database, table `metrics` (migration 0004)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

from lanner.metrics import MetricEntry
from lanner.store import codec
from lanner.store.sql import metric_row

__all__ = [
    "append",
    "delete_for_execution",
    "for_execution",
    "for_flow",
    "names",
    "tasks",
]

_INSERT = """
INSERT INTO metrics
    (namespace, flow_id, execution_id, task_id, task_run_id, name, timestamp, value)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
"""


def append(db: sqlite3.Connection, entries: Sequence[MetricEntry]) -> None:
    db.executemany(_INSERT, [metric_row(entry) for entry in entries])


def for_execution(
    db: sqlite3.Connection,
    execution_id: str,
    task_id: str | None,
    task_run_id: str | None,
    page: int,
    size: int,
) -> tuple[list[MetricEntry], int]:
    """Return one page of an execution's metrics in the order reported, and their count."""
    where, params = "execution_id = ?", [execution_id]
    for column, value in (("task_id", task_id), ("task_run_id", task_run_id)):
        if value is not None:
            where += f" AND {column} = ?"
            params.append(value)
    (total,) = db.execute(f"SELECT count(*) FROM metrics WHERE {where}", params).fetchone()
    offset, limit = codec.page_window(page, size)
    rows = db.execute(
        f"SELECT value FROM metrics WHERE {where} ORDER BY seq LIMIT ? OFFSET ?",
        (*params, limit, offset),
    ).fetchall()
    return [codec.decode_metric(value) for (value,) in rows], int(total)


def names(db: sqlite3.Connection, namespace: str, flow_id: str, task_id: str | None) -> list[str]:
    where, params = "namespace = ? AND flow_id = ?", [namespace, flow_id]
    if task_id is not None:
        where += " AND task_id = ?"
        params.append(task_id)
    rows = db.execute(f"SELECT DISTINCT name FROM metrics WHERE {where} ORDER BY name", params)
    return [name for (name,) in rows.fetchall()]


def tasks(db: sqlite3.Connection, namespace: str, flow_id: str) -> list[str]:
    rows = db.execute(
        "SELECT DISTINCT task_id FROM metrics WHERE namespace = ? AND flow_id = ? ORDER BY task_id",
        (namespace, flow_id),
    )
    return [task_id for (task_id,) in rows.fetchall()]


def for_flow(
    db: sqlite3.Connection,
    namespace: str,
    flow_id: str,
    name: str,
    task_id: str | None,
    start: datetime,
    end: datetime,
) -> list[MetricEntry]:
    where = "namespace = ? AND flow_id = ? AND name = ? AND timestamp BETWEEN ? AND ?"
    params: list[str | int] = [
        namespace,
        flow_id,
        name,
        codec.to_micros(start),
        codec.to_micros(end),
    ]
    if task_id is not None:
        where += " AND task_id = ?"
        params.append(task_id)
    rows = db.execute(f"SELECT value FROM metrics WHERE {where} ORDER BY timestamp, seq", params)
    return [codec.decode_metric(value) for (value,) in rows.fetchall()]


def delete_for_execution(db: sqlite3.Connection, execution_id: str) -> None:
    db.execute("DELETE FROM metrics WHERE execution_id = ?", (execution_id,))
