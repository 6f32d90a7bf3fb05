"""A worker stores log lines with its reports, and those of a task still running on a timer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from lanner.queue import EventKind, ExecutorEvent, MemoryQueue, Queue
from lanner.queue_executor import QueueExecutor
from lanner.queue_worker import QueueWorker
from lanner.settings import Settings
from lanner.states import State
from lanner.storage import LocalStorage
from lanner.store import MemoryStore, Store
from tests.unit.queue.stored import postgres_store_and_queue, stored_execution

TALKING = """id: talking
namespace: company.team
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: reported with its result
  - id: long
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner:
      type: io.kestra.plugin.core.runner.Process
    commands:
      - echo logged while running
      - sleep 30
"""


@pytest.fixture(params=["memory", "postgres"])
async def backends(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Store, Queue]]:
    """A store and the queue beside it: both in memory, or both in one PostgreSQL database."""
    if request.param == "memory":
        store, queue = MemoryStore(), MemoryQueue()
        yield store, queue
        await queue.close()
        await store.close()
        return
    async with postgres_store_and_queue(request.getfixturevalue("postgres_url")) as both:
        yield both


async def test_lines_reach_the_store_with_results_and_while_a_task_runs(
    backends: tuple[Store, Queue], tmp_path: Path
) -> None:
    store, queue = backends
    settings = Settings.load(home=tmp_path, environ={})
    storage = LocalStorage(tmp_path / "storage")
    execution = await stored_execution(store, storage, settings, "talking", TALKING)
    await queue.send([ExecutorEvent(EventKind.ADVANCE, execution.id)])
    worker = QueueWorker(settings, store, queue, storage, concurrency=2, lease=30)
    tasks = [
        asyncio.create_task(QueueExecutor(settings, store, queue, storage).run()),
        asyncio.create_task(worker.run()),
    ]
    try:
        deadline = time.monotonic() + 15
        messages: list[str] = []
        while time.monotonic() < deadline:
            messages = [entry.message for entry in await store.get_logs(execution.id)]
            if "logged while running" in messages:
                break
            await asyncio.sleep(0.05)
        assert "reported with its result" in messages
        assert "logged while running" in messages
        stored = await store.get_execution(execution.id)
        assert stored is not None
        [long] = [run for run in stored.task_runs if run.task_id == "long"]
        assert long.current is State.RUNNING  # the line came before any result of its task
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await worker.stop(grace=0.05)
