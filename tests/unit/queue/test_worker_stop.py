"""A worker that stops hands back the jobs it runs and those it leased ahead of a free slot."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from lanner.queue import EventKind, ExecutorEvent, MemoryQueue
from lanner.queue_executor import QueueExecutor
from lanner.queue_worker import QueueWorker
from lanner.settings import Settings
from lanner.storage import LocalStorage
from lanner.store import MemoryStore
from tests.unit.queue.stored import stored_execution

NAPS = """id: naps
namespace: company.team
tasks:
  - id: both
    type: io.kestra.plugin.core.flow.Parallel
    tasks:
      - id: first
        type: io.kestra.plugin.core.flow.Sleep
        duration: PT60S
      - id: second
        type: io.kestra.plugin.core.flow.Sleep
        duration: PT60S
"""


async def _eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    for _ in range(500):
        if await check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never {what}")


async def test_stopping_hands_back_running_and_leased_jobs(tmp_path: Path) -> None:
    settings = Settings.load(home=tmp_path, environ={})
    store, queue = MemoryStore(), MemoryQueue()
    storage = LocalStorage(tmp_path / "storage")
    execution = await stored_execution(store, storage, settings, "naps", NAPS)
    await queue.send([ExecutorEvent(EventKind.ADVANCE, execution.id)])
    executor = asyncio.create_task(QueueExecutor(settings, store, queue, storage).run())

    async def decided() -> bool:
        return not await queue.due_executions(10)

    await _eventually(decided, "queued both jobs")
    executor.cancel()
    await asyncio.gather(executor, return_exceptions=True)

    worker = QueueWorker(settings, store, queue, storage, concurrency=1, lease=30)
    running = asyncio.create_task(worker.run())

    async def leased() -> bool:
        return worker.holding() == (1, 1)

    await _eventually(leased, "run one job and lease the other ahead")
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    await worker.stop(grace=0.05)

    async with queue.claim(execution.id) as claim:
        assert claim is not None
        lost = sorted(event.ticket.task_run_id for event in claim.events if event.ticket)
        assert {event.kind for event in claim.events} == {EventKind.LOST}
    stored = await store.get_execution(execution.id)
    assert stored is not None
    sleeps = sorted(run.id for run in stored.task_runs if run.task_id in ("first", "second"))
    assert lost == sleeps
