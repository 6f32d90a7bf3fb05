"""The scheduler: turns the Schedule and polling triggers of stored flows into executions.

Once a second (`tick`), it reads the latest revision of every flow and, for each Schedule
trigger, starts one execution per date that came due, remembering in the store what it did
(`TriggerState`). What it guarantees:

* **Each date fires once**, even across restarts: before an execution is submitted its date is
  saved as `pending`, with the next date already advanced; after a restart, a pending date
  whose execution is not in the store is started then, and one that is, is not started again.
* **Missed dates** (those that came due while the trigger was not evaluated: lanner stopped,
  or the flow did not parse) follow `recoverMissedSchedules`: ALL starts each of them, LAST the
  most recent, NONE none. Dates passing while the flow or the trigger is disabled are skipped
  on purpose and are not missed.
* **Backfill** (`backfill: {start, end}`) runs the past dates from `start` to `end` (or to the
  moment the trigger first saw the backfill) once, with the backfill's labels and inputs and the
  label `system.backfill: true`.
* **stopAfter**: when an execution a trigger started ends in one of those states, the trigger
  is disabled (for webhooks too); `enable` through the API turns it back on.
* At most `max_per_tick` executions per trigger and tick, so a long catch-up does not starve
  the rest: the remaining dates follow on the next ticks.
* **Polling triggers** (HTTP `Trigger`) are polled every `interval` by `lanner.polling`, in
  background tasks: a tick starts the polls that are due and never waits for them.

The clock is injectable, and `tick()` can be called directly, so tests need not wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from lanner.clock import utcnow
from lanner.engine import Engine
from lanner.exceptions import ExpressionError, FlowError, InputError, NotFoundError
from lanner.executions import Execution, Label
from lanner.expressions import Function, render, render_value
from lanner.flow_context import trigger_context, trigger_functions
from lanner.flowrepo import FlowRepository, StoredFlow
from lanner.flows import Flow
from lanner.polling import Poller
from lanner.settings import Settings
from lanner.store import FlowRecord, Store
from lanner.store.triggers import Backfill, PendingDate, TriggerKey, TriggerState
from lanner.triggers import RecoverMissedSchedules, Schedule, Trigger
from lanner.triggers.http import HttpTrigger

__all__ = ["Clock", "Scheduler", "TriggerRow", "start_execution"]

log = logging.getLogger("lanner.scheduler")

Clock = Callable[[], datetime]
"""Returns the current instant (aware, UTC); tests pass a fake one."""

BACKFILL_LABEL = Label("system.backfill", "true")
_EPSILON = timedelta(microseconds=1)
# Flows read per store call when listing them all.
_PAGE = 500
# Executions looked at, newest first, for the one a pending date may have started.
_RECENT = 50


# -- starting an execution for a trigger ----------------------------------------------------------


async def start_execution(
    runner: Engine,
    stored: StoredFlow,
    trigger: Trigger,
    variables: Mapping[str, Any],
    context: Mapping[str, Any],
    functions: Mapping[str, Function],
    *,
    labels: Sequence[Label] = (),
    inputs: Mapping[str, Any] | None = None,
) -> Execution:
    """Start an execution for a trigger, with its variables, inputs and labels.

    `context` is `trigger_context()` plus `trigger` (the variables); the trigger's inputs and
    labels are rendered with it. Input defaults apply; invalid inputs raise InputError.
    """
    wanted = render_value({**(trigger.inputs or {}), **(inputs or {})}, context, functions)
    rendered = tuple(
        Label(label.key, render(label.value, context, functions))
        for label in (*trigger.labels, *labels)
    )
    return await runner.submit(
        stored.flow,
        stored.revision,
        wanted,
        rendered,
        trigger={"id": trigger.id, "type": trigger.type, "variables": dict(variables)},
    )


# -- the scheduler --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TriggerRow:
    """A trigger of the latest revision of a flow, with what the scheduler remembers of it."""

    stored: StoredFlow
    trigger: Trigger
    state: TriggerState | None


@dataclass
class _Listing:
    """The latest revision of every flow that is not deleted, parsed when it parses."""

    records: list[FlowRecord] = field(default_factory=list)
    flows: list[StoredFlow] = field(default_factory=list)

    def flow(self, namespace: str, flow_id: str) -> StoredFlow | None:
        return next(
            (s for s in self.flows if (s.flow.namespace, s.flow.id) == (namespace, flow_id)), None
        )

    def triggers(self) -> Iterator[tuple[StoredFlow, Trigger]]:
        for stored in self.flows:
            for trigger in stored.flow.triggers or ():
                yield stored, trigger


class Scheduler:
    """Evaluate the Schedule and polling triggers of every flow, once a second, in the server
    process."""

    def __init__(
        self,
        store: Store,
        flows: FlowRepository,
        runner: Engine,
        settings: Settings,
        *,
        clock: Clock = utcnow,
        interval: float = 1.0,
        max_per_tick: int = 100,
    ) -> None:
        self.store = store
        self.flows = flows
        self.runner = runner
        self.settings = settings
        self.clock = clock
        self.interval = interval
        self.max_per_tick = max_per_tick
        self.functions = trigger_functions(store)
        # Triggers evaluated at the previous tick: a date due for any other one was missed.
        self._seen: set[TriggerKey] = set()
        # Revisions that do not parse, so that they are not parsed again every second.
        self._broken: set[tuple[str, str, int]] = set()
        # Executions started by a trigger that ended since the last tick (for stopAfter).
        self._ended: list[Execution] = []
        self._loop: asyncio.Task[None] | None = None
        # A tick and a change through the API would otherwise overwrite each other's state.
        self._lock = asyncio.Lock()
        self._poller = Poller(
            store, runner, self._context, self.functions, self._lock, self._start_polled
        )
        runner.add_execution_listener(self._on_execution)

    # -- life cycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Tick now, then every `interval` seconds, until `close()`."""
        self._loop = asyncio.create_task(self._run(), name="lanner-scheduler")

    async def close(self) -> None:
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
            self._loop = None
        await self._poller.close()

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:
                # A broken tick must not stop the schedules: the next one tries again.
                log.exception("The scheduler could not evaluate the triggers")
            await asyncio.sleep(self.interval)

    def _on_execution(self, execution: Execution) -> None:
        if execution.trigger is not None and execution.current.is_terminated():
            self._ended.append(execution)

    # -- one tick ---------------------------------------------------------------------------

    async def tick(self) -> list[Execution]:
        """Evaluate every Schedule trigger once and start the polls that are due; return the
        executions the schedules started (`settle_polls` gives those of the polls)."""
        async with self._lock:
            return await self._tick()

    async def _tick(self) -> list[Execution]:
        now = self.clock()
        listing = await self._listing()
        states = {state.key: state for state in await self.store.list_trigger_states()}
        await self._apply_stop_after(listing, states)
        started: list[Execution] = []
        seen: set[TriggerKey] = set()
        for stored, trigger in listing.triggers():
            key = _key(stored, trigger)
            if isinstance(trigger, Schedule):
                seen.add(key)
                started.extend(await self._evaluate(stored, trigger, states.get(key), now, key))
            elif isinstance(trigger, HttpTrigger):
                await self._poller.consider(stored, trigger, states.get(key), now)
        self._seen = seen
        await self._forget_removed(listing, states)
        return started

    async def settle_polls(self) -> list[Execution]:
        """Wait for the polls running now; return the executions they started since the last
        call (ticks only start polls: their executions come later)."""
        return await self._poller.settle()

    def _context(self, stored: StoredFlow) -> dict[str, Any]:
        return trigger_context(stored.flow, stored.revision, self.settings)

    async def _start_polled(
        self, stored: StoredFlow, trigger: HttpTrigger, variables: Mapping[str, Any]
    ) -> Execution | None:
        """Start the execution of a poll whose response condition held, if `conditions` hold."""
        context = {**self._context(stored), "trigger": dict(variables)}
        try:
            if not trigger.conditions_hold(context, self.functions):
                return None
            return await start_execution(
                self.runner, stored, trigger, variables, context, self.functions
            )
        except (InputError, ExpressionError) as exc:
            what = ".".join(_key(stored, trigger))
            log.warning("Trigger %s did not start an execution: %s", what, exc)
            return None

    async def _evaluate(
        self,
        stored: StoredFlow,
        trigger: Schedule,
        state: TriggerState | None,
        now: datetime,
        key: TriggerKey,
    ) -> list[Execution]:
        run = _ScheduleRun(self, stored, trigger, now)
        try:
            return await run.evaluate(state, recovering=key not in self._seen)
        except Exception:
            log.exception("Unable to evaluate the trigger %s", ".".join(key))
            return run.started

    async def _listing(self) -> _Listing:
        listing = _Listing()
        page = 1
        while True:
            found = await self.store.search_flows(page=page, size=_PAGE)
            listing.records.extend(found.results)
            if page * _PAGE >= found.total or not found.results:
                break
            page += 1
        for record in listing.records:
            flow = self._parse(record)
            if flow is not None:
                listing.flows.append(StoredFlow(record, flow))
        return listing

    def _parse(self, record: FlowRecord) -> Flow | None:
        key = (record.namespace, record.id, record.revision)
        if key in self._broken:
            return None
        try:
            return self.flows.parse(record)
        except FlowError:
            self._broken.add(key)
            log.warning("Flow %s.%s no longer parses: its triggers wait", *key[:2])
            return None

    async def _apply_stop_after(
        self, listing: _Listing, states: dict[TriggerKey, TriggerState]
    ) -> None:
        ended, self._ended = self._ended, []
        for execution in ended:
            stored = listing.flow(execution.namespace, execution.flow_id)
            trigger_id = str((execution.trigger or {}).get("id"))
            trigger = stored.flow.find_trigger(trigger_id) if stored is not None else None
            if trigger is None or not trigger.stops_after(execution.current):
                continue
            key = (execution.namespace, execution.flow_id, trigger.id)
            state = states.get(key) or TriggerState(*key, type=trigger.type)
            if not state.disabled:
                states[key] = replace(state, disabled=True, updated=utcnow())
                await self.store.save_trigger_state(states[key])
                what = ".".join(key)
                log.info("Trigger %s disabled: an execution ended %s", what, execution.current)

    async def _forget_removed(
        self, listing: _Listing, states: dict[TriggerKey, TriggerState]
    ) -> None:
        """Delete the states of triggers whose flow was deleted or no longer has them."""
        flows = {(record.namespace, record.id) for record in listing.records}
        present = {
            (stored.flow.namespace, stored.flow.id, trigger.id)
            for stored, trigger in listing.triggers()
        }
        parsed = {(stored.flow.namespace, stored.flow.id) for stored in listing.flows}
        for key in states:
            flow_key = key[:2]
            # A flow that does not parse keeps its states: its triggers are unknown, not gone.
            gone = flow_key not in flows or (flow_key in parsed and key not in present)
            if gone:
                await self.store.delete_trigger_state(*key)

    # -- what the API needs -----------------------------------------------------------------

    async def rows(
        self, *, namespace: str | None = None, flow_id: str | None = None
    ) -> list[TriggerRow]:
        """Return every trigger of every flow (latest revisions), with its state."""
        listing = await self._listing()
        states = {
            state.key: state
            for state in await self.store.list_trigger_states(namespace=namespace, flow_id=flow_id)
        }
        return [
            TriggerRow(stored, trigger, states.get(_key(stored, trigger)))
            for stored, trigger in listing.triggers()
            if (namespace is None or _in_namespace(stored.flow.namespace, namespace))
            and (flow_id is None or stored.flow.id == flow_id)
        ]

    async def set_disabled(
        self, namespace: str, flow_id: str, trigger_id: str, disabled: bool
    ) -> TriggerRow:
        """Disable or enable a trigger; a schedule enabled again starts from the next date."""
        async with self._lock:
            return await self._set_disabled(namespace, flow_id, trigger_id, disabled)

    async def _set_disabled(
        self, namespace: str, flow_id: str, trigger_id: str, disabled: bool
    ) -> TriggerRow:
        stored = await self.flows.get(namespace, flow_id)
        trigger = stored.flow.find_trigger(trigger_id)
        if trigger is None:
            raise NotFoundError(f"Unable to find trigger {namespace}.{flow_id}.{trigger_id}")
        key = (namespace, flow_id, trigger_id)
        state = await self.store.get_trigger_state(*key) or TriggerState(*key, type=trigger.type)
        state = replace(state, disabled=disabled, updated=utcnow())
        if not disabled and isinstance(trigger, Schedule):
            state = _skip_to(state, trigger, self.clock())
        await self.store.save_trigger_state(state)
        return TriggerRow(stored, trigger, state)


