"""Everything one lanner process runs, opened and closed together."""

from __future__ import annotations

from dataclasses import dataclass

from lanner.events import EventHub
from lanner.flow_triggers import FlowTriggers
from lanner.flowrepo import FlowRepository
from lanner.runner import Runner
from lanner.scheduler import Scheduler
from lanner.settings import Settings
from lanner.storage import LocalStorage
from lanner.store import Store, open_store


@dataclass
class Services:
    """The store, storage, flow repository, engine, triggers and event hub of one process."""

    settings: Settings
    store: Store
    storage: LocalStorage
    flows: FlowRepository
    runner: Runner
    events: EventHub
    scheduler: Scheduler
    flow_triggers: FlowTriggers

    @classmethod
    async def start(cls, settings: Settings, store: Store | None = None) -> Services:
        """Open the store, start the engine (resuming unfinished executions) and the scheduler."""
        settings.home.mkdir(parents=True, exist_ok=True)
        store = store or await open_store(settings.database_url)
        storage = LocalStorage(settings.storage_dir)
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
        return cls(settings, store, storage, flows, runner, events, scheduler, flow_triggers)

    async def close(self) -> None:
        """Stop the scheduler and the engine, then close the store."""
        await self.scheduler.close()
        await self.flow_triggers.close()
        await self.runner.close()
        await self.store.close()
