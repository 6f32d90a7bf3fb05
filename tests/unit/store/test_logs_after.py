"""Reading an execution's log lines after a position, as a follower does, on every backend."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from lanner.executions import LogEntry
from lanner.store import LogTail, Store
from tests.unit.store import records
from tests.unit.store.records import T0


def _messages(entries: list[LogEntry]) -> list[str]:
    return [entry.message for entry in entries]


async def test_no_lines_yet_leaves_the_position_at_the_start(store: Store) -> None:
    assert await store.logs_after("exec-1") == LogTail([], 0)


async def test_reading_on_gives_only_the_new_lines_of_the_execution(store: Store) -> None:
    await store.append_logs([records.log("a"), records.log("x", execution_id="exec-2")])
    await store.append_logs([records.log("b")])
    first = await store.logs_after("exec-1")

    await store.append_logs([records.log("c"), records.log("y", execution_id="exec-2")])
    await store.append_logs([records.log("d")])
    second = await store.logs_after("exec-1", first.position)
    third = await store.logs_after("exec-1", second.position)

    assert _messages(first.entries) == ["a", "b"]
    assert _messages(second.entries) == ["c", "d"]
    assert third == LogTail([], second.position)
    assert second.position > first.position > 0


async def test_the_lines_are_whole_and_in_append_order(store: Store) -> None:
    # Timestamps go backwards: the order must be the order lines were appended in.
    lines = [records.log(f"line {i}", at=T0 - timedelta(seconds=i)) for i in range(5)]
    await store.append_logs(lines[:3])
    await store.append_logs(lines[3:])

    tail = await store.logs_after("exec-1")

    assert tail.entries == lines
    assert tail.entries == await store.get_logs("exec-1")


async def test_a_position_still_holds_after_other_lines_are_deleted(store: Store) -> None:
    await store.append_logs([records.log("a"), records.log("x", execution_id="exec-2")])
    first = await store.logs_after("exec-1")
    await store.delete_logs("exec-2")
    await store.append_logs([records.log("b"), records.log("y", execution_id="exec-2")])

    second = await store.logs_after("exec-1", first.position)

    assert _messages(second.entries) == ["b"]


async def test_reading_while_others_append_gives_every_line_once(store: Store) -> None:
    writers, batches = 4, 25
    stop = asyncio.Event()

    async def write(writer: int) -> None:
        for batch in range(batches):
            await store.append_logs([records.log(f"{writer}:{batch}:{i}") for i in range(2)])
            await asyncio.sleep(0)

    async def follow() -> list[str]:
        told: list[str] = []
        position = 0
        while True:
            done = stop.is_set()  # read once more after the writers finished
            tail = await store.logs_after("exec-1", position)
            told += _messages(tail.entries)
            position = tail.position
            if done:
                return told
            await asyncio.sleep(0)

    following = asyncio.create_task(follow())
    await asyncio.gather(*(write(writer) for writer in range(writers)))
    stop.set()
    told = await following

    assert sorted(told) == sorted(
        f"{w}:{b}:{i}" for w in range(writers) for b in range(batches) for i in range(2)
    )
    assert told == _messages(await store.get_logs("exec-1"))
