"""The executor process: consume queue events, decide with the pure Executor, persist, dispatch.

Each execution's events are handled under the queue's claim on it, so several executor
processes may run: the one holding the claim reads the execution from the store, decides every
event it holds, saves the result (log lines, metrics, task runs) and only then queues the jobs
and timers that follow. The claim ends last, consuming the events: an executor killed at any
point leaves them for the next one, and deciding an event again is harmless.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime

from lanner.clock import utcnow
from lanner.engine_support import retry_lost_attempt
from lanner.exceptions import LannerError
from lanner.executions import Execution, TaskRun
from lanner.executor import Executor, next_attempt_id
from lanner.flowrepo import FlowRepository
from lanner.flows import Flow
from lanner.jobs import WorkerResult
from lanner.queue import Claim, EventKind, ExecutorEvent, JobTicket, Queue
from lanner.queue_children import QueueChildren
from lanner.settings import Settings
from lanner.states import State
from lanner.step import Decision
from lanner.storage import Storage
from lanner.store import Store
from lanner.tasks.base import RunnableTask

__all__ = ["PARALLEL", "QueueExecutor", "lost_attempt", "running_tickets", "tickets_of"]

_BATCH = 64
PARALLEL = 6
"""Executions one executor decides at once (each holds a queue connection meanwhile)."""
# How long to wait for another executor to let go of executions it holds before looking again:
# if it died, its claims were released with its connection and nobody sends a notice.
_CONTENDED_WAIT_S = 0.5
_HOLDING = (State.RUNNING, State.PAUSED, State.KILLING)
_HELD = 4096
"""Running executions an executor keeps in memory between claims, the least recent dropped."""


class QueueExecutor:
    """Drive executions from queue events until stopped; one per executor process."""

    def __init__(self, settings: Settings, store: Store, queue: Queue, storage: Storage) -> None:
        self.store = store
        self.queue = queue
        self.children = QueueChildren(settings, store, storage, queue)
        self.executor = Executor(settings, kv=store.kv, storage=storage)
        self.flows = FlowRepository(store)
        self._flows: dict[tuple[str, str, int], Flow] = {}
        # The executions this process saved last, with the stamp of that save: while the
        # store shows the same stamp nobody else wrote them, and reading one again (all its
        # task runs, O(task runs) on every worker result) can be skipped. One read from the
        # store instead is a first sight: what a previous executor decided but died before
        # queueing is queued again (see `_requeue_missing`).
        self._held: OrderedDict[str, tuple[Execution, str]] = OrderedDict()
        # Fewer at once when the queue's connections are fewer: each decision holds one.
        capacity = queue.claim_capacity
        if capacity is not None and capacity < 1:
            raise LannerError(
                "an executor needs a queue of at least 2 connections: one for each execution"
                " it decides at once and one for what it reads meanwhile"
            )
        self.parallel = min(PARALLEL, capacity or PARALLEL)
        self._slots = asyncio.Semaphore(self.parallel)
        # Lost jobs are looked for at most this often while busy; when idle, the wait for
        # events ends when the next lease runs out.
        self.reclaim_every = settings.worker_lease / 4

    async def run(self) -> None:
        """Consume events until cancelled; sleep only until the next timer or lease is due."""
        reclaimed_at = 0.0
        while True:
            if time.monotonic() - reclaimed_at >= self.reclaim_every:
                await self.queue.reclaim_expired()
                reclaimed_at = time.monotonic()
            due = await self.queue.due_executions(_BATCH)
            claimed = await self._decide_all(due)
            if claimed:
                continue
            if due:
                await self.queue.wait_for_events(_CONTENDED_WAIT_S)
                continue
            wake = await self.queue.next_due()
            if wake is not None and wake <= 0:
                # A lease ran out (or an event just became due): reclaim, then look again,
                # rather than reclaiming on every pause between bursts of results.
                reclaimed_at = -math.inf
                continue
            await self.queue.wait_for_events(None if wake is None else wake + 0.005)

    async def _decide_all(self, execution_ids: Sequence[str]) -> bool:
        results = await asyncio.gather(*(self._claimed(eid) for eid in execution_ids))
        return any(results)

    async def _claimed(self, execution_id: str) -> bool:
        async with self._slots, self.queue.claim(execution_id) as claim:
            if claim is None:
                return False
            if claim.events:
                await self.handle(execution_id, claim)
            return True

    async def handle(self, execution_id: str, claim: Claim) -> None:
        """Decide an execution's events, persist what changed, then queue what follows."""
        events = claim.events
        execution, held = await self._load(execution_id)
        if execution is None:
            return
        flow = await self._flow(execution)
        if not held:
            # First sight, or another executor wrote it since: it may have died mid-decision.
            await self._requeue_missing(flow, execution, claim)
        ended_before = execution.current.is_terminated()
        decisions: list[Decision] = []
        for event in events:
            if event.kind is EventKind.KILL and not execution.current.is_terminated():
                await self.children.kill(claim, execution)
            decision = await self._decide(flow, execution, event)
            execution = decision.execution
            decisions.append(decision)
        stamp = await self._persist(execution, claim, decisions)
        self._hold(execution, stamp)
        await self._follow_up(flow, execution, claim, decisions)
        if execution.current.is_terminated() and not ended_before:
            await self.children.ended(claim, execution, flow)

    async def _load(self, execution_id: str) -> tuple[Execution | None, bool]:
        """Return the execution as stored, and whether it is the one this executor holds.

        It comes from memory when nobody wrote it since this executor did.
        """
        held = self._held.pop(execution_id, None)
        if held is not None:
            execution, stamp = held
            if stamp == await self.store.execution_stamp(execution_id):
                return execution, True
            self.executor.forget(execution_id)  # its memo describes the version we held
        return await self.store.get_execution(execution_id), False

    def _hold(self, execution: Execution, stamp: str | None) -> None:
        if stamp is None or execution.current.is_terminated():
            return
        self._held[execution.id] = (execution, stamp)
        while len(self._held) > _HELD:
            evicted, _ = self._held.popitem(last=False)
            self.executor.forget(evicted)  # its memo goes with it: a later read rebuilds both

    async def _decide(self, flow: Flow, execution: Execution, event: ExecutorEvent) -> Decision:
        now = utcnow()
        running = await self._running_count(flow, execution)
        if event.kind is EventKind.RESULT and event.result is not None:
            return self.executor.apply(flow, execution, event.result, now, running=running)
        if event.kind is EventKind.CHILD and event.child is not None:
            return self.executor.child_event(flow, execution, event.child, now, running=running)
        if event.kind is EventKind.KILL:
            return self.executor.kill(flow, execution, now)
        if event.kind is EventKind.RESUME and execution.current is State.PAUSED:
            return self.executor.resume(flow, execution, event.outputs, now)
        if event.kind is EventKind.PAUSE:
            return self.executor.pause(flow, execution, now)
        starting = event.kind is EventKind.UNQUEUE and event.state is State.RUNNING
        if event.kind is EventKind.FORCE_RUN or starting:
            return self.executor.start_now(flow, execution, now)
        if event.kind is EventKind.UNQUEUE and event.state is not None:
            return self.executor.end_queued(flow, execution, event.state, now)
        if event.kind is EventKind.LOST and event.ticket is not None:
            if execution.current is State.KILLING:
                killed = WorkerResult(
                    execution.id, event.ticket.task_run_id, State.KILLED, now, now
                )
                return self.executor.apply(flow, execution, killed, now, running=running)
            execution = lost_attempt(execution, event.ticket, now)
        return self.executor.advance(flow, execution, now, running=running)

    async def _persist(
        self, execution: Execution, claim: Claim, decisions: list[Decision]
    ) -> str | None:
        """Save what the decisions changed; return the stamp of the execution's save."""
        events = claim.events
        logs = [entry for decision in decisions for entry in decision.logs]
        metrics = [m for event in events if event.result is not None for m in event.result.metrics]
        # New executions (a retry's) are saved before the execution that decided them: if this
        # executor dies in between, deciding again makes the same ones (their ids are derived);
        # once that execution is saved, `_requeue_missing` finds them.
        fresh = [new for decision in decisions for new in decision.new_executions]
        for new in fresh:
            await self.store.save_execution(new)
        if any(decision.removed for decision in decisions):
            # Task runs left the execution (a loop's previous iteration): store it whole.
            stamp = await self.store.save_step(execution, None, logs, metrics)
        else:
            changed: dict[str, TaskRun] = {}
            for decision in decisions:
                changed.update(decision.changed)  # a later decision holds the newer version
            # A lost attempt marked failed changes its task run even when nothing else does.
            lost = {e.ticket.task_run_id for e in events if e.ticket is not None} - set(changed)
            for run in execution.task_runs if lost else ():
                if run.id in lost:
                    changed[run.id] = run
            stamp = await self.store.save_step(execution, list(changed.values()), logs, metrics)
        await claim.send([ExecutorEvent(EventKind.ADVANCE, new.id) for new in fresh])
        await self.children.start(claim, [r for decision in decisions for r in decision.children])
        if logs:
            await claim.logged([execution.id])
        return stamp

    async def _follow_up(
        self, flow: Flow, execution: Execution, claim: Claim, decisions: list[Decision]
    ) -> None:
        await claim.enqueue([t for decision in decisions for t in tickets_of(decision)])
        await claim.cancel([run_id for decision in decisions for run_id in decision.cancel])
        wake = min((d.wake_at for d in decisions if d.wake_at is not None), default=None)
        if wake is not None and not execution.current.is_terminated():
            await claim.send([ExecutorEvent(EventKind.TIMER, execution.id, available_at=wake)])
        if execution.current.is_terminated():
            self.executor.forget(execution.id)
            if flow.concurrency is not None:
                await self._release_slot(execution, claim)
        await claim.changed([(execution.id, execution.current)])

    async def _requeue_missing(self, flow: Flow, execution: Execution, claim: Claim) -> None:
        """Queue again what a previous executor saved but died before queueing.

        The jobs of running attempts that no worker holds nor will take, the children of
        running Subflow and ForEachItem task runs never started, and the new execution of a
        CREATE_NEW_EXECUTION retry never started.
        """
        await claim.enqueue(await self.queue.missing(running_tickets(flow, execution)))
        await self.children.resume(claim, self.executor.children_asked(flow, execution))
        if execution.final_state is State.RETRIED:
            await claim.send(await self._unstarted(next_attempt_id(execution)))

    async def _unstarted(self, execution_id: str) -> list[ExecutorEvent]:
        """Return the ADVANCE of an execution still CREATED with no event queued, if it is."""
        # Events first: they are consumed only once the execution left CREATED in the store.
        if await self.queue.waiting([execution_id]):
            return []
        states = await self.store.execution_states([execution_id])
        if states.get(execution_id) is not State.CREATED:
            return []
        return [ExecutorEvent(EventKind.ADVANCE, execution_id)]

    async def _flow(self, execution: Execution) -> Flow:
        key = (execution.namespace, execution.flow_id, execution.flow_revision)
        flow = self._flows.get(key)
        if flow is None:
            stored = await self.flows.get(*key, allow_deleted=True)
            flow = self._flows[key] = stored.flow
        return flow

    async def _running_count(self, flow: Flow, execution: Execution) -> int:
        """Count the other executions of a flow with `concurrency` that hold a slot."""
        if flow.concurrency is None:
            return 0
        page = await self.store.search_executions(
            namespace=execution.namespace, flow_id=execution.flow_id, states=_HOLDING, size=1
        )
        return page.total - (1 if execution.current in _HOLDING else 0)

    async def _release_slot(self, execution: Execution, claim: Claim) -> None:
        """Let the oldest queued execution of the flow try to start."""
        page = await self.store.search_executions(
            namespace=execution.namespace,
            flow_id=execution.flow_id,
            states=[State.QUEUED],
            size=1,
            sort_desc=False,
        )
        await claim.send([ExecutorEvent(EventKind.ADVANCE, e.id) for e in page.results])


