"""PostgreSQL: a follower of an execution's logs misses no line that commits late."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest

from lanner.store import PostgresStore
from tests import postgres
from tests.unit.store import records

# The test holds this advisory lock; a line whose message says HOLD waits for it while being
# inserted, after it took its `seq`, before its transaction commits.
_HOLD_KEY = 4242
HOLD = "hold me"
_HOLDING_TRIGGER = f"""
CREATE FUNCTION hold_marked_lines() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.value LIKE '%{HOLD}%' THEN
        PERFORM pg_advisory_lock_shared({_HOLD_KEY});
        PERFORM pg_advisory_unlock_shared({_HOLD_KEY});
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER hold_marked_lines BEFORE INSERT ON logs
    FOR EACH ROW EXECUTE FUNCTION hold_marked_lines();
"""


@pytest.fixture
async def url(postgres_url: str) -> AsyncIterator[str]:
    """A database of its own (postgres_url: skip when unreachable), with the holding trigger."""
    with postgres.database("lanner_log_order") as created:
        await (await PostgresStore.open(created)).close()
        with psycopg.connect(created, autocommit=True) as db:
            db.execute(_HOLDING_TRIGGER.encode())
        yield created


async def _advisory_waiters(watcher: psycopg.AsyncConnection[Any]) -> int:
    found = await watcher.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND wait_event_type = 'Lock' AND wait_event = 'advisory'"
    )
    row = await found.fetchone()
    assert row is not None
    return int(row[0])


async def _until(check: Any, what: str) -> None:
    for _ in range(400):
        if await check():
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"timed out waiting until {what}")


async def test_a_line_committed_after_a_later_one_is_still_read(url: str) -> None:
    store = await PostgresStore.open(url)
    try:
        async with (
            await psycopg.AsyncConnection.connect(url, autocommit=True) as holder,
            await psycopg.AsyncConnection.connect(url, autocommit=True) as watcher,
        ):
            await holder.execute("SELECT pg_advisory_lock(%s)", (_HOLD_KEY,))
            slow = asyncio.create_task(store.append_logs([records.log(f"{HOLD}: first")]))

            async def slow_is_held() -> bool:
                return await _advisory_waiters(watcher) == 1

            await _until(slow_is_held, "the first line is held")
            fast = asyncio.create_task(store.append_logs([records.log("second")]))

            async def fast_is_done_or_waiting() -> bool:
                return fast.done() or await _advisory_waiters(watcher) == 2

            await _until(fast_is_done_or_waiting, "the second line is stored or waits")
            early = await store.logs_after("exec-1")
            await holder.execute("SELECT pg_advisory_unlock(%s)", (_HOLD_KEY,))
            await asyncio.wait_for(asyncio.gather(slow, fast), timeout=30)
        late = await store.logs_after("exec-1", early.position)
    finally:
        await store.close()

    told = [entry.message for entry in early.entries + late.entries]
    assert told == [f"{HOLD}: first", "second"]
    assert [entry.message for entry in await _all_lines(url)] == told


async def _all_lines(url: str) -> list[Any]:
    store = await PostgresStore.open(url)
    try:
        return await store.get_logs("exec-1")
    finally:
        await store.close()
