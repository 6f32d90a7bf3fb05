"""How records become stored text and numbers, and back: shared by every backend.

Records are kept as Kestra's JSON (`to_json`), dates in columns as integer microseconds since
the epoch. The memory store keeps the same text as SQLite does, so both give back equal
records and refuse the same unserialisable values.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from lanner.exceptions import StoreError
from lanner.executions import Execution, LogEntry, TaskRun
from lanner.metrics import MetricEntry

__all__ = [
    "ascii_lower",
    "decode_execution",
    "decode_log",
    "decode_metric",
    "decode_task_run",
    "encode_execution",
    "encode_labels",
    "encode_log",
    "encode_metric",
    "encode_task_run",
    "from_micros",
    "in_namespace",
    "page_window",
    "to_micros",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
# One encoder for every call: `json.dumps` with options builds a new encoder each time.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _dumps(data: Any, what: str) -> str:
    try:
        return _ENCODER.encode(data)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"Unable to store {what}: {exc}") from exc


def encode_execution(execution: Execution) -> str:
    """Return the execution's JSON without its task runs, which are stored apart."""
    bare = replace(execution, task_runs=()) if execution.task_runs else execution
    return _dumps(bare.to_json(), f"execution '{execution.id}'")


def encode_labels(execution: Execution) -> str:
    return _dumps([label.to_json() for label in execution.labels], "labels")


def encode_task_run(task_run: TaskRun) -> str:
    return _dumps(task_run.to_json(), f"task run '{task_run.id}' ({task_run.task_id})")


def encode_log(entry: LogEntry) -> str:
    return _dumps(entry.to_json(), "a log line")


def decode_task_run(value: str, due_at: float | None) -> TaskRun:
    task_run = TaskRun.from_json(json.loads(value))
    return task_run if due_at is None else replace(task_run, due_at=due_at)


def decode_execution(value: str, task_runs: Iterable[TaskRun] = ()) -> Execution:
    execution = Execution.from_json(json.loads(value))
    runs = tuple(task_runs)
    return replace(execution, task_runs=runs) if runs else execution


def decode_log(value: str) -> LogEntry:
    return LogEntry.from_json(json.loads(value))


def encode_metric(entry: MetricEntry) -> str:
    return _dumps(entry.to_json(), f"metric '{entry.name}'")


def decode_metric(value: str) -> MetricEntry:
    return MetricEntry.from_json(json.loads(value))


def to_micros(moment: datetime) -> int:
    """Return microseconds since the epoch; a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _MICROSECOND


def from_micros(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def ascii_lower(text: str) -> str:
    """Lower-case ASCII letters only, as SQLite's `lower()` does, so backends agree."""
    return text.translate(_ASCII_LOWER)


def in_namespace(namespace: str, wanted: str) -> bool:
    """Say whether `namespace` is `wanted` or one of its sub-namespaces."""
    return namespace == wanted or namespace.startswith(wanted + ".")


def page_window(page: int, size: int) -> tuple[int, int]:
    """Return (offset, limit) for a 1-based page; ValueError when page or size is below 1."""
    if page < 1 or size < 1:
        raise ValueError(f"page and size must be at least 1, got page={page} size={size}")
    return (page - 1) * size, size
