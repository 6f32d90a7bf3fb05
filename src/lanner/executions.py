"""Executions, task runs, attempts and log entries: the records the engine produces.

They serialise to Kestra's JSON shapes (camelCase keys, ISO-8601 UTC dates, null fields
omitted), which is also how the store keeps them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import IntEnum
from typing import Any

from lanner.clock import format_instant, parse_instant, utcnow
from lanner.ids import new_id
from lanner.states import State, StateTrail


def _without_nulls(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if value is not None}


@dataclass(frozen=True, slots=True)
class Label:
    """A key/value label on an execution."""

    key: str
    value: str

    def to_json(self) -> dict[str, str]:
        return {"key": self.key, "value": self.value}


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try of a task run."""

    state: StateTrail
    log_file: str | None = None

    def to_json(self) -> dict[str, Any]:
        return _without_nulls({"state": self.state.to_json(), "logFile": self.log_file})

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Attempt:
        return cls(StateTrail.from_json(data["state"]), data.get("logFile"))


@dataclass(frozen=True, slots=True)
class TaskRun:
    """The run of one task, in one loop iteration, inside one execution."""

    id: str
    execution_id: str
    namespace: str
    flow_id: str
    task_id: str
    state: StateTrail
    parent_task_run_id: str | None = None
    value: str | None = None
    iteration: int | None = None
    attempts: tuple[Attempt, ...] = ()
    outputs: Mapping[str, Any] | None = None
    # When a waiting task run (retry backoff, Pause delay, Sleep) is due again, in seconds
    # since the epoch. Engine bookkeeping: kept by the store, not part of Kestra's JSON.
    due_at: float | None = None
    # A loop's values as rendered when it started. Engine bookkeeping too: a restarted engine
    # must not render them again (a template may give other values by then).
    loop_values: tuple[str, ...] | None = None

    @classmethod
    def create(
        cls,
        execution: Execution,
        task_id: str,
        *,
        parent_task_run_id: str | None = None,
        value: str | None = None,
        iteration: int | None = None,
        at: datetime | None = None,
    ) -> TaskRun:
        """Create a task run in state CREATED (at `at`, by default now)."""
        return cls(
            id=new_id(),
            execution_id=execution.id,
            namespace=execution.namespace,
            flow_id=execution.flow_id,
            task_id=task_id,
            state=StateTrail.start(State.CREATED, at),
            parent_task_run_id=parent_task_run_id,
            value=value,
            iteration=iteration,
        )

    @property
    def current(self) -> State:
        return self.state.current

    def with_state(self, state: State, at: datetime | None = None) -> TaskRun:
        """Return this task run moved to `state`."""
        return replace(self, state=self.state.to(state, at))

    def to_json(self) -> dict[str, Any]:
        return _without_nulls(
            {
                "id": self.id,
                "executionId": self.execution_id,
                "namespace": self.namespace,
                "flowId": self.flow_id,
                "taskId": self.task_id,
                "parentTaskRunId": self.parent_task_run_id,
                "value": self.value,
                "iteration": self.iteration,
                "attempts": [attempt.to_json() for attempt in self.attempts] or None,
                "outputs": dict(self.outputs) if self.outputs is not None else None,
                "state": self.state.to_json(),
            }
        )

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TaskRun:
        return cls(
            id=data["id"],
            execution_id=data["executionId"],
            namespace=data["namespace"],
            flow_id=data["flowId"],
            task_id=data["taskId"],
            state=StateTrail.from_json(data["state"]),
            parent_task_run_id=data.get("parentTaskRunId"),
            value=data.get("value"),
            iteration=data.get("iteration"),
            attempts=tuple(Attempt.from_json(item) for item in data.get("attempts") or ()),
            outputs=data.get("outputs"),
        )


