"""Everything one lanner process runs, opened and closed together."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from lanner.engine import Engine
from lanner.events import EventHub
from lanner.flow_triggers import FlowTriggers
from lanner.flowrepo import FlowRepository
from lanner.queue import PostgresQueue
from lanner.queue_engine import QueueEngine
from lanner.queue_pool import HEARD_NOTICES, queue_pool_size
from lanner.runner import Runner
from lanner.scheduler import Scheduler
from lanner.settings import Settings
from lanner.storage import Storage, open_storage
from lanner.store import Store, open_configured_store

Closer = Callable[[], Awaitable[None]]


@dataclass
class Services:
    """The store, storage, flow repository, engine, triggers and event hub of one process."""

    settings: Settings
    store: Store
    storage: Storage
    flows: FlowRepository
    runner: Engine
    events: EventHub
    scheduler: Scheduler
    flow_triggers: FlowTriggers
    closers: list[Closer] = field(default_factory=list)
    """What `close()` calls first, in order (a scaled-out process's engine and queue)."""

    @classmethod
    async def start(cls, settings: Settings, store: Store | None = None) -> Services:
        """Open the store, start the engine (resuming unfinished executions) and the scheduler."""
        settings.home.mkdir(parents=True, exist_ok=True)
        store = store or await open_configured_store(settings)
        storage = open_storage(settings)
        runner = Runner(settings, store, storage)
        events = EventHub()
        runner.add_log_listener(events.publish)
        runner.add_execution_listener(events.publish)
        await runner.start()
        flows = FlowRepository(store)
        scheduler = Scheduler(store, flows, runner, settings)
        await scheduler.start()
        flow_triggers = FlowTriggers(store, flows, runner, settings)
        await flow_triggers.start()
        services = cls(settings, store, storage, flows, runner, events, scheduler, flow_triggers)
        services.closers.append(runner.close)
        return services

    @classmethod
    async def webserver(cls, settings: Settings) -> Services:
        """Open the services of a process that serves the API with no engine of its own.

        Its operations go through the queue to executor processes; its followers hear what
        the queue's notices tell. The scheduler and Flow triggers are there for the API's
        trigger routes and webhooks, never started: scheduler processes run them.
        """
        connections = queue_pool_size(settings, "webserver")
        store = await open_configured_store(settings)
        queue = await PostgresQueue.open(
            settings.database_url,
            settings.worker_lease,
            connections=connections,
            hears=HEARD_NOTICES["webserver"],
        )
        storage = open_storage(settings)
        engine = QueueEngine(settings, store, storage, queue)
        events = EventHub()
        engine.follows = events.wants
        engine.add_log_listener(events.publish)
        engine.add_execution_listener(events.publish)
        flows = FlowRepository(store)
        scheduler = Scheduler(store, flows, engine, settings)
        flow_triggers = FlowTriggers(store, flows, engine, settings)
        services = cls(settings, store, storage, flows, engine, events, scheduler, flow_triggers)
        services.closers += [engine.aclose, queue.close]
        return services

    async def close(self) -> None:
        """Stop the scheduler and the engine, then close the store."""
        await self.scheduler.close()
        await self.flow_triggers.close()
        for closer in self.closers:
            await closer()
        await self.store.close()
