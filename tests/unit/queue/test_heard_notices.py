"""A PostgreSQL queue hears only the notices its process needs, and refuses the others."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from lanner.queue import JobTicket, Notice, PostgresQueue
from lanner.queue_engine import QueueEngine
from lanner.queue_pool import HEARD_NOTICES
from lanner.settings import Settings
from lanner.states import State
from lanner.storage import LocalStorage
from lanner.store import PostgresStore
from tests import postgres
from tests.unit.store import records


@asynccontextmanager
async def _opened(url: str, hears: Collection[Notice]) -> AsyncIterator[PostgresQueue]:
    queue = await PostgresQueue.open(url, hears=hears)
    try:
        yield queue
    finally:
        await queue.close()


@pytest.fixture
async def url(postgres_url: str) -> str:
    postgres.clear(postgres_url)
    store = await PostgresStore.open(postgres_url)  # brings the schema up to date
    await store.close()
    return postgres_url


async def test_a_worker_queue_wakes_on_jobs_and_refuses_executor_events(url: str) -> None:
    async with _opened(url, HEARD_NOTICES["worker"]) as queue:
        await queue.wait_for_jobs(0)
        waiting = asyncio.create_task(queue.wait_for_jobs(10))
        await asyncio.sleep(0.05)
        await queue.enqueue([JobTicket("ex1", "run1", 1, 1)])
        await asyncio.wait_for(waiting, 5)
        with pytest.raises(ValueError, match="not heard") as refused:
            await queue.wait_for_events(0)
        assert str(refused.value) == (
            "notices on 'lanner_events' are not heard by this process"
            " (it hears: lanner_jobs, lanner_cancel)"
        )


async def test_listening_to_a_notice_not_heard_is_refused(url: str) -> None:
    async with _opened(url, [Notice.EVENTS]) as queue:
        with pytest.raises(ValueError, match="'lanner_change' are not heard"):
            queue.on_change(lambda execution_id, state: None)
        with pytest.raises(ValueError, match="'lanner_logs' are not heard"):
            queue.on_logs(lambda execution_id: None)
        with pytest.raises(ValueError, match="'lanner_cancel' are not heard"):
            queue.on_cancel(lambda task_run_id: None)


async def test_a_scheduler_engine_hears_changes_without_log_notices(
    url: str, tmp_path: Path
) -> None:
    """A scheduler's engine tells executions and no log line: it needs no log notice."""
    async with _opened(url, HEARD_NOTICES["scheduler"]) as queue:
        store = await PostgresStore.open(url)
        settings = Settings.load(home=tmp_path, environ={})
        engine = QueueEngine(settings, store, LocalStorage(tmp_path / "storage"), queue)
        engine.tell_all = True
        told: list[str] = []
        engine.add_execution_listener(lambda execution: told.append(execution.id))
        try:
            with pytest.raises(ValueError, match="'lanner_logs' are not heard"):
                engine.add_log_listener(lambda entry: None)
            running = records.execution("ex-told")
            await store.save_execution(running)
            await queue.changed([(running.id, State.RUNNING)])
            for _ in range(100):
                if told:
                    break
                await asyncio.sleep(0.05)
            assert told == [running.id]
        finally:
            await engine.aclose()
            await store.close()
