"""Polling triggers (the HTTP `Trigger`): when each one is due, and its polls run in the
background so that a slow server never holds up the scheduler's tick.

At each tick the scheduler hands every polling trigger to `Poller.consider`. A trigger is due
when it has never been polled or its last poll is `interval` old. Its state (`TriggerState`)
is saved *before* the request is sent, with `date` the poll's instant and `nextExecutionDate`
one interval later: a process that restarts does not poll again before that date, and a poll
that fails (the server is down, the condition does not render) simply waits for the next one.
At most one poll per trigger runs at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from lanner.clock import utcnow
from lanner.context import Masker, RunContext, TaskLogger
from lanner.engine import Engine
from lanner.exceptions import LannerError
from lanner.executions import Execution, Level, LogEntry, TaskRun
from lanner.expressions import Function
from lanner.flowrepo import StoredFlow
from lanner.store import Store
from lanner.store.triggers import TriggerKey, TriggerState
from lanner.triggers.http import HttpTrigger

__all__ = ["Poller", "StartExecution"]

log = logging.getLogger("lanner.scheduler")

StartExecution = Callable[[StoredFlow, HttpTrigger, Mapping[str, Any]], Awaitable[Execution | None]]
"""Starts the execution of a poll whose condition held (None when the trigger's conditions or
the flow's inputs refuse it)."""


class Poller:
    """Runs the polls of polling triggers, each in an asyncio task of its own."""

    def __init__(
        self,
        store: Store,
        runner: Engine,
        context: Callable[[StoredFlow], dict[str, Any]],
        functions: Mapping[str, Function],
        lock: asyncio.Lock,
        start: StartExecution,
    ) -> None:
        self.store = store
        self.runner = runner
        self.context = context
        self.functions = functions
        # The scheduler's lock: a poll's result is recorded while no tick or API change runs.
        self.lock = lock
        self.start = start
        self._polls: dict[TriggerKey, asyncio.Task[Execution | None]] = {}
        self._started: list[Execution] = []

    async def consider(
        self, stored: StoredFlow, trigger: HttpTrigger, state: TriggerState | None, now: datetime
    ) -> None:
        """Start a poll of `trigger` if it is due, enabled and not already polling."""
        flow = stored.flow
        key = (flow.namespace, flow.id, trigger.id)
        if key in self._polls or flow.disabled or trigger.disabled:
            return
        if state is not None and (state.disabled or not _due(state, trigger, now)):
            return
        state = state or TriggerState(*key)
        polled = replace(state, type=trigger.type, date=now, next_date=now + trigger.interval)
        await self.store.save_trigger_state(replace(polled, updated=utcnow()))
        task = asyncio.create_task(self._poll(stored, trigger, key), name=f"lanner-poll-{key}")
        self._polls[key] = task
        task.add_done_callback(lambda _: self._polls.pop(key, None))

    async def settle(self) -> list[Execution]:
        """Wait for the polls running now; return the executions polls started since the last
        call."""
        while self._polls:
            await asyncio.gather(*self._polls.values(), return_exceptions=True)
        started, self._started = self._started, []
        return started

    async def close(self) -> None:
        """Cancel the polls still running."""
        polls = list(self._polls.values())
        for task in polls:
            task.cancel()
        for task in polls:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _poll(
        self, stored: StoredFlow, trigger: HttpTrigger, key: TriggerKey
    ) -> Execution | None:
        what = ".".join(key)
        try:
            variables = await trigger.poll(self._run_context(stored, trigger))
        except LannerError as exc:
            log.warning("Trigger %s: the poll failed: %s", what, exc)
            return None
        except Exception:
            log.exception("Trigger %s: the poll failed", what)
            return None
        if variables is None:
            log.debug("Trigger %s: the response condition is false", what)
            return None
        async with self.lock:
            execution = await self._start_if_enabled(stored, trigger, key, variables)
        if execution is not None:
            self._started.append(execution)
        return execution

    async def _start_if_enabled(
        self,
        stored: StoredFlow,
        trigger: HttpTrigger,
        key: TriggerKey,
        variables: Mapping[str, Any],
    ) -> Execution | None:
        # Disabled through the API, or by stopAfter, while the request was on its way.
        state = await self.store.get_trigger_state(*key)
        if state is not None and state.disabled:
            return None
        execution = await self.start(stored, trigger, variables)
        if execution is not None and state is not None:
            saved = replace(state, execution_id=execution.id, updated=utcnow())
            await self.store.save_trigger_state(saved)
        return execution

    def _run_context(self, stored: StoredFlow, trigger: HttpTrigger) -> RunContext:
        """Return the context a poll's Request runs in: the flow's variables, no execution.

        A RunContext belongs to a task run; a poll has none yet, so it gets a blank execution
        and task run that are never stored. Its log lines go to the scheduler's log.
        """
        flow = stored.flow
        execution = Execution.create(flow.namespace, flow.id, stored.revision)
        base = LogEntry(
            flow.namespace, flow.id, "", utcnow(), Level.INFO, "", trigger_id=trigger.id
        )
        masker = Masker()
        return RunContext(
            flow=flow,
            execution=execution,
            task=trigger.request,
            task_run=TaskRun.create(execution, trigger.id),
            variables=self.context(stored),
            functions=dict(self.functions),
            logger=TaskLogger(
                base, _to_log, masker, trigger.min_log_level or trigger.log_level or Level.TRACE
            ),
            masker=masker,
            storage=self.runner.storage,
            settings=self.runner.settings,
            http=self.runner.http,
            kv=self.store.kv,
        )


def _due(state: TriggerState, trigger: HttpTrigger, now: datetime) -> bool:
    # From the last poll, so that a changed interval applies at once.
    return state.date is None or state.date + trigger.interval <= now


_PYTHON_LEVELS = {
    Level.TRACE: logging.DEBUG,
    Level.DEBUG: logging.DEBUG,
    Level.INFO: logging.INFO,
    Level.WARN: logging.WARNING,
    Level.ERROR: logging.ERROR,
}


def _to_log(entry: LogEntry) -> None:
    what = f"{entry.namespace}.{entry.flow_id}.{entry.trigger_id}"
    log.log(_PYTHON_LEVELS[entry.level], "Trigger %s: %s", what, entry.message)
