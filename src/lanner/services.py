"""Everything one lanner process runs, opened and closed together."""

from __future__ import annotations

from dataclasses import dataclass

from lanner.events import EventHub
from lanner.flowrepo import FlowRepository
from lanner.runner import Runner
from lanner.settings import Settings
from lanner.storage import LocalStorage
from lanner.store import Store, open_store


@dataclass
class Services:
    """The store, storage, flow repository, engine and event hub of one process."""

    settings: Settings
    store: Store
    storage: LocalStorage
    flows: FlowRepository
    runner: Runner
    events: EventHub

    @classmethod
    async def start(cls, settings: Settings, store: Store | None = None) -> Services:
        """Open the store and start the engine (which resumes unfinished executions)."""
        settings.home.mkdir(parents=True, exist_ok=True)
        store = store or await open_store(settings.database_url)
        storage = LocalStorage(settings.storage_dir)
        runner = Runner(settings, store, storage)
        events = EventHub()
        runner.add_log_listener(events.publish)
        runner.add_execution_listener(events.publish)
        await runner.start()
        return cls(settings, store, storage, FlowRepository(store), runner, events)

    async def close(self) -> None:
        """Stop the engine, then close the store."""
        await self.runner.close()
        await self.store.close()
