"""A worker's results and their metrics, stored in one statement by a PostgreSQL queue."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from lanner.clock import utcnow
from lanner.jobs import WorkerResult
from lanner.metrics import MetricEntry, MetricType
from lanner.queue import JobTicket, MemoryQueue, PostgresQueue
from lanner.states import State
from lanner.store import PostgresStore
from tests.unit.queue.stored import postgres_store_and_queue


@pytest.fixture
async def opened(postgres_url: str) -> AsyncIterator[tuple[PostgresStore, PostgresQueue]]:
    async with postgres_store_and_queue(postgres_url) as both:
        yield both


def _metric(run: str, name: str, value: float) -> MetricEntry:
    return MetricEntry(
        "ns", "f", "ex1", "t", run, MetricType.COUNTER, name, value, utcnow(), {"k": "v"}
    )


def _result(run: str, *metrics: MetricEntry) -> WorkerResult:
    now = utcnow()
    return WorkerResult("ex1", run, State.SUCCESS, now, now, {"n": 1}, metrics)


async def _held(queue: PostgresQueue, *runs: str) -> list[JobTicket]:
    """Queue a job for each task run of ex1 and take them all as worker w1."""
    await queue.enqueue([JobTicket("ex1", run, 1, 1, None) for run in runs])
    return await queue.take("w1", len(runs))


async def _names(store: PostgresStore) -> list[tuple[str, str, float]]:
    page = await store.get_metrics("ex1", size=50)
    return [(entry.task_run_id, entry.name, entry.value) for entry in page.results]


async def _queued(queue: PostgresQueue) -> list[WorkerResult | None]:
    async with queue.claim("ex1") as claim:
        assert claim is not None
        return [event.result for event in claim.events]


async def test_metrics_are_stored_in_order_and_the_results_queued_without_them(
    opened: tuple[PostgresStore, PostgresQueue],
) -> None:
    store, queue = opened
    first, second = await _held(queue, "run1", "run2")
    one = _result("run1", _metric("run1", "b", 1), _metric("run1", "a", 2))
    two = _result("run2", _metric("run2", "c", 3))

    held = await queue.finish_all("w1", [(first, one), (second, two)], with_metrics=True)

    assert held == [True, True]
    assert await _names(store) == [("run1", "b", 1), ("run1", "a", 2), ("run2", "c", 3)]
    [stored] = (await store.get_metrics("ex1", task_run_id="run1", size=1)).results
    assert stored == one.metrics[0]
    queued = await _queued(queue)
    assert [result.metrics if result else None for result in queued] == [(), ()]
    assert [result.outputs if result else None for result in queued] == [{"n": 1}, {"n": 1}]


async def test_the_metrics_of_a_job_no_longer_held_are_not_stored(
    opened: tuple[PostgresStore, PostgresQueue],
) -> None:
    store, queue = opened
    [ticket] = await _held(queue, "run1")
    late = _result("run1", _metric("run1", "late", 1))

    assert await queue.finish_all("w2", [(ticket, late)], with_metrics=True) == [False]

    assert await _names(store) == []


async def test_a_job_reported_twice_has_the_metrics_of_its_first_result_only(
    opened: tuple[PostgresStore, PostgresQueue],
) -> None:
    store, queue = opened
    [ticket] = await _held(queue, "run1")
    first = _result("run1", _metric("run1", "first", 1))
    again = _result("run1", _metric("run1", "again", 2))

    held = await queue.finish_all("w1", [(ticket, first), (ticket, again)], with_metrics=True)

    assert held == [True, False]
    assert await _names(store) == [("run1", "first", 1)]


async def test_without_with_metrics_the_results_keep_their_metrics(
    opened: tuple[PostgresStore, PostgresQueue],
) -> None:
    store, queue = opened
    [ticket] = await _held(queue, "run1")
    result = _result("run1", _metric("run1", "kept", 1))

    assert await queue.finish_all("w1", [(ticket, result)]) == [True]

    assert await _names(store) == []  # the executor stores them with the step
    assert await _queued(queue) == [result]


async def test_a_memory_queue_refuses_to_store_metrics() -> None:
    queue = MemoryQueue()
    with pytest.raises(ValueError, match="no log lines nor metrics"):
        await queue.finish_all("w1", [], with_metrics=True)
