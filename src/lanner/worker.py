"""The worker: runs one attempt of a runnable task and reports how it ended.

All I/O to the outside world (HTTP calls, sleeps, files) happens here, on asyncio. A job never
raises: every failure becomes a FAILED result with the error in the task run's logs.
"""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Callable, Mapping
from typing import Any

from lanner.clock import utcnow
from lanner.context import (
    LogSink,
    Masker,
    RunContext,
    TaskLogger,
    base_variables,
    runtime_functions,
    secret_values,
    task_variables,
)
from lanner.durations import format_duration
from lanner.exceptions import LannerError, TaskError
from lanner.executions import Level, LogEntry
from lanner.expressions import Function
from lanner.flowable import ExecutionIndex
from lanner.flows import Flow
from lanner.httpclient import ClientPool
from lanner.jobs import WorkerJob, WorkerResult
from lanner.settings import Settings
from lanner.states import State
from lanner.storage import Storage
from lanner.store.kv import KVStore

ExtraFunctions = Callable[[WorkerJob], Mapping[str, Function]]


class Worker:
    """Runs worker jobs; one instance serves every job of a process."""

    def __init__(
        self,
        settings: Settings,
        storage: Storage,
        sink: LogSink,
        flows: Callable[[WorkerJob], Flow],
        *,
        http: ClientPool | None = None,
        extra_functions: ExtraFunctions | None = None,
        kv: KVStore | None = None,
    ) -> None:
        self.settings = settings
        self.storage = storage
        self.sink = sink
        self.flows = flows
        self.http = http or ClientPool()
        self.extra_functions = extra_functions
        self.kv = kv

    async def run(self, job: WorkerJob) -> WorkerResult:
        """Run one attempt; return its result (KILLED when cancelled)."""
        started = utcnow()
        ctx = self.context(job)
        try:
            outputs = await self._run_with_timeout(job, ctx)
            state = ctx.final_state or State.SUCCESS
        except asyncio.CancelledError:
            ctx.logger.warn("Task was killed")
            return WorkerResult(
                job.execution.id,
                job.task_run.id,
                State.KILLED,
                started,
                utcnow(),
                metrics=tuple(ctx.metrics),
            )
        except Exception as exc:
            self._log_failure(ctx, exc)
            # A failed task may still have produced outputs (a script's exit code and vars).
            outputs = exc.outputs if isinstance(exc, TaskError) else None
            state = State.FAILED
        return WorkerResult(
            job.execution.id,
            job.task_run.id,
            state,
            started,
            utcnow(),
            dict(outputs) if outputs is not None else None,
            tuple(ctx.metrics),
        )

    async def _run_with_timeout(self, job: WorkerJob, ctx: RunContext) -> Mapping[str, Any] | None:
        timeout = ctx.duration(job.task.timeout)
        if timeout is None:
            return await job.task.run(ctx)
        try:
            return await asyncio.wait_for(job.task.run(ctx), timeout.total_seconds())
        except TimeoutError as exc:
            raise LannerError(f"Timeout after {format_duration(timeout)}") from exc

    def _log_failure(self, ctx: RunContext, exc: Exception) -> None:
        if isinstance(exc, LannerError):
            ctx.logger.error(str(exc))
            return
        ctx.logger.error(f"{type(exc).__name__}: {exc}")
        ctx.logger.debug("".join(traceback.format_exception(exc)))

    def context(self, job: WorkerJob) -> RunContext:
        """Build the RunContext of a job."""
        flow = self.flows(job)
        execution = job.execution
        index = ExecutionIndex(execution, known=job.ancestors)
        masker = Masker(secret_values(flow, execution.inputs or {}))
        base = LogEntry(
            namespace=execution.namespace,
            flow_id=execution.flow_id,
            execution_id=execution.id,
            timestamp=utcnow(),
            level=Level.INFO,
            message="",
            task_id=job.task_run.task_id,
            task_run_id=job.task_run.id,
            attempt_number=len(job.task_run.attempts),
            thread="worker",
        )
        logger = TaskLogger(base, self.sink, masker, job.task.log_level or Level.TRACE)
        extra = self.extra_functions(job) if self.extra_functions else None
        variables = task_variables(
            base_variables(flow, execution, self.settings),
            index,
            job.task,
            job.task_run,
            self.settings.encryption_key,
        )
        return RunContext(
            flow=flow,
            execution=execution,
            task=job.task,
            task_run=job.task_run,
            variables=variables,
            functions=runtime_functions(
                index, job.task_run, masker, extra, kv=self.kv, storage=self.storage
            ),
            logger=logger,
            masker=masker,
            storage=self.storage,
            settings=self.settings,
            http=self.http,
            kv=self.kv,
        )

    async def aclose(self) -> None:
        await self.http.aclose()
