"""The runner wires the executor, the worker and the store together in one process.

Events (a new execution, a worker result, a timer, a kill) go through one queue that a single
executor loop drains in batches: each batch is decided by the pure executor, persisted in one
pass (logs first, then the changed task runs), and only then are jobs dispatched to the worker.
So whatever a worker reported is on disk before anything depends on it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lanner import operations
from lanner.child_runner import ChildExecutions, children_of, parent_of
from lanner.children import ChildEvent
from lanner.clock import utcnow
from lanner.context import error_logs_function
from lanner.engine_support import (
    check_force_run,
    check_unqueue,
    checks_judge,
    failed_by_checks,
    new_execution,
    not_running,
    paused_resume_values,
    retry_lost_attempt,
)
from lanner.exceptions import IllegalStateError, NotFoundError
from lanner.executions import Execution, Label, Level, LogEntry
from lanner.executor import Executor
from lanner.expressions import Function
from lanner.flow_parser import parse_flow
from lanner.flows import Flow
from lanner.httpclient import ClientPool
from lanner.jobs import WorkerJob, WorkerResult
from lanner.settings import Settings
from lanner.states import State
from lanner.step import Decision
from lanner.storage import Storage, open_storage
from lanner.store import Store
from lanner.worker import Worker

LogListener = Callable[[LogEntry], None]
ExecutionListener = Callable[[Execution], None]

# Every state an execution can be left in by a process that stops: paused and queued ones
# included, or their timers (Pause delay, WaitFor interval) and concurrency slots are lost.
_ACTIVE_STATES = (
    State.CREATED,
    State.RUNNING,
    State.KILLING,
    State.RESTARTED,
    State.PAUSED,
    State.QUEUED,
)


@dataclass
class _Event:
    # "advance", "result", "kill", "pause", "resume", "unqueue", "force-run", "stop" (the loop
    # ends after its batch)
    kind: str
    execution_id: str
    result: WorkerResult | None = None
    outputs: Mapping[str, Any] | None = None
    child: ChildEvent | None = None
    state: State | None = None  # what an "unqueue" makes of the execution


@dataclass
class _Live:
    """An execution the executor is driving, with its flow."""

    flow: Flow
    execution: Execution
    waiters: list[asyncio.Future[Execution]] = field(default_factory=list)
    timer: asyncio.TimerHandle | None = None


class Runner:
    """Executor + worker + store in one process (`lanner run`, `lanner server local`)."""

    def __init__(self, settings: Settings, store: Store, storage: Storage | None = None) -> None:
        self.settings = settings
        self.store = store
        self.storage = storage or open_storage(settings)
        self.executor = Executor(settings, kv=store.kv, storage=self.storage)
        self.worker = Worker(
            settings,
            self.storage,
            self._on_log,
            self._flow_of_job,
            extra_functions=self._functions_of_job,
            kv=store.kv,
        )
        self._events: asyncio.Queue[_Event] = asyncio.Queue()
        self._live: dict[str, _Live] = {}
        self._running: dict[str, asyncio.Task[None]] = {}
        self._pending_logs: list[LogEntry] = []
        # ERROR lines per live execution, for the errorLogs() function of its errors branch.
        self._error_logs: dict[str, list[LogEntry]] = {}
        self._log_listeners: list[LogListener] = []
        self._execution_listeners: list[ExecutionListener] = []
        self._slots = asyncio.Semaphore(settings.worker_concurrency)
        self._loop_task: asyncio.Task[None] | None = None
        self._closing = False
        self._stopping = asyncio.Event()
        self._handed_back: set[str] = set()
        self._flusher: asyncio.Task[None] | None = None
        self._children = ChildExecutions(store, self.storage, settings, self.submit, self.restart)

    # -- life cycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the executor loop and pick up executions left unfinished by a previous run."""
        self._loop_task = asyncio.create_task(self._executor_loop(), name="lanner-executor")
        self._flusher = asyncio.create_task(self._flush_periodically(), name="lanner-logs")
        await self._recover()

    async def close(self, grace: float = 5.0) -> None:
        """Stop gracefully: nothing new starts, running attempts get `grace` seconds to finish.

        Attempts still running after that are handed back: they stay RUNNING in the store, and
        the next process that opens it runs them again as a new attempt.
        """
        self._closing = True
        if self._running:
            await asyncio.wait(list(self._running.values()), timeout=grace)
        for run_id, task in list(self._running.items()):
            self._handed_back.add(run_id)
            task.cancel()
        if self._running:
            await asyncio.gather(*self._running.values(), return_exceptions=True)
        # Stopped, not cancelled: a cancellation landing inside a store call (a PostgreSQL
        # transaction, say) could roll back a result or leave the call waiting for ever.
        self._stopping.set()
        if self._loop_task is not None:
            await self._events.put(_Event("stop", ""))
            await self._loop_task
        if self._flusher is not None:
            await self._flusher
        await self._drain_events()
        await self._flush_logs()
        await self.worker.aclose()

    async def __aenter__(self) -> Runner:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- public operations ------------------------------------------------------------------

    @property
    def http(self) -> ClientPool:
        return self.worker.http

    def add_log_listener(self, listener: LogListener) -> None:
        self._log_listeners.append(listener)

    def add_execution_listener(self, listener: ExecutionListener) -> None:
        self._execution_listeners.append(listener)

    async def submit(
        self,
        flow: Flow,
        revision: int,
        inputs: Mapping[str, Any] | None = None,
        labels: Sequence[Label] = (),
        *,
        validate_inputs: bool = True,
        schedule_date: datetime | None = None,
        trigger: Mapping[str, Any] | None = None,
        execution_id: str | None = None,
        checked: bool = False,
    ) -> Execution:
        """Resolve inputs (raising InputError before anything runs), then start an execution.

        MessageTooBigError when the execution is over `max_message_bytes` before it starts.

        `validate_inputs=False` stores `inputs` as given, unchecked (triggers and tests that
        replay a recorded execution). `trigger` is `{id, type, variables}` of the trigger that
        started it; its variables are the flow's `trigger.*`. `execution_id` names the new
        execution (a child's id is derived from what asked for it); by default it gets a new id.
        `checked` judges the flow's `checks` first (executions a person asks for):
        ChecksBlockedError when they block it; when they fail it, it is stored FAILED and never
        started.
        """
        execution = await new_execution(
            flow,
            revision,
            self.storage,
            inputs,
            labels,
            validate_inputs=validate_inputs,
            schedule_date=schedule_date,
            trigger=trigger,
            max_bytes=self.settings.max_message_bytes,
            execution_id=execution_id,
            judge=checks_judge(flow, revision, self.settings, self.store) if checked else None,
        )
        await self.store.save_execution(execution)
        if (failed := failed_by_checks(execution)) is not None:
            self._on_log(failed)
            await self._flush_logs()  # it is stored at once, as the execution's end is
            self._notify_execution(execution)
            return execution
        self._live[execution.id] = _Live(flow, execution)
        self._notify_execution(execution)
        await self._events.put(_Event("advance", execution.id))
        return execution

    async def wait(self, execution_id: str, timeout: float | None = None) -> Execution:
        """Wait until an execution ends; return it."""
        live = self._live.get(execution_id)
        if live is None:
            stored = await self.store.get_execution(execution_id)
            if stored is None:
                raise NotFoundError(f"Unable to find execution '{execution_id}'")
            return stored
        future: asyncio.Future[Execution] = asyncio.get_running_loop().create_future()
        live.waiters.append(future)
        return await asyncio.wait_for(future, timeout)

    async def kill(self, execution_id: str) -> None:
        """Ask for an execution to be killed."""
        await self._events.put(_Event("kill", execution_id))

    async def pause(self, execution_id: str) -> None:
        """Ask for a running execution to be paused; IllegalStateError when it is not running."""
        live = self._live.get(execution_id)
        if live is None or live.execution.current is not State.RUNNING:
            execution = await self._existing(execution_id)  # NotFoundError when it does not exist
            raise not_running(execution)
        await self._events.put(_Event("pause", execution_id))

    async def unqueue(self, execution_id: str, state: State = State.RUNNING) -> None:
        """Start a QUEUED execution now (RUNNING), or end it without running it."""
        check_unqueue(await self._existing(execution_id), state)
        await self._events.put(_Event("unqueue", execution_id, state=state))

    async def force_run(self, execution_id: str) -> None:
        """Run an execution now: created or queued, it starts; paused, it is resumed."""
        execution = await self._existing(execution_id)
        check_force_run(execution)
        if execution.current is State.PAUSED:
            await self.resume(execution_id, {})
            return
        await self._events.put(_Event("force-run", execution_id))

    # -- operations on existing executions (see lanner.operations) ----------------------------

    async def restart(self, execution_id: str, revision: int | None = None) -> Execution:
        """Run the failed task runs of an ended execution again; return it RESTARTED."""
        execution = await self._existing(execution_id)
        flow = await self._flow_of(execution, revision)
        restarted = operations.restart(flow, execution, utcnow(), revision=revision)
        return await self._resume(flow, restarted)

    async def replay(
        self, execution_id: str, task_run_id: str | None = None, revision: int | None = None
    ) -> Execution:
        """Start a new execution that runs an execution again from one of its task runs."""
        execution = await self._existing(execution_id)
        flow = await self._flow_of(execution, revision)
        replayed = operations.replay(flow, execution, task_run_id, utcnow(), revision=revision)
        await self._resume(flow, replayed)
        if execution.id not in self._live:  # a running original keeps its own writer
            await self.store.save_execution(operations.mark_replayed(execution), [])
        return replayed

    async def change_task_run_state(
        self, execution_id: str, task_run_id: str, state: State
    ) -> Execution:
        """Set a task run of an ended execution to `state`, then let the execution go on."""
        execution = await self._existing(execution_id)
        flow = await self._flow_of(execution, None)
        changed = operations.change_task_run_state(flow, execution, task_run_id, state, utcnow())
        return await self._resume(flow, changed)

    async def resume(self, execution_id: str, inputs: Mapping[str, Any] | None = None) -> None:
        """Resume a paused execution; `inputs` answer its Pause tasks' `onResume` inputs."""
        live = self._live.get(execution_id)
        if live is None:
            await self._existing(execution_id)  # NotFoundError when it does not exist at all
            raise IllegalStateError(f"Execution '{execution_id}' is not PAUSED")
        outputs = paused_resume_values(live.flow, live.execution, inputs or {})
        await self._events.put(_Event("resume", execution_id, outputs=outputs))

    async def change_status(self, execution_id: str, state: State) -> Execution:
        """Set the state of an ended execution; nothing runs again."""
        execution = await self._existing(execution_id)
        changed = operations.change_execution_status(execution, state, utcnow())
        await self.store.save_execution(changed, [])
        self._notify_execution(changed)
        return changed

    async def _existing(self, execution_id: str) -> Execution:
        live = self._live.get(execution_id)
        if live is not None:
            return live.execution
        stored = await self.store.get_execution(execution_id)
        if stored is None:
            raise NotFoundError(f"Unable to find execution '{execution_id}'")
        return stored

    async def _flow_of(self, execution: Execution, revision: int | None) -> Flow:
        wanted = revision if revision is not None else execution.flow_revision
        record = await self.store.get_flow(
            execution.namespace, execution.flow_id, wanted, allow_deleted=True
        )
        if record is None:
            raise NotFoundError(
                f"Unable to find flow {execution.namespace}.{execution.flow_id} revision {wanted}"
            )
        return parse_flow(record.source)

    async def _resume(self, flow: Flow, execution: Execution) -> Execution:
        """Store an execution an operation produced and drive it from there."""
        # What the executor memoised for the previous run (loop values, SLA) no longer holds.
        self.executor.forget(execution.id)
        await self.store.save_execution(execution)
        errors = await self.store.get_logs(execution.id, min_level=Level.ERROR)
        live = self._live.get(execution.id)
        if live is None:
            self._live[execution.id] = _Live(flow, execution)
        else:
            live.flow, live.execution = flow, execution
        self._error_logs[execution.id] = errors
        self._notify_execution(execution)
        await self._events.put(_Event("advance", execution.id))
        return execution

    # -- the executor loop ------------------------------------------------------------------

    async def _executor_loop(self) -> None:
        while True:
            batch = [await self._events.get()]
            while not self._events.empty():
                batch.append(self._events.get_nowait())
            await self._process([event for event in batch if event.kind != "stop"])
            if any(event.kind == "stop" for event in batch):
                return

    async def _drain_events(self) -> None:
        batch = []
        while not self._events.empty():
            batch.append(self._events.get_nowait())
        if batch:
            await self._process(batch)

    async def _process(self, batch: list[_Event]) -> None:
        decisions: dict[str, list[Decision]] = {}
        for event in batch:
            live = self._live.get(event.execution_id)
            if live is None:
                continue
            decision = self._decide(live, event)
            live.execution = decision.execution
            decisions.setdefault(event.execution_id, []).append(decision)
        await self._flush_logs()
        metrics = [m for event in batch if event.result is not None for m in event.result.metrics]
        await self.store.append_metrics(metrics)
        for execution_id, items in decisions.items():
            await self._persist(self._live[execution_id], items)
        for execution_id, items in decisions.items():
            await self._follow_up(self._live[execution_id], items)

    def _decide(self, live: _Live, event: _Event) -> Decision:
        now = utcnow()
        running = self._running_count(live) if live.flow.concurrency else 0
        if event.kind == "result" and event.result is not None:
            return self.executor.apply(
                live.flow, live.execution, event.result, now, running=running
            )
        if event.kind == "child" and event.child is not None:
            return self.executor.child_event(
                live.flow, live.execution, event.child, now, running=running
            )
        if event.kind == "kill":
            self._kill_children(live.execution.id)
            return self.executor.kill(live.flow, live.execution, now)
        if event.kind == "resume" and live.execution.current is State.PAUSED:
            return self.executor.resume(live.flow, live.execution, event.outputs, now)
        if event.kind == "pause":
            return self.executor.pause(live.flow, live.execution, now)
        if event.kind == "force-run" or (event.kind == "unqueue" and event.state is State.RUNNING):
            return self.executor.start_now(live.flow, live.execution, now)
        if event.kind == "unqueue" and event.state is not None:
            return self.executor.end_queued(live.flow, live.execution, event.state, now)
        return self.executor.advance(live.flow, live.execution, now, running=running)

    def _same_flow(self, live: _Live) -> list[_Live]:
        """Return the other live executions of the same flow, oldest first."""
        execution = live.execution
        return [
            other
            for other in self._live.values()
            if other is not live
            and other.execution.flow_id == execution.flow_id
            and other.execution.namespace == execution.namespace
        ]

    def _running_count(self, live: _Live) -> int:
        """Count the executions of the flow that hold a concurrency slot."""
        holding = (State.RUNNING, State.PAUSED, State.KILLING)
        return sum(1 for other in self._same_flow(live) if other.execution.current in holding)

    def _release_slot(self, live: _Live) -> None:
        """Let the oldest queued execution of the flow try to start."""
        for other in self._same_flow(live):
            if other.execution.current is State.QUEUED:
                self._events.put_nowait(_Event("advance", other.execution.id))
                return

    async def _persist(self, live: _Live, decisions: list[Decision]) -> None:
        changed: dict[str, Any] = {}
        for decision in decisions:
            self._pending_logs.extend(decision.logs)
            for entry in decision.logs:
                self._notify_log(entry)
            changed.update(decision.changed)
        await self._flush_logs()
        execution = live.execution
        if any(decision.removed for decision in decisions):
            # Task runs left the execution (a loop's previous iteration): store it whole.
            await self.store.save_execution(execution)
        else:
            # Each decision holds its task runs as it left them, and a later one as it left
            # them again: `changed` has the latest of each, without searching the execution.
            await self.store.save_execution(execution, list(changed.values()))
        for decision in decisions:
            for fresh in decision.new_executions:
                await self.store.save_execution(fresh)
                self._live[fresh.id] = _Live(live.flow, fresh)
                self._notify_execution(fresh)
                self._events.put_nowait(_Event("advance", fresh.id))
            for request in decision.children:
                child = await self._children.start(request)
                self._events.put_nowait(_Event("child", request.parent_id, child=child))

    async def _follow_up(self, live: _Live, decisions: list[Decision]) -> None:
        execution = live.execution
        if any(decision.execution_changed or decision.changed for decision in decisions):
            self._notify_execution(execution)
        for decision in decisions:
            for job in decision.jobs:
                self._dispatch(job)
            for run_id in decision.cancel:
                running = self._running.get(run_id)
                if running is not None:
                    running.cancel()
        wake = min((d.wake_at for d in decisions if d.wake_at is not None), default=None)
        if wake is not None:
            self._schedule(live, wake)
        if execution.current.is_terminated():
            if live.flow.concurrency is not None:
                self._release_slot(live)
            if live.timer is not None:
                live.timer.cancel()
            for waiter in live.waiters:
                if not waiter.done():
                    waiter.set_result(execution)
            del self._live[execution.id]
            self._error_logs.pop(execution.id, None)
            await self._tell_parent(live)

    # -- child executions (Subflow, ForEachItem) ---------------------------------------------

    async def _tell_parent(self, live: _Live) -> None:
        """Report a child's end to its parent's task run, if the parent is still running."""
        parent = parent_of(live.execution)
        if parent is None or parent[0] not in self._live:
            return
        parent_flow = self._live[parent[0]].flow
        event = await self._children.ended(live.execution, live.flow, parent_flow)
        self._events.put_nowait(_Event("child", parent[0], child=event))

    def _kill_children(self, execution_id: str) -> None:
        """Kill the running children of an execution being killed (theirs follow in turn)."""
        running = [other.execution for other in self._live.values()]
        for child_id in children_of(execution_id, running):
            self._events.put_nowait(_Event("kill", child_id))

    def _schedule(self, live: _Live, at: datetime) -> None:
        if live.timer is not None:
            live.timer.cancel()
        loop = asyncio.get_running_loop()
        delay = max((at - utcnow()).total_seconds(), 0.0)
        execution_id = live.execution.id
        live.timer = loop.call_later(
            delay, lambda: self._events.put_nowait(_Event("advance", execution_id))
        )

    # -- the worker side --------------------------------------------------------------------

    def _dispatch(self, job: WorkerJob) -> None:
        if self._closing:
            return  # left RUNNING in the store: the next start runs it again
        task = asyncio.create_task(self._work(job), name=f"task-run-{job.task_run.id}")
        self._running[job.task_run.id] = task
        task.add_done_callback(lambda done: self._cancelled_before_start(job, done))

    def _cancelled_before_start(self, job: WorkerJob, task: asyncio.Task[None]) -> None:
        """Report a job killed before `_work` began: its body never ran, so it said nothing."""
        if not task.cancelled():
            return
        self._running.pop(job.task_run.id, None)
        if job.task_run.id not in self._handed_back:
            now = utcnow()
            result = WorkerResult(job.execution.id, job.task_run.id, State.KILLED, now, now)
            self._events.put_nowait(_Event("result", job.execution.id, result))

    async def _work(self, job: WorkerJob) -> None:
        try:
            async with self._slots:
                result = await self.worker.run(job)
        except asyncio.CancelledError:
            now = utcnow()
            result = WorkerResult(job.execution.id, job.task_run.id, State.KILLED, now, now)
        finally:
            self._running.pop(job.task_run.id, None)
        if job.task_run.id in self._handed_back:
            return
        self._events.put_nowait(_Event("result", job.execution.id, result))

    def _flow_of_job(self, job: WorkerJob) -> Flow:
        return self._live[job.execution.id].flow

    def _functions_of_job(self, job: WorkerJob) -> dict[str, Function]:
        entries = self._error_logs.get(job.execution.id, [])
        return {"errorLogs": error_logs_function(job.execution, entries)}

    # -- logs -------------------------------------------------------------------------------

    def _on_log(self, entry: LogEntry) -> None:
        self._pending_logs.append(entry)
        self._notify_log(entry)

    def _notify_log(self, entry: LogEntry) -> None:
        if entry.level is Level.ERROR and entry.execution_id in self._live:
            self._error_logs.setdefault(entry.execution_id, []).append(entry)
        for listener in self._log_listeners:
            listener(entry)

    def _notify_execution(self, execution: Execution) -> None:
        for listener in self._execution_listeners:
            listener(execution)

    async def _flush_logs(self) -> None:
        if not self._pending_logs:
            return
        entries, self._pending_logs = self._pending_logs, []
        await self.store.append_logs(entries)

    async def _flush_periodically(self) -> None:
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), 0.25)
            await self._flush_logs()

    # -- recovery ---------------------------------------------------------------------------

    async def _recover(self) -> None:
        """Resume executions a previous process left running; running attempts start again."""
        for execution in await self.store.executions_in_states(_ACTIVE_STATES):
            record = await self.store.get_flow(
                execution.namespace, execution.flow_id, execution.flow_revision, allow_deleted=True
            )
            if record is None:
                continue
            flow = parse_flow(record.source)
            execution = _requeue_running(execution)
            self._live[execution.id] = _Live(flow, execution)
            errors = await self.store.get_logs(execution.id, min_level=Level.ERROR)
            self._error_logs[execution.id] = errors
            await self._events.put(_Event("advance", execution.id))


def _requeue_running(execution: Execution) -> Execution:
    """Turn task runs that were running when the process died into retries due now."""
    now = utcnow()
    for run in execution.task_runs:
        if run.current is State.RUNNING and run.attempts:
            execution = execution.with_task_run(retry_lost_attempt(run, now))
    return execution


__all__ = ["Runner"]
