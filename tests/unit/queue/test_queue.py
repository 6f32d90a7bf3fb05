"""The queue Protocol, on memory and on PostgreSQL: the same behaviour from both."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import pytest

from lanner.clock import utcnow
from lanner.exceptions import StoreError
from lanner.jobs import WorkerResult
from lanner.metrics import MetricEntry, MetricType
from lanner.queue import EventKind, ExecutorEvent, JobTicket, MemoryQueue, PostgresQueue, Queue
from lanner.states import State
from lanner.store import PostgresStore
from tests import postgres


@pytest.fixture(params=["memory", "postgres"])
async def queue(request: pytest.FixtureRequest) -> AsyncIterator[Queue]:
    opened: Queue
    if request.param == "memory":
        opened = MemoryQueue(lease=0.3)
    else:
        url: str = request.getfixturevalue("postgres_url")
        postgres.clear(url)
        store = await PostgresStore.open(url)  # brings the schema up to date
        await store.close()
        opened = await PostgresQueue.open(url, lease=0.3)
    try:
        yield opened
    finally:
        await opened.close()


def _ticket(run: str = "run1", attempt: int = 1, execution: str = "ex1") -> JobTicket:
    return JobTicket(execution, run, 3, attempt, None)


def _result(run: str = "run1") -> WorkerResult:
    now = utcnow()
    metric = MetricEntry("ns", "f", "ex1", "t", run, MetricType.COUNTER, "calls", 2.0, now, {})
    return WorkerResult("ex1", run, State.SUCCESS, now, now, {"body": [1, "é"]}, (metric,))


async def test_claimed_events_are_consumed_in_order(queue: Queue) -> None:
    await queue.send(
        [ExecutorEvent(EventKind.ADVANCE, "ex1"), ExecutorEvent(EventKind.KILL, "ex1")]
    )
    await queue.send([ExecutorEvent(EventKind.RESUME, "ex2", outputs={"ok": True})])
    assert await queue.due_executions(10) == ["ex1", "ex2"]
    async with queue.claim("ex2") as claim:
        assert claim is not None
        assert [(e.kind, e.outputs) for e in claim.events] == [(EventKind.RESUME, {"ok": True})]
    async with queue.claim("ex1") as claim:
        assert claim is not None
        assert [e.kind for e in claim.events] == [EventKind.ADVANCE, EventKind.KILL]
    assert await queue.due_executions(10) == []


async def test_a_failed_claim_leaves_its_events_queued(queue: Queue) -> None:
    await queue.send([ExecutorEvent(EventKind.ADVANCE, "ex1")])
    with pytest.raises(RuntimeError):
        await _die_holding(queue, "ex1")
    assert await queue.due_executions(10) == ["ex1"]


async def _die_holding(queue: Queue, execution_id: str) -> None:
    async with queue.claim(execution_id) as claim:
        assert claim is not None
        assert len(claim.events) == 1
        raise RuntimeError("the executor died")


async def test_an_execution_is_claimed_by_one_holder_at_a_time(queue: Queue) -> None:
    await queue.send([ExecutorEvent(EventKind.ADVANCE, "ex1")])
    async with queue.claim("ex1") as first:
        assert first is not None
        async with queue.claim("ex1") as second:
            assert second is None
    async with queue.claim("ex1") as again:
        assert again is not None
        assert again.events == []


async def test_a_timer_is_due_later_and_replaces_the_previous_one(queue: Queue) -> None:
    soon = utcnow() + timedelta(seconds=0.4)
    await queue.send([ExecutorEvent(EventKind.TIMER, "ex1", available_at=utcnow() + timedelta(60))])
    await queue.send([ExecutorEvent(EventKind.TIMER, "ex1", available_at=soon)])
    assert await queue.due_executions(10) == []
    due_in = await queue.next_due()
    assert due_in is not None
    assert 0.1 < due_in <= 0.4
    await asyncio.sleep(due_in + 0.05)
    async with queue.claim("ex1") as claim:
        assert claim is not None
        assert [e.kind for e in claim.events] == [EventKind.TIMER]
    assert await queue.next_due() is None


async def test_jobs_are_leased_once_and_their_results_become_events(queue: Queue) -> None:
    await queue.enqueue([_ticket("run1"), _ticket("run2"), _ticket("run1")])
    first = await queue.take("w1", 1)
    second = await queue.take("w2", 5)
    assert [t.task_run_id for t in first] == ["run1"]
    assert [t.task_run_id for t in second] == ["run2"]
    assert await queue.take("w3", 5) == []
    reported = _result("run1")
    assert await queue.finish("w1", first[0], reported)
    assert not await queue.finish("w1", second[0], _result("run2"))  # w2 holds it
    async with queue.claim("ex1") as claim:
        assert claim is not None
        (event,) = claim.events
    assert event.kind is EventKind.RESULT
    assert event.result == reported


async def test_results_reported_together_are_events_of_the_jobs_still_held(
    queue: Queue,
) -> None:
    await queue.enqueue([_ticket("run1"), _ticket("run2"), _ticket("run3")])
    mine = await queue.take("w1", 2)
    theirs = await queue.take("w2", 1)
    results = [(ticket, _result(ticket.task_run_id)) for ticket in [*mine, *theirs]]

    assert await queue.finish_all("w1", results) == [True, True, False]

    async with queue.claim("ex1") as claim:
        assert claim is not None
        reported = [event.result for event in claim.events]
    assert reported == [result for _, result in results[:2]]
    assert await queue.finish_all("w1", []) == []


async def test_a_job_reported_twice_in_one_batch_has_its_first_result_queued(
    queue: Queue,
) -> None:
    await queue.enqueue([_ticket("run1")])
    [ticket] = await queue.take("w1", 1)
    first, again = _result("run1"), replace(_result("run1"), outputs={"n": 2})

    assert await queue.finish_all("w1", [(ticket, first), (ticket, again)]) == [True, False]

    async with queue.claim("ex1") as claim:
        assert claim is not None
        assert [event.result for event in claim.events] == [first]


async def test_a_job_whose_worker_stops_heart_beating_is_lost(queue: Queue) -> None:
    await queue.enqueue([_ticket("run1"), _ticket("run2")])
    await queue.take("alive", 1)
    await queue.take("dead", 1)
    for _ in range(4):
        await asyncio.sleep(0.1)
        await queue.heartbeat("alive")
    assert await queue.reclaim_expired() == 1
    async with queue.claim("ex1") as claim:
        assert claim is not None
        (event,) = claim.events
    assert event.kind is EventKind.LOST
    assert event.ticket == _ticket("run2")
    assert not await queue.finish("dead", _ticket("run2"), _result("run2"))


async def test_handed_back_jobs_are_lost_at_once(queue: Queue) -> None:
    await queue.enqueue([_ticket("run1")])
    (ticket,) = await queue.take("w1", 1)
    await queue.hand_back("w1", [ticket, _ticket("other")])
    async with queue.claim("ex1") as claim:
        assert claim is not None
        assert [(e.kind, e.ticket) for e in claim.events] == [(EventKind.LOST, ticket)]


async def test_cancelling_drops_queued_jobs_and_tells_workers(queue: Queue) -> None:
    heard: list[str] = []
    queue.on_cancel(heard.append)
    await queue.enqueue([_ticket("run1"), _ticket("run2")])
    await queue.take("w1", 1)
    await queue.cancel(["run1", "run2"])
    deadline = time.monotonic() + 5
    while len(heard) < 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert sorted(heard) == ["run1", "run2"]
    assert await queue.take("w2", 5) == []


async def test_waiting_returns_when_work_arrives(queue: Queue) -> None:
    await queue.wait_for_jobs(0)  # lower a flag left by the fixture's set-up
    started = time.monotonic()
    waiting = asyncio.create_task(queue.wait_for_jobs(10))
    await asyncio.sleep(0.05)
    await queue.enqueue([_ticket()])
    await asyncio.wait_for(waiting, 5)
    assert time.monotonic() - started < 5
    waiting_events = asyncio.create_task(queue.wait_for_events(10))
    await asyncio.sleep(0.05)
    await queue.send([ExecutorEvent(EventKind.ADVANCE, "ex1")])
    await asyncio.wait_for(waiting_events, 5)


async def test_notices_reach_listeners(queue: Queue) -> None:
    changes: list[tuple[str, State]] = []
    logs: list[str] = []
    queue.on_change(lambda execution_id, state: changes.append((execution_id, state)))
    queue.on_logs(logs.append)
    await queue.changed([("ex1", State.RUNNING), ("ex2", State.SUCCESS)])
    await queue.logged(["ex3"])
    deadline = time.monotonic() + 5
    while (len(changes) < 2 or not logs) and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert sorted(changes) == [("ex1", State.RUNNING), ("ex2", State.SUCCESS)]
    assert logs == ["ex3"]


async def test_an_unserialisable_resume_value_names_the_event() -> None:
    queue = await _postgres_queue_or_skip()
    event = ExecutorEvent(EventKind.RESUME, "ex9", outputs={"when": object()})
    with pytest.raises(StoreError, match="Unable to queue the resume event of execution 'ex9'"):
        await queue.send([event])
    await queue.close()


async def _postgres_queue_or_skip() -> PostgresQueue:
    reason = postgres.unreachable_reason()
    if reason is not None:
        pytest.skip(reason)
    with postgres.database() as url:
        store = await PostgresStore.open(url)
        await store.close()
        return await PostgresQueue.open(url)


async def test_missing_tickets_are_those_neither_queued_nor_leased(queue: Queue) -> None:
    await queue.enqueue([_ticket("run1"), _ticket("run2"), _ticket("run3")])
    (leased,) = await queue.take("w1", 1)
    (dropped,) = await queue.take("w1", 1)
    await queue.drop("w1", dropped)
    wanted = [leased, dropped, _ticket("run3"), _ticket("run3", attempt=2)]
    assert await queue.missing(wanted) == [dropped, _ticket("run3", attempt=2)]


async def test_a_job_whose_result_waits_for_an_executor_is_not_missing(queue: Queue) -> None:
    await queue.enqueue([_ticket("run1"), _ticket("run2")])
    finished, handed_back = await queue.take("w1", 2)
    await queue.finish("w1", finished, _result("run1"))
    await queue.hand_back("w1", [handed_back])
    assert await queue.missing([finished, handed_back, _ticket("run3")]) == [_ticket("run3")]
    async with queue.claim("ex1") as claim:
        assert claim is not None  # the executor takes both events: the jobs are missing again
    assert await queue.missing([finished, handed_back]) == [finished, handed_back]


async def test_waiting_executions_are_those_with_events_due_now_or_later(queue: Queue) -> None:
    later = utcnow() + timedelta(seconds=60)
    await queue.send(
        [ExecutorEvent(EventKind.ADVANCE, "now"), ExecutorEvent(EventKind.KILL, "now")]
    )
    await queue.send([ExecutorEvent(EventKind.TIMER, "later", available_at=later)])
    await queue.send([ExecutorEvent(EventKind.ADVANCE, "consumed")])
    async with queue.claim("consumed") as claim:
        assert claim is not None
        # Being decided: its events stay queued until the claim ends.
        assert await queue.waiting(["consumed"]) == {"consumed"}
    wanted = ["now", "later", "consumed", "unknown"]
    assert await queue.waiting(wanted) == {"now", "later"}
    assert await queue.waiting([]) == set()
