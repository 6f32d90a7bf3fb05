"""A runner over a SQLite store with a few flows saved, for child-execution tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lanner.executions import Execution, LogEntry
from lanner.flowrepo import FlowRepository, StoredFlow
from lanner.runner import Runner
from lanner.settings import Settings
from lanner.states import State
from lanner.store import Store, open_store


@dataclass
class Engine:
    runner: Runner
    store: Store

    async def run(self, flow_id: str, inputs: dict[str, Any] | None = None) -> Execution:
        """Run the last revision of a saved flow (namespace `company.team`) to its end."""
        execution = await self.start(flow_id, inputs)
        return await self.runner.wait(execution.id, timeout=60)

    async def save(self, source: str) -> StoredFlow:
        return await FlowRepository(self.store).save(source)

    async def start(self, flow_id: str, inputs: dict[str, Any] | None = None) -> Execution:
        stored = await FlowRepository(self.store).get("company.team", flow_id)
        return await self.runner.submit(stored.flow, stored.revision, inputs or {})

    async def children(self, flow_id: str) -> list[Execution]:
        """Return the executions of a flow, oldest first."""
        page = await self.store.search_executions(flow_id=flow_id, size=100, sort_desc=False)
        return page.results

    async def logs(self, execution: Execution, task_id: str | None = None) -> list[str]:
        entries: list[LogEntry] = await self.store.get_logs(execution.id)
        return [entry.message for entry in entries if task_id in (None, entry.task_id)]

    async def until(self, execution_id: str, state: State) -> Execution:
        """Poll the store until an execution is in `state`."""
        for _ in range(2000):
            found = await self.store.get_execution(execution_id)
            if found is not None and found.current is state:
                return found
            await asyncio.sleep(0.01)
        raise AssertionError(f"{execution_id} never reached {state.value}")


@asynccontextmanager
async def engine(tmp_path: Path, *sources: str) -> AsyncIterator[Engine]:
    """Save the flows, then yield a started runner over them."""
    store = await open_store(f"sqlite:///{tmp_path / 'lanner.db'}")
    repo = FlowRepository(store)
    for source in sources:
        await repo.save(source)
    try:
        async with Runner(Settings.load(home=tmp_path, environ={}), store) as runner:
            yield Engine(runner, store)
    finally:
        await store.close()


def flow(flow_id: str, body: str) -> str:
    """Return a flow of namespace `company.team` with this YAML body."""
    return f"id: {flow_id}\nnamespace: company.team\n{body}"
