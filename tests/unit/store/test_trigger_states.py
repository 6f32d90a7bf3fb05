"""Trigger states: kept whole, listed in order, filtered by namespace and flow, forgotten."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lanner.exceptions import StoreError
from lanner.executions import Label
from lanner.store import Store
from lanner.store.triggers import Backfill, PendingDate, TriggerState

MOMENT = datetime(2024, 1, 1, 10, 0, tzinfo=UTC)


def state(
    namespace: str = "company.team", flow_id: str = "hello", trigger_id: str = "t"
) -> TriggerState:
    return TriggerState(
        namespace,
        flow_id,
        trigger_id,
        type="io.kestra.plugin.core.trigger.Schedule",
        updated=MOMENT,
    )


async def test_a_state_comes_back_equal(store: Store) -> None:
    full = TriggerState(
        "company.team",
        "hello",
        "nightly",
        type="io.kestra.plugin.core.trigger.Schedule",
        date=MOMENT,
        next_date=datetime(2024, 1, 2, 10, 0, tzinfo=UTC),
        disabled=True,
        backfill=Backfill(MOMENT, MOMENT, None, (Label("a", "b"),), {"x": [1]}, paused=True),
        pending=PendingDate(MOMENT, backfill=True),
        execution_id="abc",
        definition="0 10 * * *|False|UTC",
        backfill_key="{}",
        updated=MOMENT,
    )
    await store.save_trigger_state(full)

    assert await store.get_trigger_state("company.team", "hello", "nightly") == full
    assert await store.get_trigger_state("company.team", "hello", "other") is None


async def test_saving_again_replaces(store: Store) -> None:
    await store.save_trigger_state(state())
    await store.save_trigger_state(
        TriggerState("company.team", "hello", "t", disabled=True, updated=MOMENT)
    )

    found = await store.get_trigger_state("company.team", "hello", "t")
    assert found is not None
    assert found.disabled
    assert len(await store.list_trigger_states()) == 1


async def test_list_orders_and_filters(store: Store) -> None:
    for item in (
        state("company.team", "b", "t2"),
        state("company.team", "b", "t1"),
        state("company", "a", "t"),
        state("companyx", "a", "t"),
    ):
        await store.save_trigger_state(item)

    every = [s.key for s in await store.list_trigger_states()]
    in_company = [s.key for s in await store.list_trigger_states(namespace="company")]
    of_flow = [s.key for s in await store.list_trigger_states(namespace="company", flow_id="b")]

    assert every == [
        ("company", "a", "t"),
        ("company.team", "b", "t1"),
        ("company.team", "b", "t2"),
        ("companyx", "a", "t"),
    ]
    assert in_company == every[:3]
    assert of_flow == every[1:3]


async def test_delete_says_whether_there_was_a_state(store: Store) -> None:
    await store.save_trigger_state(state())

    assert await store.delete_trigger_state("company.team", "hello", "t") is True
    assert await store.delete_trigger_state("company.team", "hello", "t") is False
    assert await store.list_trigger_states() == []


async def test_a_state_that_cannot_be_stored_is_refused(store: Store) -> None:
    broken = TriggerState(
        "company.team",
        "hello",
        "t",
        backfill=Backfill(MOMENT, MOMENT, None, inputs={"x": object()}),
    )
    with pytest.raises(StoreError, match=r"company\.team\.hello\.t"):
        await store.save_trigger_state(broken)
    assert await store.list_trigger_states() == []
