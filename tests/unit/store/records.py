"""Records to store in tests: executions, task runs and log lines with every field set."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from lanner.executions import Attempt, Execution, Label, Level, LogEntry, TaskRun
from lanner.states import State, StateHistory, StateTrail

T0 = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)


def trail(start: datetime, *states: State) -> StateTrail:
    """Return a trail through `states`, one every 1.000001 s from `start`."""
    step = timedelta(seconds=1, microseconds=1)
    return StateTrail(tuple(StateHistory(s, start + step * i) for i, s in enumerate(states)))


def execution(
    execution_id: str = "exec-1",
    *,
    namespace: str = "company.team",
    flow_id: str = "hello",
    start: datetime = T0,
    state: State = State.RUNNING,
    labels: Mapping[str, str] | None = None,
    task_runs: int = 0,
) -> Execution:
    """Return an execution started at `start`, now in `state`, with `task_runs` task runs."""
    states = (State.CREATED,) if state is State.CREATED else (State.CREATED, state)
    base = Execution(
        id=execution_id,
        namespace=namespace,
        flow_id=flow_id,
        flow_revision=1,
        state=trail(start, *states),
        labels=tuple(Label(key, value) for key, value in (labels or {}).items()),
        original_id=execution_id,
        original_created_date=start,
    )
    runs = tuple(task_run(base, f"{execution_id}-run-{i}", f"task{i}") for i in range(task_runs))
    return replace(base, task_runs=runs)


def task_run(parent: Execution, run_id: str, task_id: str = "task") -> TaskRun:
    return TaskRun(
        id=run_id,
        execution_id=parent.id,
        namespace=parent.namespace,
        flow_id=parent.flow_id,
        task_id=task_id,
        state=trail(parent.state.start_date, State.CREATED),
    )


def full_execution() -> Execution:
    """Return an execution using every field, with nested values and microsecond dates."""
    nested: dict[str, Any] = {
        "text": "héllo — 世界",
        "number": 42,
        "float": 0.1,
        "flag": True,
        "nothing": None,
        "list": [1, "two", {"three": [3.0, None]}],
        "map": {"a": {"b": {"c": []}}},
    }
    base = execution(state=State.SUCCESS, labels={"team": "data", "system.correlationId": "c-1"})
    running = trail(T0, State.CREATED, State.RUNNING, State.SUCCESS)
    first = TaskRun(
        id="run-b",
        execution_id=base.id,
        namespace=base.namespace,
        flow_id=base.flow_id,
        task_id="each",
        state=trail(T0, State.CREATED, State.RUNNING, State.FAILED, State.SUCCESS),
        value='{"key":"v"}',
        iteration=3,
        attempts=(
            Attempt(trail(T0, State.RUNNING, State.FAILED), log_file="kestra:///logs/1.txt"),
            Attempt(trail(T0, State.RUNNING, State.SUCCESS)),
        ),
        outputs=nested,
        due_at=1767323045.123456,
    )
    child = TaskRun(
        id="run-a",
        execution_id=base.id,
        namespace=base.namespace,
        flow_id=base.flow_id,
        task_id="child",
        state=running,
        parent_task_run_id="run-b",
        outputs={"body": "<html/>", "code": 200},
    )
    return replace(
        base,
        state=running,
        inputs={"user": "Alice", "payload": nested, "when": "2026-01-01T00:00:00Z"},
        outputs={"result": nested},
        task_runs=(first, child),
        parent_id="parent-1",
        original_id="original-1",
        trigger={"id": "schedule", "type": "io.kestra.plugin.core.trigger.Schedule"},
        attempt_number=2,
        schedule_date=T0 + timedelta(minutes=5, microseconds=7),
    )


def log(
    message: str = "hello",
    *,
    execution_id: str = "exec-1",
    level: Level = Level.INFO,
    namespace: str = "company.team",
    flow_id: str = "hello",
    task_id: str | None = "task",
    task_run_id: str | None = "run-1",
    attempt: int | None = 1,
    at: datetime = T0,
) -> LogEntry:
    return LogEntry(
        namespace=namespace,
        flow_id=flow_id,
        execution_id=execution_id,
        timestamp=at,
        level=level,
        message=message,
        task_id=task_id,
        task_run_id=task_run_id,
        attempt_number=attempt,
    )


def ids(items: Sequence[Execution]) -> list[str]:
    return [item.id for item in items]
