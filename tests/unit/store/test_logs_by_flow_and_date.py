"""Log lines searched between two instants and deleted flow by flow, on every backend."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from lanner.store import Store
from tests.unit.store import records
from tests.unit.store.records import T0

SECOND = timedelta(seconds=1)
MICRO = timedelta(microseconds=1)

BOUNDS = [
    ("no-bound", None, None, "abc"),
    ("after-inclusive", T0 + SECOND, None, "bc"),
    ("before-inclusive", None, T0 + SECOND, "ab"),
    ("both", T0 + SECOND, T0 + SECOND, "b"),
    ("just-after", T0 + SECOND + MICRO, None, "c"),
    ("empty", T0 + 3 * SECOND, None, ""),
]


@pytest.mark.parametrize(
    ("after", "before", "expected"),
    [case[1:] for case in BOUNDS],
    ids=[case[0] for case in BOUNDS],
)
async def test_search_logs_between_instants(
    store: Store, after: datetime | None, before: datetime | None, expected: str
) -> None:
    await store.append_logs([records.log(name, at=T0 + SECOND * i) for i, name in enumerate("abc")])

    found = await store.search_logs(after=after, before=before)

    assert "".join(sorted(entry.message for entry in found.results)) == expected
    assert found.total == len(expected)


async def test_delete_flow_logs(store: Store) -> None:
    await store.append_logs(
        [
            records.log("a", execution_id="e1"),
            records.log("b", execution_id="e2"),
            records.log("other flow", flow_id="other"),
            records.log("other namespace", namespace="company.team.sub"),
        ]
    )

    assert await store.delete_flow_logs("company.team", "hello") == 2

    remaining = await store.search_logs(size=10)
    assert sorted(entry.message for entry in remaining.results) == ["other flow", "other namespace"]


async def test_delete_flow_logs_of_one_trigger(store: Store) -> None:
    scheduled = replace(records.log("scheduled"), trigger_id="schedule")
    hooked = replace(records.log("hooked"), trigger_id="webhook")
    await store.append_logs([scheduled, hooked, records.log("plain")])

    assert await store.delete_flow_logs("company.team", "hello", trigger_id="schedule") == 1

    remaining = await store.search_logs(size=10)
    assert sorted(entry.message for entry in remaining.results) == ["hooked", "plain"]
