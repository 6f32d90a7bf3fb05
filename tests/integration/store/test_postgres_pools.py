"""The PostgreSQL store's pools open no more connections than the settings allow."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from lanner.settings import Settings
from lanner.store import Store, open_configured_store
from tests import postgres

# Long enough for reads beyond the cap to reach the database if the pool let them through.
SETTLE_S = 0.5


@pytest.fixture
async def small_store(postgres_url: str, tmp_path: Path) -> AsyncIterator[Store]:
    postgres.clear(postgres_url)
    environ = {"LANNER_DATABASE_POOL_SIZE": "2", "LANNER_DATABASE_KV_POOL_SIZE": "1"}
    settings = Settings.load(home=tmp_path, database_url=postgres_url, environ=environ)
    store = await open_configured_store(settings)
    try:
        yield store
    finally:
        await store.close()


async def _waiting_on_locks(watcher: psycopg.AsyncConnection[Any]) -> int:
    found = await watcher.execute(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    row = await found.fetchone()
    assert row is not None
    return int(row[0])


async def _settled_waiters(watcher: psycopg.AsyncConnection[Any], expected: int) -> int:
    """Wait until `expected` sessions wait on a lock, give the others time, count again."""
    for _ in range(200):
        if await _waiting_on_locks(watcher) >= expected:
            break
        await asyncio.sleep(0.025)
    await asyncio.sleep(SETTLE_S)
    return await _waiting_on_locks(watcher)


async def test_the_store_holds_at_most_its_pool_size(small_store: Store, postgres_url: str) -> None:
    async with (
        await psycopg.AsyncConnection.connect(postgres_url) as blocker,
        await psycopg.AsyncConnection.connect(postgres_url, autocommit=True) as watcher,
    ):
        # Every read of the logs waits for this lock in the database, keeping its connection.
        await blocker.execute("LOCK TABLE logs IN ACCESS EXCLUSIVE MODE")
        reads = [asyncio.create_task(small_store.get_logs(f"exec-{i}")) for i in range(5)]

        waiting = await _settled_waiters(watcher, 2)
        await blocker.rollback()
        done = await asyncio.wait_for(asyncio.gather(*reads), timeout=30)

    assert waiting == 2
    assert done == [[]] * 5


async def test_the_kv_store_holds_at_most_its_pool_size(
    small_store: Store, postgres_url: str
) -> None:
    async with (
        await psycopg.AsyncConnection.connect(postgres_url) as blocker,
        await psycopg.AsyncConnection.connect(postgres_url, autocommit=True) as watcher,
    ):
        await blocker.execute("LOCK TABLE kv IN ACCESS EXCLUSIVE MODE")
        # The KV store is synchronous: each read runs in a thread of its own.
        reads = [
            asyncio.create_task(asyncio.to_thread(small_store.kv.get, "company", f"key-{i}"))
            for i in range(3)
        ]

        waiting = await _settled_waiters(watcher, 1)
        await blocker.rollback()
        done = await asyncio.wait_for(asyncio.gather(*reads), timeout=30)

    assert waiting == 1
    assert done == [None] * 3
