"""The largest execution the engine keeps (`max_message_bytes`), as Kestra's JDBC back end has.

Kestra's queue, with its message protection on, refuses messages over a limit: an execution
submitted over it is rejected, and a task result that makes the execution exceed it fails the
execution. lanner measures the same thing, the execution's JSON with its task runs and their
outputs, in UTF-8 bytes.
"""

from __future__ import annotations

import json
from dataclasses import fields, replace
from typing import Any

from lanner.exceptions import MessageTooBigError
from lanner.executions import Execution, TaskRun

_BARE_FIELDS = tuple(entry.name for entry in fields(Execution) if entry.name != "task_runs")
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str)


def encoded_size(value: Any) -> int:
    """Return the size of a JSON value as stored, in UTF-8 bytes."""
    return len(_ENCODER.encode(value).encode("utf-8"))


def too_big(size: int, limit: int) -> str:
    """Return the message for a message of `size` bytes over `limit` (Kestra's wording)."""
    return (
        f"Message of size {size} has exceeded the configured limit of {limit}"
        " (max_message_bytes, LANNER_MAX_MESSAGE_BYTES)"
    )


def check_submission(execution: Execution, limit: int) -> None:
    """Refuse an execution whose JSON is over `limit` bytes (MessageTooBigError)."""
    size = encoded_size(execution.to_json())
    if size > limit:
        where = f"{execution.namespace}.{execution.flow_id}"
        raise MessageTooBigError(f"Unable to start an execution of {where}: {too_big(size, limit)}")


class ExecutionSizes:
    """The stored size of one execution, task run by task run, kept up to date cheaply.

    The size of each task run is remembered when it is measured, so a new result costs the
    size of its own task run plus the execution's other fields, not the whole execution: a
    ForEach of thousands of task runs would otherwise pay for every sibling on every result.
    """

    def __init__(self) -> None:
        self._runs: dict[str, int] = {}
        self._total = 0
        self._bare: tuple[tuple[Any, ...], int] | None = None

    def with_run(self, execution: Execution, run: TaskRun) -> int:
        """Return the execution's size once `run` (added or replacing its old self) is in."""
        self._measure_new(execution)
        self._remember(run.id, encoded_size(run.to_json()))
        # Separators between the task runs inside `"taskRunList":[...]`.
        overhead = len(self._runs) + len('"taskRunList":[]')
        return self._bare_size(execution) + self._total + overhead

    def _bare_size(self, execution: Execution) -> int:
        """Return the size of the execution without its task runs.

        A result replaces the execution object but keeps its other fields' objects (frozen,
        never changed in place): it is measured again only when one of them is another object.
        """
        values = tuple(getattr(execution, name) for name in _BARE_FIELDS)
        known = self._bare
        if known is not None and all(a is b for a, b in zip(known[0], values, strict=True)):
            return known[1]
        bare = replace(execution, task_runs=()).to_json()
        bare.pop("taskRunList", None)
        size = encoded_size(bare)
        self._bare = (values, size)
        return size

    def _measure_new(self, execution: Execution) -> None:
        """Measure the task runs created since the last call.

        Task runs are appended to an execution and keep their place when they change, so
        those not measured yet are the ones after the last measured one.
        """
        fresh = []
        for other in reversed(execution.task_runs):
            if other.id in self._runs:
                break
            fresh.append(other)
        for other in fresh:
            self._remember(other.id, encoded_size(other.to_json()))

    def _remember(self, run_id: str, size: int) -> None:
        self._total += size - self._runs.get(run_id, 0)
        self._runs[run_id] = size
