"""The largest execution the engine keeps (`max_message_bytes`), as Kestra's JDBC back end has.

Kestra's queue refuses messages over 1 MiB: an execution submitted over it is rejected, and a
task result that makes the execution exceed it fails the execution. lanner measures the same
thing, the execution's JSON with its task runs and their outputs, in UTF-8 bytes.
"""

from __future__ import annotations

import json
from typing import Any

from lanner.exceptions import MessageTooBigError
from lanner.executions import Execution, TaskRun

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
    size of its own task run plus the execution's other fields, not the whole execution.
    """

    def __init__(self) -> None:
        self._runs: dict[str, int] = {}

    def with_run(self, execution: Execution, run: TaskRun) -> int:
        """Return the execution's size once `run` (added or replacing its old self) is in."""
        for other in execution.task_runs:
            if other.id not in self._runs:
                self._runs[other.id] = encoded_size(other.to_json())
        self._runs[run.id] = encoded_size(run.to_json())
        bare = execution.to_json()
        bare.pop("taskRunList", None)
        # Separators between the task runs inside `"taskRunList":[...]`.
        overhead = len(self._runs) + len('"taskRunList":[]')
        return encoded_size(bare) + sum(self._runs.values()) + overhead