@dataclass(frozen=True, slots=True)
class Execution:
    """One run of one revision of a flow."""

    id: str
    namespace: str
    flow_id: str
    flow_revision: int
    state: StateTrail
    inputs: Mapping[str, Any] | None = None
    outputs: Mapping[str, Any] | None = None
    labels: tuple[Label, ...] = ()
    task_runs: tuple[TaskRun, ...] = ()
    parent_id: str | None = None
    original_id: str | None = None
    trigger: Mapping[str, Any] | None = None
    tenant_id: str = "main"
    deleted: bool = False
    attempt_number: int = 1
    original_created_date: datetime = field(default_factory=utcnow)
    schedule_date: datetime | None = None
    # Engine bookkeeping, kept by the store but not part of Kestra's JSON: what the executor
    # decided once and must not decide again after a restart.
    final_state: State | None = None
    """The state the execution ends in, set when its main branches are done; it takes it once
    its `afterExecution` tasks are done too."""
    reported_slas: tuple[str, ...] = ()
    """The MAX_DURATION SLAs already reported as violated."""

    @classmethod
    def create(
        cls,
        namespace: str,
        flow_id: str,
        flow_revision: int,
        *,
        inputs: Mapping[str, Any] | None = None,
        labels: Iterable[Label] = (),
        trigger: Mapping[str, Any] | None = None,
        execution_id: str | None = None,
    ) -> Execution:
        """Create an execution in state CREATED, labelled with its correlation id.

        Its id is `execution_id` when given (see `lanner.ids.derived_id`), else a new one.
        """
        execution_id = execution_id or new_id()
        own = tuple(label for label in labels if label.key != "system.correlationId")
        correlation = next(
            (label for label in labels if label.key == "system.correlationId"),
            Label("system.correlationId", execution_id),
        )
        now = utcnow()
        return cls(
            id=execution_id,
            namespace=namespace,
            flow_id=flow_id,
            flow_revision=flow_revision,
            state=StateTrail.start(State.CREATED, now),
            inputs=inputs,
            labels=(*own, correlation),
            original_id=execution_id,
            trigger=trigger,
            original_created_date=now,
        )

    @property
    def current(self) -> State:
        return self.state.current

    def with_state(self, state: State, at: datetime | None = None) -> Execution:
        """Return this execution moved to `state`."""
        return replace(self, state=self.state.to(state, at))

    def task_run(self, task_run_id: str) -> TaskRun:
        """Return the task run with this id; KeyError if there is none."""
        for task_run in self.task_runs:
            if task_run.id == task_run_id:
                return task_run
        raise KeyError(task_run_id)

    def children(self, parent_task_run_id: str | None) -> Iterator[TaskRun]:
        """Yield the task runs directly under a parent (None: top level), in creation order."""
        return (run for run in self.task_runs if run.parent_task_run_id == parent_task_run_id)

    def with_task_run(self, task_run: TaskRun, position: int | None = None) -> Execution:
        """Return this execution with `task_run` added, or replacing the one with its id.

        `position` is where the task run is believed to be; a wrong guess is simply ignored.
        """
        known = self.task_runs
        if (
            position is not None
            and 0 <= position < len(known)
            and known[position].id == task_run.id
        ):
            return replace(self, task_runs=(*known[:position], task_run, *known[position + 1 :]))
        runs = list(self.task_runs)
        for index in range(len(runs) - 1, -1, -1):
            if runs[index].id == task_run.id:
                runs[index] = task_run
                return replace(self, task_runs=tuple(runs))
        return replace(self, task_runs=(*runs, task_run))

    def labels_map(self) -> dict[str, str]:
        return {label.key: label.value for label in self.labels}

    def to_json(self) -> dict[str, Any]:
        return _without_nulls(
            {
                "id": self.id,
                "namespace": self.namespace,
                "flowId": self.flow_id,
                "flowRevision": self.flow_revision,
                "tenantId": self.tenant_id,
                "inputs": dict(self.inputs) if self.inputs is not None else None,
                "outputs": dict(self.outputs) if self.outputs is not None else None,
                "labels": [label.to_json() for label in self.labels],
                "parentId": self.parent_id,
                "originalId": self.original_id,
                "trigger": dict(self.trigger) if self.trigger is not None else None,
                "state": self.state.to_json(),
                "taskRunList": [run.to_json() for run in self.task_runs] or None,
                "deleted": self.deleted,
                "metadata": {
                    "attemptNumber": self.attempt_number,
                    "originalCreatedDate": format_instant(self.original_created_date),
                },
                "scheduleDate": (
                    format_instant(self.schedule_date) if self.schedule_date is not None else None
                ),
            }
        )

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Execution:
        metadata = data.get("metadata") or {}
        schedule = data.get("scheduleDate")
        created = metadata.get("originalCreatedDate")
        return cls(
            id=data["id"],
            namespace=data["namespace"],
            flow_id=data["flowId"],
            flow_revision=data["flowRevision"],
            state=StateTrail.from_json(data["state"]),
            inputs=data.get("inputs"),
            outputs=data.get("outputs"),
            labels=tuple(Label(item["key"], item["value"]) for item in data.get("labels") or ()),
            task_runs=tuple(TaskRun.from_json(item) for item in data.get("taskRunList") or ()),
            parent_id=data.get("parentId"),
            original_id=data.get("originalId"),
            trigger=data.get("trigger"),
            tenant_id=data.get("tenantId", "main"),
            deleted=bool(data.get("deleted", False)),
            attempt_number=int(metadata.get("attemptNumber", 1)),
            original_created_date=parse_instant(created) if created else utcnow(),
            schedule_date=parse_instant(schedule) if schedule else None,
        )


class Level(IntEnum):
    """A log level; a higher value is more severe."""

    TRACE = 0
    DEBUG = 1
    INFO = 2
    WARN = 3
    ERROR = 4

    @classmethod
    def parse(cls, name: str) -> Level:
        """Return the level named `name` (case-insensitive; WARNING means WARN)."""
        upper = name.upper()
        return cls["WARN" if upper == "WARNING" else upper]

    @classmethod
    def _missing_(cls, value: object) -> Level | None:
        # Flows name levels (`level: WARN`); accept the names wherever a Level is parsed.
        if isinstance(value, str):
            try:
                return cls.parse(value)
            except KeyError:
                return None
        return None


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One log line of a task run (or of the execution itself when task fields are None)."""

    namespace: str
    flow_id: str
    execution_id: str
    timestamp: datetime
    level: Level
    message: str
    task_id: str | None = None
    task_run_id: str | None = None
    attempt_number: int | None = None
    trigger_id: str | None = None
    thread: str | None = None

    def to_json(self) -> dict[str, Any]:
        return _without_nulls(
            {
                "namespace": self.namespace,
                "flowId": self.flow_id,
                "taskId": self.task_id,
                "executionId": self.execution_id,
                "taskRunId": self.task_run_id,
                "attemptNumber": self.attempt_number,
                "triggerId": self.trigger_id,
                "timestamp": format_instant(self.timestamp),
                "level": self.level.name,
                "thread": self.thread,
                "message": self.message,
            }
        )

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LogEntry:
        return cls(
            namespace=data["namespace"],
            flow_id=data["flowId"],
            execution_id=data["executionId"],
            timestamp=parse_instant(data["timestamp"]),
            level=Level.parse(data["level"]),
            message=data["message"],
            task_id=data.get("taskId"),
            task_run_id=data.get("taskRunId"),
            attempt_number=data.get("attemptNumber"),
            trigger_id=data.get("triggerId"),
            thread=data.get("thread"),
        )
