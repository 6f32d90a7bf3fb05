"""Log lines: appending, filtering, searching and deleting, on every backend."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from lanner.executions import Level, LogEntry
from lanner.store import Store
from tests.unit.store import records
from tests.unit.store.records import T0

SECOND = timedelta(seconds=1)


async def test_every_field_round_trips(store: Store) -> None:
    entry = LogEntry(
        namespace="company.team",
        flow_id="hello",
        execution_id="exec-1",
        timestamp=T0,
        level=Level.WARN,
        message="line one\nline two — ünïcode ✓",
        task_id="task",
        task_run_id="run-1",
        attempt_number=2,
        trigger_id="schedule",
        thread="worker-3",
    )
    bare = records.log(task_id=None, task_run_id=None, attempt=None)

    await store.append_logs([entry, bare])

    assert await store.get_logs("exec-1") == [entry, bare]


async def test_logs_come_back_in_insertion_order(store: Store) -> None:
    # Timestamps go backwards: the order must be the order lines were appended in.
    lines = [records.log(f"line {i}", at=T0 - SECOND * i) for i in range(5)]

    await store.append_logs(lines[:2])
    await store.append_logs(lines[2:])

    assert [entry.message for entry in await store.get_logs("exec-1")] == [
        f"line {i}" for i in range(5)
    ]


async def test_appending_nothing(store: Store) -> None:
    await store.append_logs([])

    assert await store.get_logs("exec-1") == []


async def test_logs_of_one_execution_only(store: Store) -> None:
    await store.append_logs([records.log("mine"), records.log("yours", execution_id="exec-2")])

    assert [entry.message for entry in await store.get_logs("exec-1")] == ["mine"]


LEVELS = [
    (None, ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"]),
    (Level.TRACE, ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"]),
    (Level.INFO, ["INFO", "WARN", "ERROR"]),
    (Level.WARN, ["WARN", "ERROR"]),
    (Level.ERROR, ["ERROR"]),
]


@pytest.mark.parametrize(("min_level", "expected"), LEVELS, ids=[str(level) for level, _ in LEVELS])
async def test_min_level_keeps_that_level_and_above(
    store: Store, min_level: Level | None, expected: list[str]
) -> None:
    await store.append_logs([records.log(level.name, level=level) for level in Level])

    found = await store.get_logs("exec-1", min_level=min_level)

    assert [entry.message for entry in found] == expected


FILTERED = [
    records.log("a", task_id="fetch", task_run_id="r1", attempt=1),
    records.log("b", task_id="fetch", task_run_id="r1", attempt=2),
    records.log("c", task_id="fetch", task_run_id="r2", attempt=1, level=Level.ERROR),
    records.log("d", task_id="print", task_run_id="r3", attempt=1),
    records.log("e", task_id=None, task_run_id=None, attempt=None),
]
FILTERS: list[tuple[str, dict[str, object], str]] = [
    ("task", {"task_id": "fetch"}, "abc"),
    ("task-run", {"task_run_id": "r1"}, "ab"),
    ("attempt", {"task_run_id": "r1", "attempt": 2}, "b"),
    ("attempt-any-task-run", {"attempt": 1}, "acd"),
    ("task-and-level", {"task_id": "fetch", "min_level": Level.WARN}, "c"),
    ("unknown-task", {"task_id": "nope"}, ""),
]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [(filters, expected) for _, filters, expected in FILTERS],
    ids=[name for name, _, _ in FILTERS],
)
async def test_get_logs_filters(store: Store, filters: dict[str, object], expected: str) -> None:
    await store.append_logs(FILTERED)

    found = await store.get_logs("exec-1", **filters)  # type: ignore[arg-type]

    assert "".join(entry.message for entry in found) == expected


@pytest.mark.parametrize(
    ("filters", "expected"),
    [(filters, expected) for _, filters, expected in FILTERS],
    ids=[name for name, _, _ in FILTERS],
)
async def test_logs_as_json_are_the_lines_get_logs_finds(
    store: Store, filters: dict[str, object], expected: str
) -> None:
    await store.append_logs(FILTERED)

    texts = await store.get_logs_json("exec-1", **filters)  # type: ignore[arg-type]

    assert [json.loads(text) for text in texts] == [
        entry.to_json() for entry in FILTERED if entry.message in expected
    ]


async def test_delete_logs(store: Store) -> None:
    await store.append_logs(
        [records.log("x"), records.log("y"), records.log("z", execution_id="b")]
    )

    assert await store.delete_logs("exec-1") == 2

    assert await store.get_logs("exec-1") == []
    assert len(await store.get_logs("b")) == 1
    assert await store.delete_logs("exec-1") == 0


# -- search ---------------------------------------------------------------------------------

SEARCHABLE = [
    records.log("Started", namespace="company", flow_id="root", at=T0),
    records.log("Request sent", flow_id="hello", at=T0 + SECOND, level=Level.DEBUG),
    records.log("Response 500", flow_id="hello", at=T0 + 2 * SECOND, level=Level.ERROR),
    records.log("50% done", namespace="company.team.sub", flow_id="deep", at=T0 + 3 * SECOND),
    records.log("neighbour", namespace="companyx", flow_id="hello", at=T0 + 4 * SECOND),
]
LOG_SEARCHES: list[tuple[str, dict[str, object], list[str]]] = [
    ("everything", {}, ["neighbour", "50% done", "Response 500", "Request sent", "Started"]),
    (
        "namespace",
        {"namespace": "company"},
        ["50% done", "Response 500", "Request sent", "Started"],
    ),
    ("sub-namespace", {"namespace": "company.team"}, ["50% done", "Response 500", "Request sent"]),
    ("flow", {"flow_id": "hello"}, ["neighbour", "Response 500", "Request sent"]),
    (
        "namespace-and-flow",
        {"namespace": "company", "flow_id": "hello"},
        ["Response 500", "Request sent"],
    ),
    ("min-level", {"min_level": Level.INFO}, ["neighbour", "50% done", "Response 500", "Started"]),
    ("query-ignores-case", {"query": "REQUEST"}, ["Request sent"]),
    ("query-is-literal", {"query": "0%"}, ["50% done"]),
    ("query-substring", {"query": "50"}, ["50% done", "Response 500"]),
    ("query-matches-message-only", {"query": "hello"}, []),
]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [(filters, expected) for _, filters, expected in LOG_SEARCHES],
    ids=[name for name, _, _ in LOG_SEARCHES],
)
async def test_search_logs_filters(
    store: Store, filters: dict[str, object], expected: list[str]
) -> None:
    await store.append_logs(SEARCHABLE)

    found = await store.search_logs(size=100, **filters)  # type: ignore[arg-type]

    assert [entry.message for entry in found.results] == expected
    assert found.total == len(expected)


async def test_search_logs_pages(store: Store) -> None:
    await store.append_logs(SEARCHABLE)

    second = await store.search_logs(page=2, size=2)
    beyond = await store.search_logs(page=4, size=2)

    assert [entry.message for entry in second.results] == ["Response 500", "Request sent"]
    assert second.total == 5
    assert (beyond.results, beyond.total) == ([], 5)


async def test_search_logs_breaks_timestamp_ties_by_insertion(store: Store) -> None:
    await store.append_logs([records.log("first"), records.log("second")])

    found = await store.search_logs()

    assert [entry.message for entry in found.results] == ["second", "first"]
