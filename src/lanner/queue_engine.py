"""An Engine with no engine in its process: it writes the store and sends queue events.

Executor processes do the rest. What listeners hear comes from the queue's notices: a changed
execution is read from the store; new log lines are read for the executions someone follows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from lanner import operations
from lanner.clock import utcnow
from lanner.engine import Engine, ExecutionListener, LogListener
from lanner.engine_support import (
    check_force_run,
    check_unqueue,
    checks_judge,
    existing,
    failed_by_checks,
    flow_of,
    new_execution,
    not_running,
    paused_resume_values,
)
from lanner.executions import Execution, Label
from lanner.flows import Flow
from lanner.httpclient import ClientPool
from lanner.queue import EventKind, ExecutorEvent, Queue
from lanner.settings import Settings
from lanner.states import State
from lanner.storage import Storage
from lanner.store import Store

__all__ = ["QueueEngine"]

_SWEEP_EVERY = 256
"""Log notices between two sweeps of the positions nobody follows, at least."""


class QueueEngine(Engine):
    """Operations on executions through the store and the queue."""

    def __init__(self, settings: Settings, store: Store, storage: Storage, queue: Queue) -> None:
        self.settings = settings
        self.store = store
        self.storage = storage
        self.queue = queue
        self._http: ClientPool | None = None
        self._log_listeners: list[LogListener] = []
        self._execution_listeners: list[ExecutionListener] = []
        self._waiters: dict[str, list[asyncio.Future[Execution]]] = {}
        # Where the log lines already told end, per followed execution (a `Store.logs_after`
        # position; followers say which executions they follow with `follows`). Executions no
        # longer followed are forgotten now and then (see `_forget_unfollowed`).
        self._told: dict[str, int] = {}
        self._notices_before_sweep = _SWEEP_EVERY
        self.follows: Callable[[str], bool] = lambda _: False
        # Whether every change is read and told, or only those of followed executions (the
        # scheduler's Flow triggers need all; a webserver only what its followers watch).
        self.tell_all = False
        self._log_reads: dict[str, asyncio.Lock] = {}
        self._reads: set[asyncio.Task[None]] = set()
        queue.on_change(self._on_change)

    @property
    def http(self) -> ClientPool:
        if self._http is None:
            self._http = ClientPool()
        return self._http

    async def aclose(self) -> None:
        for task in list(self._reads):
            task.cancel()
        await asyncio.gather(*self._reads, return_exceptions=True)
        if self._http is not None:
            await self._http.aclose()

    def add_log_listener(self, listener: LogListener) -> None:
        # Log notices are heard from the first listener on: a process that tells no log line
        # (a scheduler) needs not hear them.
        if not self._log_listeners:
            self.queue.on_logs(self._on_logs)
        self._log_listeners.append(listener)

    def add_execution_listener(self, listener: ExecutionListener) -> None:
        self._execution_listeners.append(listener)

    # -- operations -------------------------------------------------------------------------

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
        checked: bool = False,
    ) -> Execution:
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
            judge=checks_judge(flow, revision, self.settings, self.store) if checked else None,
        )
        if (failed := failed_by_checks(execution)) is not None:
            # Failed by its checks: stored as it is, for no executor to start.
            await self.store.save_execution(execution)
            await self.store.append_logs([failed])
            await self.queue.changed([(execution.id, execution.current)])
            return execution
        await self._drive(execution)
        return execution

    async def wait(self, execution_id: str, timeout: float | None = None) -> Execution:
        future: asyncio.Future[Execution] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(execution_id, []).append(future)
        try:
            execution = await existing(self.store, execution_id)
            if execution.current.is_terminated():
                return execution
            return await asyncio.wait_for(future, timeout)
        finally:
            waiting = self._waiters.get(execution_id, [])
            if future in waiting:
                waiting.remove(future)
            if not waiting:
                self._waiters.pop(execution_id, None)

    async def kill(self, execution_id: str) -> None:
        await self.queue.send([ExecutorEvent(EventKind.KILL, execution_id)])

    async def pause(self, execution_id: str) -> None:
        execution = await existing(self.store, execution_id)
        if execution.current is not State.RUNNING:
            raise not_running(execution)
        await self.queue.send([ExecutorEvent(EventKind.PAUSE, execution_id)])

    async def unqueue(self, execution_id: str, state: State = State.RUNNING) -> None:
        check_unqueue(await existing(self.store, execution_id), state)
        await self.queue.send([ExecutorEvent(EventKind.UNQUEUE, execution_id, state=state)])

    async def force_run(self, execution_id: str) -> None:
        execution = await existing(self.store, execution_id)
        check_force_run(execution)
        if execution.current is State.PAUSED:
            await self.resume(execution_id, {})
            return
        await self.queue.send([ExecutorEvent(EventKind.FORCE_RUN, execution_id)])

    async def restart(self, execution_id: str, revision: int | None = None) -> Execution:
        execution = await existing(self.store, execution_id)
        flow = await flow_of(self.store, execution, revision)
        restarted = operations.restart(flow, execution, utcnow(), revision=revision)
        await self._drive(restarted)
        return restarted

    async def replay(
        self, execution_id: str, task_run_id: str | None = None, revision: int | None = None
    ) -> Execution:
        execution = await existing(self.store, execution_id)
        flow = await flow_of(self.store, execution, revision)
        replayed = operations.replay(flow, execution, task_run_id, utcnow(), revision=revision)
        await self._drive(replayed)
        if execution.current.is_terminated():  # a running original has its executor's writes
            await self.store.save_execution(operations.mark_replayed(execution), [])
        return replayed

    async def change_task_run_state(
        self, execution_id: str, task_run_id: str, state: State
    ) -> Execution:
        execution = await existing(self.store, execution_id)
        flow = await flow_of(self.store, execution, None)
        changed = operations.change_task_run_state(flow, execution, task_run_id, state, utcnow())
        await self._drive(changed)
        return changed

    async def resume(self, execution_id: str, inputs: Mapping[str, Any] | None = None) -> None:
        execution = await existing(self.store, execution_id)
        flow = await flow_of(self.store, execution, None)
        outputs = paused_resume_values(flow, execution, inputs or {})
        await self.queue.send([ExecutorEvent(EventKind.RESUME, execution_id, outputs=outputs)])

    async def change_status(self, execution_id: str, state: State) -> Execution:
        execution = await existing(self.store, execution_id)
        changed = operations.change_execution_status(execution, state, utcnow())
        await self.store.save_execution(changed, [])
        await self.queue.changed([(changed.id, changed.current)])
        return changed

    async def _drive(self, execution: Execution) -> None:
        """Store an execution and ask an executor to move it on."""
        await self.store.save_execution(execution)
        await self.queue.send([ExecutorEvent(EventKind.ADVANCE, execution.id)])
        await self.queue.changed([(execution.id, execution.current)])

    # -- notices ----------------------------------------------------------------------------

    def _on_change(self, execution_id: str, state: State) -> None:
        ended = state.is_terminated()
        told = self._execution_listeners and (self.tell_all or self.follows(execution_id))
        if told or (ended and execution_id in self._waiters):
            self._spawn(self._tell_execution(execution_id))

    def _on_logs(self, execution_id: str) -> None:
        if self.follows(execution_id):
            self._spawn(self._tell_logs(execution_id))
        self._notices_before_sweep -= 1
        if self._notices_before_sweep <= 0:
            self._forget_unfollowed()

    def _forget_unfollowed(self) -> None:
        """Drop the log positions of executions nobody follows and nobody reads now.

        A follower that comes later is told the lines again from the first: it joins them
        with the lines it read from the store, as it does on any first notice. The sweep
        runs after as many notices as positions were kept (or `_SWEEP_EVERY`): O(1) a notice.
        """
        for execution_id, lock in list(self._log_reads.items()):  # each told one has its lock
            if not self.follows(execution_id) and not lock.locked():
                self._told.pop(execution_id, None)
                self._log_reads.pop(execution_id, None)
        self._notices_before_sweep = max(_SWEEP_EVERY, len(self._log_reads))

    @property
    def log_positions_kept(self) -> int:
        """How many executions the engine keeps a told-lines position (and its lock) for."""
        return len(self._log_reads)

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._reads.add(task)
        task.add_done_callback(self._reads.discard)

    async def _tell_execution(self, execution_id: str) -> None:
        execution = await self.store.get_execution(execution_id)
        if execution is None:
            return
        for listener in self._execution_listeners:
            listener(execution)
        if execution.current.is_terminated():
            for waiter in self._waiters.get(execution_id, []):
                if not waiter.done():
                    waiter.set_result(execution)

    async def _tell_logs(self, execution_id: str) -> None:
        # One read at a time per execution, so that no line is told twice.
        async with self._log_reads.setdefault(execution_id, asyncio.Lock()):
            tail = await self.store.logs_after(execution_id, self._told.get(execution_id, 0))
            self._told[execution_id] = tail.position
            for entry in tail.entries:
                for listener in self._log_listeners:
                    listener(entry)