def tickets_of(decision: Decision) -> list[JobTicket]:
    """Return the queue tickets of a decision's jobs."""
    tickets = []
    for job in decision.jobs:
        final = job.execution.current
        tickets.append(
            JobTicket(
                job.execution.id,
                job.task_run.id,
                job.execution.flow_revision,
                len(job.task_run.attempts),
                final if final.is_terminated() else None,
            )
        )
    return tickets


def running_tickets(flow: Flow, execution: Execution) -> list[JobTicket]:
    """Return the tickets of an execution's running attempts, as when they were queued."""
    tasks = {task.id: task for task in flow.walk()}
    # afterExecution tasks read the final state as `execution.state`, as in `tickets_of`.
    after = flow.after_execution_ids()
    return [
        JobTicket(
            execution.id,
            run.id,
            execution.flow_revision,
            len(run.attempts),
            execution.final_state if run.task_id in after else None,
        )
        for run in execution.task_runs
        if run.current is State.RUNNING
        and run.attempts
        and isinstance(tasks.get(run.task_id), RunnableTask)
    ]


def lost_attempt(execution: Execution, ticket: JobTicket, now: datetime) -> Execution:
    """Fail the attempt of a lost job and make its task run a retry due at once.

    A ticket for another attempt than the task run's last one, or for a task run no longer
    running, is stale: the execution is returned unchanged.
    """
    try:
        run = execution.task_run(ticket.task_run_id)
    except KeyError:
        return execution
    if run.current is not State.RUNNING or len(run.attempts) != ticket.attempt:
        return execution
    return execution.with_task_run(retry_lost_attempt(run, now))
