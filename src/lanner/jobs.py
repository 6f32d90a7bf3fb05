"""The messages between the executor and the worker."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lanner.executions import Execution, TaskRun
from lanner.metrics import MetricEntry
from lanner.states import State
from lanner.tasks.base import RunnableTask


@dataclass(frozen=True, slots=True)
class WorkerJob:
    """Run one attempt of a runnable task run.

    `execution` is the execution as the executor saw it when it sent the job: the worker reads
    the outputs of earlier task runs from it.
    """

    execution: Execution
    task_run: TaskRun
    task: RunnableTask
    ancestors: tuple[TaskRun, ...] = ()
    """The task run's parents in `execution`, outermost first, when the executor knows them:
    the worker then finds them without indexing every task run of the execution."""


@dataclass(frozen=True, slots=True)
class WorkerResult:
    """How one attempt ended."""

    execution_id: str
    task_run_id: str
    state: State
    started_at: datetime
    ended_at: datetime
    outputs: Mapping[str, Any] | None = None
    metrics: tuple[MetricEntry, ...] = ()
    """What the attempt reported through `RunContext.metric()`, stored before the result."""
