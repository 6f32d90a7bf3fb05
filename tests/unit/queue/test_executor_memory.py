"""What an executor holds: the executions it drives between claims, and claims within its pool."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest

from lanner.exceptions import LannerError
from lanner.executions import Execution, Label
from lanner.queue import EventKind, ExecutorEvent, MemoryQueue, PostgresQueue
from lanner.queue_executor import PARALLEL, QueueExecutor
from lanner.settings import Settings
from lanner.states import State
from lanner.storage import LocalStorage
from lanner.store import MemoryStore, PostgresStore
from tests import postgres
from tests.unit.queue.stored import stored_execution

WAIT = """id: wait
namespace: company.team
tasks:
  - id: first
    type: io.kestra.plugin.core.flow.Pause
  - id: second
    type: io.kestra.plugin.core.flow.Pause
"""


class CountingStore(MemoryStore):
    """A memory store that counts whole-execution reads."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    async def get_execution(self, execution_id: str) -> Execution | None:
        self.reads += 1
        return await super().get_execution(execution_id)


async def _until(store: MemoryStore, execution_id: str, check: str) -> Execution:
    for _ in range(500):
        execution = await MemoryStore.get_execution(store, execution_id)  # not counted
        if execution is not None and check in _describe(execution):
            return execution
        await asyncio.sleep(0.01)
    raise AssertionError(f"{execution_id} never reached {check}: {execution}")


def _describe(execution: Execution) -> str:
    paused = [run.task_id for run in execution.task_runs if run.current is State.PAUSED]
    return f"{execution.current.value} paused={','.join(paused)}"


async def test_a_held_execution_is_not_read_again_unless_someone_else_wrote_it(
    tmp_path: Path,
) -> None:
    settings = Settings.load(home=tmp_path, environ={})
    store = CountingStore()
    queue = MemoryQueue()
    storage = LocalStorage(tmp_path / "storage")
    execution = await stored_execution(store, storage, settings, "wait", WAIT)
    executor = QueueExecutor(settings, store, queue, storage)
    running = asyncio.create_task(executor.run())
    try:
        await queue.send([ExecutorEvent(EventKind.ADVANCE, execution.id)])
        await _until(store, execution.id, "PAUSED paused=first")

        # Nobody else wrote it: the executor decides the resume on the execution it holds.
        reads = store.reads
        await queue.send([ExecutorEvent(EventKind.RESUME, execution.id)])
        paused = await _until(store, execution.id, "PAUSED paused=second")
        assert store.reads == reads

        # A label set through the API is a write by another process: the executor reads the
        # execution again instead of saving its older copy over the label.
        await store.save_execution(replace(paused, labels=(Label("team", "data"),)), [])
        await queue.send([ExecutorEvent(EventKind.RESUME, execution.id)])
        ended = await _until(store, execution.id, "SUCCESS")
        assert Label("team", "data") in ended.labels
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await queue.close()


async def test_an_executor_decides_no_more_at_once_than_its_queue_connections_allow(
    postgres_url: str, tmp_path: Path
) -> None:
    postgres.clear(postgres_url)
    store = await PostgresStore.open(postgres_url)  # brings the schema up to date
    settings = Settings.load(home=tmp_path, environ={})
    storage = LocalStorage(tmp_path / "storage")
    small = await PostgresQueue.open(postgres_url, connections=4)
    single = await PostgresQueue.open(postgres_url, connections=1)
    try:
        # Each decision holds a connection; one stays free for what decisions read meanwhile.
        assert QueueExecutor(settings, store, small, storage).parallel == 3
        assert QueueExecutor(settings, store, MemoryQueue(), storage).parallel == PARALLEL
        with pytest.raises(LannerError) as refused:
            QueueExecutor(settings, store, single, storage)
        assert str(refused.value).startswith("an executor needs a queue of at least 2 connections")
    finally:
        for opened in (small, single, store):
            await opened.close()