def _key(stored: StoredFlow, trigger: Trigger) -> TriggerKey:
    return (stored.flow.namespace, stored.flow.id, trigger.id)


def _in_namespace(namespace: str, parent: str) -> bool:
    return namespace == parent or namespace.startswith(parent + ".")


def _skip_to(state: TriggerState, trigger: Schedule, now: datetime) -> TriggerState:
    """Move the next date past `now` without firing what lies between."""
    if state.next_date is not None and state.next_date > now:
        return state
    return replace(state, next_date=trigger.schedule.next_after(now))


class _ScheduleRun:
    """One evaluation of one Schedule trigger at one tick."""

    def __init__(
        self, scheduler: Scheduler, stored: StoredFlow, trigger: Schedule, now: datetime
    ) -> None:
        self.scheduler = scheduler
        self.store = scheduler.store
        self.stored = stored
        self.trigger = trigger
        self.now = now
        self.budget = scheduler.max_per_tick
        self.started: list[Execution] = []

    async def evaluate(self, state: TriggerState | None, *, recovering: bool) -> list[Execution]:
        before = state
        if state is not None and state.pending is not None:
            state = await self._settle_pending(state)
        state = self._current(state)
        if self._disabled(state):
            state = _skip_to(state, self.trigger, self.now)
        else:
            if recovering:
                state = self._recover(state)
            state = await self._fire_backfill(state)
            state = await self._fire_due(state)
        if state != before:
            await self._save(state)
        return self.started

    # -- the state before firing -----------------------------------------------------------

    def _current(self, state: TriggerState | None) -> TriggerState:
        """Return the state to fire from: new, reset after a change of cron, with its backfill."""
        trigger = self.trigger
        definition = trigger.definition_key()
        if state is None:
            flow = self.stored.flow
            state = TriggerState(flow.namespace, flow.id, trigger.id, type=trigger.type)
        if state.definition != definition:
            next_date = trigger.schedule.next_after(self.now)
            state = replace(state, definition=definition, next_date=next_date, type=trigger.type)
        if trigger.backfill_key() != state.backfill_key:
            state = replace(state, backfill=self._backfill(), backfill_key=trigger.backfill_key())
        return state

    def _backfill(self) -> Backfill | None:
        spec = self.trigger.backfill
        if spec is None:
            return None
        # Dates after now are the schedule's own: the backfill stops where it takes over.
        end = min(spec.end or self.now, self.now)
        first = self.trigger.schedule.first_from(spec.start)
        return Backfill(spec.start, end, first, spec.labels, spec.inputs)

    def _disabled(self, state: TriggerState) -> bool:
        return self.stored.flow.disabled or self.trigger.disabled or state.disabled

    def _recover(self, state: TriggerState) -> TriggerState:
        """Apply `recoverMissedSchedules` to the dates that came due unseen."""
        if state.next_date is None or state.next_date > self.now:
            return state
        mode = self.trigger.recovery
        if mode is RecoverMissedSchedules.NONE:
            return _skip_to(state, self.trigger, self.now)
        if mode is RecoverMissedSchedules.LAST:
            last = self.trigger.schedule.previous_before(self.now + _EPSILON)
            if last is not None and last > state.next_date:
                return replace(state, next_date=last)
        return state

    # -- firing -----------------------------------------------------------------------------

    async def _fire_due(self, state: TriggerState) -> TriggerState:
        schedule = self.trigger.schedule
        while state.next_date is not None and state.next_date <= self.now and self.budget > 0:
            date = state.next_date
            state = replace(state, next_date=schedule.next_after(date))
            if self._too_late(date):
                continue
            state = await self._fire(state, PendingDate(date))
        return state

    async def _fire_backfill(self, state: TriggerState) -> TriggerState:
        backfill = state.backfill
        if backfill is None or backfill.paused:
            return state
        schedule = self.trigger.schedule
        while (date := self._backfill_due(backfill)) is not None:
            backfill = replace(backfill, current=schedule.next_after(date))
            state = await self._fire(replace(state, backfill=backfill), PendingDate(date, True))
        # A finished backfill is dropped; its key stays, so that it does not run again.
        return replace(state, backfill=None if backfill.done else backfill)

    def _backfill_due(self, backfill: Backfill) -> datetime | None:
        date = backfill.current
        if backfill.done or date is None or date > self.now or self.budget <= 0:
            return None
        return date

    def _too_late(self, date: datetime) -> bool:
        delay = self.trigger.late_maximum_delay
        return delay is not None and date + delay < self.now

    async def _fire(self, state: TriggerState, pending: PendingDate) -> TriggerState:
        """Record the date as pending, start its execution, then clear it."""
        await self._save(replace(state, pending=pending))
        self.budget -= 1
        execution = await self._start(pending)
        execution_id = execution.id if execution is not None else state.execution_id
        return replace(state, pending=None, date=pending.date, execution_id=execution_id)

    async def _settle_pending(self, state: TriggerState) -> TriggerState:
        """Finish what a previous process left pending: start the date unless it was."""
        pending = state.pending
        assert pending is not None
        execution = await self._find_started(pending.date)
        if execution is None:
            execution = await self._start(pending)
            self.budget -= 1
        execution_id = execution.id if execution is not None else state.execution_id
        settled = replace(state, pending=None, date=pending.date, execution_id=execution_id)
        await self._save(settled)
        return settled

    async def _find_started(self, date: datetime) -> Execution | None:
        flow = self.stored.flow
        wanted = self.trigger.format_date(date)
        recent = await self.store.search_executions(
            namespace=flow.namespace, flow_id=flow.id, size=_RECENT
        )
        for execution in recent.results:
            trigger = execution.trigger or {}
            variables = trigger.get("variables") or {}
            if trigger.get("id") == self.trigger.id and variables.get("date") == wanted:
                return execution
        return None

    async def _start(self, pending: PendingDate) -> Execution | None:
        """Start the execution of a date; None when its conditions or inputs refuse it."""
        scheduler = self.scheduler
        variables = self.trigger.variables(pending.date)
        context = trigger_context(self.stored.flow, self.stored.revision, scheduler.settings)
        context.update(trigger=variables, schedule=variables)
        try:
            if not self.trigger.conditions_hold(context, scheduler.functions):
                return None
            execution = await start_execution(
                scheduler.runner,
                self.stored,
                self.trigger,
                variables,
                context,
                scheduler.functions,
                **self._backfill_extras(pending),
            )
        except (InputError, ExpressionError) as exc:
            self._refused(pending, exc)
            return None
        self.started.append(execution)
        return execution

    def _backfill_extras(self, pending: PendingDate) -> dict[str, Any]:
        if not pending.backfill:
            return {}
        spec = self.trigger.backfill
        labels = (*(spec.labels if spec else ()), BACKFILL_LABEL)
        return {"labels": labels, "inputs": spec.inputs if spec else None}

    def _refused(self, pending: PendingDate, exc: Exception) -> None:
        flow = self.stored.flow
        log.warning(
            "Trigger %s.%s.%s did not start the execution of %s: %s",
            flow.namespace,
            flow.id,
            self.trigger.id,
            self.trigger.format_date(pending.date),
            exc,
        )

    async def _save(self, state: TriggerState) -> None:
        await self.store.save_trigger_state(replace(state, updated=utcnow()))
