"""Flow triggers at work: each execution that changes state is offered to every Flow trigger.

The engine tells this service about every execution it saves; a state a Flow trigger may react
to (terminated, or PAUSED) is queued once per execution and state, and a background task
evaluates it against the Flow triggers of the latest revision of every flow
(`lanner.triggers.flow` decides), remembering preconditions in the trigger state store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from dataclasses import replace

from lanner.clock import utcnow
from lanner.engine import Engine
from lanner.exceptions import ExpressionError, InputError
from lanner.executions import Execution
from lanner.flow_context import trigger_context, trigger_functions
from lanner.flowrepo import FlowRepository, StoredFlow
from lanner.scheduler import start_execution
from lanner.settings import Settings
from lanner.states import State
from lanner.store import Store
from lanner.store.triggers import TriggerState
from lanner.triggers.flow import DEFAULT_STATES, FlowTrigger, upstream_variables

__all__ = ["FlowTriggers"]

log = logging.getLogger(__name__)

_PAGE = 200
# (execution id, state) pairs already queued, so that repeated saves in one state count once.
_REMEMBERED = 10_000


class FlowTriggers:
    """Start the executions Flow triggers ask for, in the server process."""

    def __init__(
        self, store: Store, flows: FlowRepository, runner: Engine, settings: Settings
    ) -> None:
        self.store = store
        self.flows = flows
        self.runner = runner
        self.settings = settings
        self.functions = trigger_functions(store)
        self._queue: asyncio.Queue[Execution] = asyncio.Queue()
        self._seen: OrderedDict[tuple[str, State], None] = OrderedDict()
        self._loop: asyncio.Task[None] | None = None
        runner.add_execution_listener(self._on_execution)

    async def start(self) -> None:
        self._loop = asyncio.create_task(self._run(), name="lanner-flow-triggers")

    async def close(self) -> None:
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
            self._loop = None

    async def idle(self) -> None:
        """Wait until every execution offered so far has been evaluated (tests, shutdown)."""
        await self._queue.join()

    def _on_execution(self, execution: Execution) -> None:
        state = execution.current
        if state not in DEFAULT_STATES and not state.is_terminated():
            return
        key = (execution.id, state)
        if key in self._seen:
            return
        self._seen[key] = None
        if len(self._seen) > _REMEMBERED:
            self._seen.popitem(last=False)
        self._queue.put_nowait(execution)

    async def _run(self) -> None:
        while True:
            execution = await self._queue.get()
            try:
                await self.offer(execution)
            except Exception:
                # One bad trigger must not stop the others from seeing later executions.
                log.exception("Unable to evaluate the Flow triggers for %s", execution.id)
            finally:
                self._queue.task_done()

    async def offer(self, execution: Execution) -> list[Execution]:
        """Evaluate every Flow trigger for one execution; return the executions started."""
        started = []
        for stored, trigger in await self._flow_triggers():
            if stored.flow.disabled or trigger.disabled or not trigger.reacts_to(execution.current):
                continue
            found = await self._evaluate(stored, trigger, execution)
            if found is not None:
                started.append(found)
        return started

    async def _flow_triggers(self) -> list[tuple[StoredFlow, FlowTrigger]]:
        found: list[tuple[StoredFlow, FlowTrigger]] = []
        page = 1
        while True:
            records = await self.store.search_flows(page=page, size=_PAGE)
            for record in records.results:
                if "io.kestra" not in record.source or ".Flow" not in record.source:
                    continue  # cheap: only flows that may hold a Flow trigger are parsed
                parsed = self.flows.parse_or_error(record)
                if isinstance(parsed, Exception):
                    continue
                stored = StoredFlow(record, parsed)
                for trigger in parsed.triggers or ():
                    if isinstance(trigger, FlowTrigger):
                        found.append((stored, trigger))
            if page * _PAGE >= records.total or not records.results:
                return found
            page += 1

    async def _evaluate(
        self, stored: StoredFlow, trigger: FlowTrigger, execution: Execution
    ) -> Execution | None:
        flow = stored.flow
        key = (flow.namespace, flow.id, trigger.id)
        memory = await self.store.get_trigger_state(*key) or TriggerState(*key, type=trigger.type)
        if memory.disabled:
            return None
        upstream = upstream_variables(execution)
        context = {**trigger_context(flow, stored.revision, self.settings), "trigger": upstream}
        outcome = trigger.evaluate(memory, upstream, context, self.functions, utcnow())
        if not outcome.fire:
            if outcome.state != memory:
                await self.store.save_trigger_state(outcome.state)
            return None
        variables = {**upstream, "outputs": dict(outcome.outputs or {})}
        context = {**context, "trigger": variables}
        try:
            started = await start_execution(
                self.runner, stored, trigger, variables, context, self.functions
            )
        except (InputError, ExpressionError) as exc:
            # As in Kestra: the upstream outputs do not fit the inputs; say so, start nothing.
            log.warning("Flow trigger %s could not start %s.%s: %s", ".".join(key), *key[:2], exc)
            await self.store.save_trigger_state(outcome.state)
            return None
        await self.store.save_trigger_state(_fired(outcome.state, started))
        log.info("Flow trigger %s started %s after %s", ".".join(key), started.id, execution.id)
        return started


def _fired(state: TriggerState, started: Execution) -> TriggerState:
    return replace(state, execution_id=started.id, date=utcnow(), updated=utcnow())
