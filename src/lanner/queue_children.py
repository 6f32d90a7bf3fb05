"""Child executions (Subflow, ForEachItem) in an executor process: through the store and queue.

The same `ChildExecutions` as in one process decides what a request becomes and what a child's
end tells its parent; here a new child is saved to the store and moved on by an ADVANCE event,
and what the parent hears travels as a CHILD event. Every event goes through the claim of the
execution being decided, so it is queued in one transaction with that claim's consumption.

The parent is saved before its claim commits, so an executor that dies in between leaves a
parent waiting for children whose events never went out (some not even saved): the next
executor to see the parent plans them again (`resume`). A child's id is derived from what asked
for it, so planning again names the same children and finds which ones were started.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from lanner import operations
from lanner.child_runner import ChildExecutions, children_of, parent_of
from lanner.children import CORRELATION_LABEL, ChildEvent, ChildRequest
from lanner.clock import utcnow
from lanner.engine_support import existing, flow_of, new_execution
from lanner.exceptions import NotFoundError
from lanner.executions import Execution, Label
from lanner.flows import Flow
from lanner.queue import Claim, EventKind, ExecutorEvent, Queue
from lanner.settings import Settings
from lanner.states import State
from lanner.storage import Storage
from lanner.store import Store

__all__ = ["QueueChildren"]

_UNFINISHED = [state for state in State if not state.is_terminated()]


class QueueChildren:
    """Start children, kill them with their parent, and tell parents how they ended."""

    def __init__(self, settings: Settings, store: Store, storage: Storage, queue: Queue) -> None:
        self.settings = settings
        self.store = store
        self.storage = storage
        self.queue = queue

    async def start(self, claim: Claim, requests: Sequence[ChildRequest]) -> None:
        """Create the children asked for; the parent hears of each through a CHILD event."""
        if not requests:
            return
        # ADVANCE events of the children started, sent through the claim. One list per call:
        # the executions an executor decides at once start their children concurrently.
        started: list[ExecutorEvent] = []
        children = self._creator(started)
        told = [await children.start(request) for request in requests]
        await self._send(claim, requests, told, started)

    async def resume(self, claim: Claim, requests: Sequence[ChildRequest]) -> None:
        """Start the children asked for that an executor which died never started.

        `requests` are those of a parent's running task runs, planned again. A child was started
        when it has events queued or is no longer CREATED: the claim that sent its first event
        also told the parent. Any other child is created (again: the same id, an upsert of a
        CREATED execution nobody drives) and the parent hears of it, or of its refusal.
        """
        if not requests:
            return
        # Events first: a child's events are consumed only once it left CREATED in the store.
        queued = await self.queue.waiting([request.child_id for request in requests])
        unqueued = [request for request in requests if request.child_id not in queued]
        states = await self.store.execution_states([r.child_id for r in unqueued])
        started: list[ExecutorEvent] = []
        children = self._creator(started)
        lost = [
            request
            for request in unqueued
            if await _never_started(request, states.get(request.child_id), children)
        ]
        told = [await children.create(request) for request in lost]
        await self._send(claim, lost, told, started)

    async def _send(
        self,
        claim: Claim,
        requests: Sequence[ChildRequest],
        told: Sequence[ChildEvent],
        started: Sequence[ExecutorEvent],
    ) -> None:
        parents = [
            ExecutorEvent(EventKind.CHILD, request.parent_id, child=event)
            for request, event in zip(requests, told, strict=True)
        ]
        # The children's ADVANCEs go first: a parent that heard of a child may count on it.
        await claim.send([*started, *parents])

    async def ended(self, claim: Claim, child: Execution, child_flow: Flow) -> None:
        """Tell a child's parent, if it has one still running, that the child ended."""
        parent = parent_of(child)
        if parent is None:
            return
        stored = await self.store.get_execution(parent[0])
        if stored is None or stored.current.is_terminated():
            return
        try:
            parent_flow = await flow_of(self.store, stored, None)
        except NotFoundError:
            return  # its flow is gone for good: retrying the event would never succeed
        event = await self._creator([]).ended(child, child_flow, parent_flow)
        await claim.send([ExecutorEvent(EventKind.CHILD, stored.id, child=event)])

    async def kill(self, claim: Claim, parent: Execution) -> None:
        """Kill the unfinished children of an execution being killed (theirs follow in turn)."""
        # Children carry their parent's correlation id: it narrows the search to one tree.
        labels = {
            label.key: label.value for label in parent.labels if label.key == CORRELATION_LABEL
        }
        page = await self.store.search_executions(states=_UNFINISHED, labels=labels, size=10_000)
        running = children_of(parent.id, page.results)
        await claim.send([ExecutorEvent(EventKind.KILL, child_id) for child_id in running])

    def _creator(self, started: list[ExecutorEvent]) -> ChildExecutions:
        """Return the shared child logic, creating executions that `started` moves on."""

        async def submit(
            flow: Flow,
            revision: int,
            inputs: Mapping[str, Any] | None = None,
            labels: Sequence[Label] = (),
            *,
            schedule_date: datetime | None = None,
            trigger: Mapping[str, Any] | None = None,
            execution_id: str | None = None,
        ) -> Execution:
            execution = await new_execution(
                flow,
                revision,
                self.storage,
                inputs,
                labels,
                validate_inputs=True,
                schedule_date=schedule_date,
                trigger=trigger,
                max_bytes=self.settings.max_message_bytes,
                execution_id=execution_id,
            )
            await self.store.save_execution(execution)
            started.append(ExecutorEvent(EventKind.ADVANCE, execution.id))
            return execution

        async def restart(execution_id: str) -> Execution:
            execution = await existing(self.store, execution_id)
            flow = await flow_of(self.store, execution, None)
            restarted = operations.restart(flow, execution, utcnow())
            await self.store.save_execution(restarted)
            started.append(ExecutorEvent(EventKind.ADVANCE, restarted.id))
            return restarted

        return ChildExecutions(self.store, self.storage, self.settings, submit, restart)


async def _never_started(
    request: ChildRequest, state: State | None, children: ChildExecutions
) -> bool:
    """Say whether a child with no event queued, in `state` (None: not saved), never started."""
    if state is not None:
        return state is State.CREATED
    # A restarted parent (RETRY_FAILED) retries its previous child instead of creating one;
    # whether the executor that died did cannot be told, so that child is left as it is.
    return request.reuse is None or await children.previous(request) is None
