"""A worker's results and the log lines of those task runs, reported in one transaction."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import psycopg
import pytest

from lanner.clock import utcnow
from lanner.exceptions import StoreError
from lanner.executions import Level, LogEntry
from lanner.jobs import WorkerResult
from lanner.queue import JobTicket, MemoryQueue, PostgresQueue
from lanner.states import State
from lanner.store import MemoryStore, PostgresStore
from tests import postgres
from tests.unit.queue.stored import postgres_store_and_queue


@pytest.fixture
async def opened(postgres_url: str) -> AsyncIterator[tuple[PostgresStore, PostgresQueue]]:
    async with postgres_store_and_queue(postgres_url) as both:
        yield both


def _line(execution: str, message: str) -> LogEntry:
    return LogEntry("ns", "f", execution, utcnow(), Level.INFO, message, "t", f"run-{execution}", 1)


def _result(run: str, outputs: dict[str, object] | None = None) -> WorkerResult:
    now = utcnow()
    return WorkerResult("ex1", run, State.SUCCESS, now, now, outputs or {"n": 1})


async def test_log_lines_are_stored_and_noticed_with_the_results(
    opened: tuple[PostgresStore, PostgresQueue],
) -> None:
    store, queue = opened
    noticed: list[str] = []
    queue.on_logs(noticed.append)
    await queue.enqueue([JobTicket("ex1", "run1", 3, 1, None)])
    [ticket] = await queue.take("w1", 1)
    lines = [_line("ex1", "first"), _line("ex2", "second"), _line("ex1", "third")]
    result = _result("run1")

    assert await queue.finish_all("w1", [(ticket, result)], logs=lines) == [True]

    assert [entry.message for entry in await store.get_logs("ex1")] == ["first", "third"]
    assert [entry.message for entry in await store.get_logs("ex2")] == ["second"]
    async with queue.claim("ex1") as claim:
        assert claim is not None
        assert [event.result for event in claim.events] == [result]
    deadline = time.monotonic() + 5
    while len(noticed) < 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert sorted(noticed) == ["ex1", "ex2"]


async def test_log_lines_are_not_stored_when_the_results_are_not(
    opened: tuple[PostgresStore, PostgresQueue],
) -> None:
    store, queue = opened
    await queue.enqueue([JobTicket("ex1", "run1", 3, 1, None)])
    [ticket] = await queue.take("w1", 1)
    unwritable = _result("run1", {"when": object()})

    with pytest.raises(StoreError):
        await queue.finish_all("w1", [(ticket, unwritable)], logs=[_line("ex1", "lost?")])

    assert await store.get_logs("ex1") == []
    # The job is still held: the worker reports it again, with its lines.
    fixed = _result("run1")
    assert await queue.finish_all("w1", [(ticket, fixed)], logs=[_line("ex1", "kept")]) == [True]
    assert [entry.message for entry in await store.get_logs("ex1")] == ["kept"]


async def test_log_lines_without_results_are_stored(
    opened: tuple[PostgresStore, PostgresQueue],
) -> None:
    store, queue = opened
    assert await queue.finish_all("w1", [], logs=[_line("ex3", "alone")]) == []
    assert [entry.message for entry in await store.get_logs("ex3")] == ["alone"]


async def test_a_report_numbers_its_lines_only_once_it_holds_their_executions_log_lock(
    opened: tuple[PostgresStore, PostgresQueue], postgres_url: str
) -> None:
    store, queue = opened
    await queue.enqueue([JobTicket("ex1", "run1", 3, 1, None)])
    [ticket] = await queue.take("w1", 1)
    async with await psycopg.AsyncConnection.connect(postgres_url) as appender:
        # Another appender of ex1's lines, not yet committed.
        await appender.execute("SELECT pg_advisory_xact_lock(hashtextextended('ex1', 2))")
        report = asyncio.create_task(
            queue.finish_all("w1", [(ticket, _result("run1"))], logs=[_line("ex1", "after")])
        )
        await asyncio.sleep(0.3)
        assert not report.done()
        assert await store.get_logs("ex1") == []
        await appender.commit()
        assert await asyncio.wait_for(report, 5) == [True]
    assert [entry.message for entry in await store.get_logs("ex1")] == ["after"]


async def test_a_report_tells_executors_only_when_it_queued_a_result(
    opened: tuple[PostgresStore, PostgresQueue], postgres_url: str
) -> None:
    _, queue = opened
    await queue.enqueue([JobTicket("ex1", "run1", 3, 1, None)])
    [ticket] = await queue.take("w1", 1)
    async with await psycopg.AsyncConnection.connect(postgres_url, autocommit=True) as listener:
        await listener.execute("LISTEN lanner_events")
        # Reported by a worker that no longer holds the job: only the line is kept.
        stale = await queue.finish_all("w2", [(ticket, _result("run1"))], logs=[_line("ex1", "a")])
        assert stale == [False]
        assert [n async for n in listener.notifies(timeout=0.3)] == []
        assert await queue.finish_all("w1", [(ticket, _result("run1"))]) == [True]
        [notice] = [n async for n in listener.notifies(timeout=5, stop_after=1)]
        assert notice.channel == "lanner_events"


async def test_a_queue_shares_the_database_of_a_store_on_the_same_url(
    opened: tuple[PostgresStore, PostgresQueue],
) -> None:
    store, queue = opened
    assert queue.shares_database(store)
    assert not queue.shares_database(MemoryStore())
    with postgres.database() as other_url:
        other = await PostgresStore.open(other_url)
        try:
            assert not queue.shares_database(other)
        finally:
            await other.close()


async def test_a_memory_queue_refuses_log_lines() -> None:
    queue = MemoryQueue()
    assert not queue.shares_database(MemoryStore())
    with pytest.raises(ValueError, match="keeps no log lines"):
        await queue.finish_all("w1", [], logs=[_line("ex1", "nowhere")])
