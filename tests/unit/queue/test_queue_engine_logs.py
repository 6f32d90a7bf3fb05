"""The engine-less webserver follows an execution's logs: each line told once, in order."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from lanner.executions import Execution, LogEntry
from lanner.queue import MemoryQueue, PostgresQueue, Queue
from lanner.queue_engine import QueueEngine
from lanner.settings import Settings
from lanner.states import State
from lanner.storage import LocalStorage
from lanner.store import LogTail, MemoryStore, PostgresStore, Store
from tests.unit.store import records

WRITERS, BATCHES, LINES = 3, 30, 2
OTHER = "exec-other"


@pytest.fixture
async def queue(store: Store, request: pytest.FixtureRequest) -> AsyncIterator[Queue]:
    """The queue beside each store: PostgreSQL's over PostgreSQL, in memory otherwise."""
    opened: Queue
    if isinstance(store, PostgresStore):
        opened = await PostgresQueue.open(request.getfixturevalue("postgres_url"))
    else:
        opened = MemoryQueue()
    try:
        yield opened
    finally:
        await opened.close()


Following = tuple[QueueEngine, Execution, list[LogEntry]]


class CountingStore(MemoryStore):
    """A memory store that counts the log lines its readers get back."""

    def __init__(self) -> None:
        super().__init__()
        self.lines_read = 0

    async def get_logs(self, execution_id: str, **filters: Any) -> list[LogEntry]:
        entries = await super().get_logs(execution_id, **filters)
        self.lines_read += len(entries)
        return entries

    async def logs_after(self, execution_id: str, position: int = 0) -> LogTail:
        tail = await super().logs_after(execution_id, position)
        self.lines_read += len(tail.entries)
        return tail


@pytest.fixture
async def following(store: Store, queue: Queue, tmp_path: Path) -> AsyncIterator[Following]:
    async with _following(store, queue, tmp_path) as followed:
        yield followed


@contextlib.asynccontextmanager
async def _following(store: Store, queue: Queue, tmp_path: Path) -> AsyncIterator[Following]:
    """A QueueEngine following the logs of a running execution, and what it told."""
    settings = Settings.load(home=tmp_path, environ={})
    engine = QueueEngine(settings, store, LocalStorage(tmp_path / "storage"), queue)
    execution = Execution.create("company.team", "hello", 1).with_state(State.RUNNING)
    await store.save_execution(execution)
    told: list[LogEntry] = []
    engine.follows = lambda execution_id: execution_id == execution.id
    engine.add_log_listener(told.append)
    try:
        yield engine, execution, told
    finally:
        await engine.aclose()


async def _write(store: Store, queue: Queue, execution_id: str, writer: int) -> None:
    """Append lines in small batches, each followed by its notice, as a worker does."""
    for batch in range(BATCHES):
        lines = [
            records.log(f"{writer}:{batch}:{line}", execution_id=execution_id)
            for line in range(LINES)
        ]
        await store.append_logs(lines)
        await queue.logged([execution_id])


async def _told_all(told: list[LogEntry], expected: int) -> None:
    for _ in range(400):
        if len(told) >= expected:
            break
        await asyncio.sleep(0.025)
    await asyncio.sleep(0.2)  # a line told twice would arrive meanwhile


async def test_each_line_of_a_running_execution_is_told_once(
    store: Store, queue: Queue, following: Following
) -> None:
    _, execution, told = following
    expected = WRITERS * BATCHES * LINES

    await asyncio.gather(
        *(_write(store, queue, execution.id, writer) for writer in range(WRITERS)),
        _write(store, queue, OTHER, 0),
    )
    await _told_all(told, expected)

    messages = [entry.message for entry in told]
    assert len(messages) == expected
    assert sorted(messages) == sorted(
        f"{w}:{b}:{i}" for w in range(WRITERS) for b in range(BATCHES) for i in range(LINES)
    )
    assert messages == [entry.message for entry in await store.get_logs(execution.id)]
    assert {entry.execution_id for entry in told} == {execution.id}


async def test_each_line_is_read_from_the_store_once(tmp_path: Path) -> None:
    store, queue = CountingStore(), MemoryQueue()
    async with _following(store, queue, tmp_path) as (_, execution, told):
        for writer in range(WRITERS):
            await _write(store, queue, execution.id, writer)
        await _told_all(told, WRITERS * BATCHES * LINES)

    assert len(told) == WRITERS * BATCHES * LINES
    assert store.lines_read == len(told)


async def test_positions_of_executions_no_longer_followed_are_forgotten(tmp_path: Path) -> None:
    """A webserver that followed many executions keeps only those still followed."""
    store, queue = MemoryStore(), MemoryQueue()
    settings = Settings.load(home=tmp_path, environ={})
    engine = QueueEngine(settings, store, LocalStorage(tmp_path / "storage"), queue)
    followed = {f"exec-{n}" for n in range(300)}
    engine.follows = followed.__contains__
    told: list[LogEntry] = []
    engine.add_log_listener(told.append)
    try:
        for execution_id in sorted(followed):
            await store.append_logs([records.log("first", execution_id=execution_id)])
            await queue.logged([execution_id])
        await _told_all(told, len(followed))
        followed.intersection_update({"exec-0"})  # every other follower left
        await store.append_logs([records.log("second", execution_id="exec-0")])
        for _ in range(301):  # a sweep comes within as many notices as positions kept
            await queue.logged(["exec-0"])
        await _told_all(told, 301)

        assert engine.log_positions_kept == 1
        assert [entry.message for entry in told if entry.execution_id == "exec-0"] == [
            "first",
            "second",
        ]
    finally:
        await engine.aclose()
