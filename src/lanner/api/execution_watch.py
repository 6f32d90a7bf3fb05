"""Watching an execution change: waiting for a state, and the event stream followers read.

Both subscribe to the event hub *before* reading the stored execution, so a change made
between the read and the subscription cannot be missed; the subscription is closed however
the watch ends (done, timed out, cancelled because the client went away).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Callable

from fastapi.sse import ServerSentEvent

from lanner.events import Subscription
from lanner.exceptions import NotFoundError
from lanner.executions import Execution
from lanner.services import Services
from lanner.states import State

ExecutionTest = Callable[[Execution], bool]


def settled(execution: Execution) -> bool:
    """Whether an execution has ended or waits for someone (PAUSED)."""
    return execution.current.is_terminated() or execution.current is State.PAUSED


def killing_or_done(execution: Execution) -> bool:
    return execution.current is State.KILLING or execution.current.is_terminated()


async def load(services: Services, execution_id: str) -> Execution:
    """Return a stored execution; NotFoundError with Kestra's message if there is none."""
    execution = await services.store.get_execution(execution_id)
    if execution is None:
        raise NotFoundError(f"Unable to find execution '{execution_id}'")
    return execution


async def wait_until(
    services: Services, execution_id: str, done: ExecutionTest, timeout: float | None = None
) -> Execution:
    """Return the execution once `done` holds for it; after `timeout` seconds, as it is then."""
    subscription = services.events.subscribe(execution_id)
    try:
        current = _newest(subscription, await load(services, execution_id))
        try:
            async with asyncio.timeout(timeout):
                while not done(current):
                    current = await _next_change(subscription, current)
        except TimeoutError:
            pass
        return current
    finally:
        subscription.close()


async def follow(services: Services, execution_id: str) -> AsyncGenerator[ServerSentEvent, None]:
    """Yield `progress` events (the current state, then each change), then one `end` event."""
    subscription = services.events.subscribe(execution_id)
    try:
        stored = await services.store.get_execution(execution_id)
        if stored is None:
            return
        current = _newest(subscription, stored)
        while not current.current.is_terminated():
            yield _event("progress", current)
            current = await _next_change(subscription, current)
        yield _event("end", current)
    finally:
        subscription.close()


def _newest(subscription: Subscription, stored: Execution) -> Execution:
    """Return the execution as last published while it was being read, else as it was read.

    Versions published during the read may be older or newer than the one read; the last of
    them is never older than what a later event will bring, so following goes forward only.
    """
    current = stored
    while not subscription.queue.empty():
        event = subscription.queue.get_nowait()
        if isinstance(event, Execution):
            current = event
    return current


async def _next_change(subscription: Subscription, previous: Execution) -> Execution:
    """Return the next published version of the execution that differs from `previous`."""
    while True:
        event = await subscription.queue.get()
        if isinstance(event, Execution) and event != previous:
            return event


def _event(name: str, execution: Execution) -> ServerSentEvent:
    data = json.dumps(execution.to_json(), separators=(",", ":"), ensure_ascii=False)
    return ServerSentEvent(id=name, raw_data=data)
