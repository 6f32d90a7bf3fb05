"""Drive the pure executor and the worker in memory, with a clock the test controls."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from lanner.clock import utcnow
from lanner.executions import Execution, LogEntry
from lanner.executor import Executor
from lanner.flow_parser import parse_flow
from lanner.flows import Flow
from lanner.jobs import WorkerJob
from lanner.metrics import MetricEntry
from lanner.settings import Settings
from lanner.step import Decision
from lanner.storage import LocalStorage, Storage
from lanner.store.kv import KVStore
from lanner.worker import Worker


@dataclass
class Drive:
    """The result of driving one execution to its end."""

    execution: Execution
    logs: list[LogEntry]
    decisions: list[Decision] = field(default_factory=list)
    clock: datetime | None = None
    metrics: list[MetricEntry] = field(default_factory=list)

    def run(self, task_id: str, value: str | None = None) -> Any:
        for run in self.execution.task_runs:
            if run.task_id == task_id and (value is None or run.value == value):
                return run
        raise AssertionError(f"no task run for {task_id} ({value})")

    def messages(self, task_id: str | None = None) -> list[str]:
        return [e.message for e in self.logs if task_id is None or e.task_id == task_id]

    def states(self) -> dict[str, str]:
        return {run.task_id: run.current.value for run in self.execution.task_runs}


async def drive(
    source: str,
    tmp_path: Path,
    inputs: dict[str, Any] | None = None,
    *,
    kill_after_jobs: int | None = None,
    kv: KVStore | None = None,
    settings: Settings | None = None,
    storage: Storage | None = None,
) -> Drive:
    """Run a flow to its end: jobs run for real, timers jump the clock instead of waiting."""
    flow: Flow = parse_flow(source)
    settings = settings or Settings.load(home=tmp_path)
    executor = Executor(settings, kv=kv)
    logs: list[LogEntry] = []
    storage = storage or LocalStorage(tmp_path / "storage")
    worker = Worker(settings, storage, logs.append, lambda _: flow, kv=kv)
    execution = Execution.create(flow.namespace, flow.id, 1, inputs=inputs or {})
    now = utcnow()
    decision = executor.advance(flow, execution, now)
    logs.extend(decision.logs)
    result = Drive(decision.execution, logs, [decision])
    pending: list[WorkerJob] = list(decision.jobs)
    jobs_done = 0
    try:
        for _ in range(10_000):
            if kill_after_jobs is not None and jobs_done == kill_after_jobs:
                decision = executor.kill(flow, result.execution, now)
                result.execution = decision.execution
                kill_after_jobs = None
                pending = [job for job in pending if job.task_run.id not in decision.cancel]
                for run_id in decision.cancel:
                    decision = _killed(executor, flow, result.execution, run_id, now)
                    result.execution = decision.execution
            if pending:
                job = pending.pop(0)
                outcome = await worker.run(job)
                result.metrics.extend(outcome.metrics)
                jobs_done += 1
                decision = executor.apply(flow, result.execution, outcome, now)
            elif result.execution.current.is_terminated():
                break
            elif decision.wake_at is not None:
                now = max(now, decision.wake_at) + timedelta(microseconds=1)
                decision = executor.advance(flow, result.execution, now)
            else:
                raise AssertionError(f"execution stuck in {result.execution.current}")
            result.decisions.append(decision)
            logs.extend(decision.logs)
            result.execution = decision.execution
            pending.extend(decision.jobs)
    finally:
        await worker.aclose()
    result.clock = now
    return result


def _killed(
    executor: Executor, flow: Flow, execution: Execution, run_id: str, now: datetime
) -> Decision:
    from lanner.jobs import WorkerResult
    from lanner.states import State

    result = WorkerResult(execution.id, run_id, State.KILLED, now, now)
    return executor.apply(flow, execution, result, now)
