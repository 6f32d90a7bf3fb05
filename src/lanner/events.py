"""Live events for followers (server-sent events): execution changes and log lines.

Each subscriber gets its own unbounded queue, so a slow follower never makes another one miss
an event, and events of one execution arrive in the order they were published.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

from lanner.executions import Execution, LogEntry

Event = Execution | LogEntry


@dataclass
class Subscription:
    """Events of one execution (or of all when `execution_id` is None), as they happen."""

    hub: EventHub
    execution_id: str | None
    queue: asyncio.Queue[Event]

    def close(self) -> None:
        self.hub.unsubscribe(self)

    def __hash__(self) -> int:
        return id(self)

    async def __aiter__(self) -> AsyncIterator[Event]:
        while True:
            yield await self.queue.get()


class EventHub:
    """Fans out execution and log events to subscribers, in the loop that runs the engine."""

    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()

    def subscribe(self, execution_id: str | None = None) -> Subscription:
        subscription = Subscription(self, execution_id, asyncio.Queue())
        self._subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)

    def wants(self, execution_id: str) -> bool:
        """Say whether someone follows this execution (or every execution)."""
        return any(s.execution_id in (None, execution_id) for s in self._subscriptions)

    def publish(self, event: Event) -> None:
        execution_id = event.id if isinstance(event, Execution) else event.execution_id
        for subscription in list(self._subscriptions):
            if subscription.execution_id in (None, execution_id):
                subscription.queue.put_nowait(event)
