"""The KV store: typed values, expiry, overwrite rules, keys and listing, on every backend."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from lanner.clock import utcnow
from lanner.exceptions import KVConflictError, KVKeyError, StoreError
from lanner.store import KVEntry, KVType, Store

NS = "company.team"

TYPED_VALUES: list[tuple[str, Any, KVType, Any]] = [
    ("string", "hello", KVType.STRING, "hello"),
    ("empty-string", "", KVType.STRING, ""),
    ("unicode", "ünïcode ✓", KVType.STRING, "ünïcode ✓"),
    ("int", 42, KVType.NUMBER, 42),
    ("big-int", 2**63 + 1, KVType.NUMBER, 2**63 + 1),
    ("float", 42.42, KVType.NUMBER, 42.42),
    ("decimal", Decimal("1.5"), KVType.NUMBER, 1.5),
    ("true", True, KVType.BOOLEAN, True),
    ("false", False, KVType.BOOLEAN, False),
    ("map", {"field": "value", "n": [1, None]}, KVType.JSON, {"field": "value", "n": [1, None]}),
    ("list", [1, "two", {"three": 3}], KVType.JSON, [1, "two", {"three": 3}]),
    ("tuple", (1, 2), KVType.JSON, [1, 2]),
    ("null", None, KVType.JSON, None),
    (
        "datetime",
        datetime(2024, 1, 2, 3, 4, 5, 123000, tzinfo=UTC),
        KVType.DATETIME,
        datetime(2024, 1, 2, 3, 4, 5, 123000, tzinfo=UTC),
    ),
    (
        "offset-datetime",
        datetime(2024, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2))),
        KVType.DATETIME,
        datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
    ),
    (
        "naive-datetime",
        datetime(2024, 1, 2, 3, 4, 5),
        KVType.DATETIME,
        datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
    ),
    ("date", date(2024, 2, 29), KVType.DATE, date(2024, 2, 29)),
    ("duration", timedelta(hours=1, seconds=1.5), KVType.DURATION, timedelta(seconds=3601.5)),
    (
        "map-with-dates",
        {"at": datetime(2024, 1, 2, tzinfo=UTC), "for": timedelta(minutes=5)},
        KVType.JSON,
        {"at": "2024-01-02T00:00:00Z", "for": "PT5M"},
    ),
]


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [(value, kind, expected) for _, value, kind, expected in TYPED_VALUES],
    ids=[name for name, *_ in TYPED_VALUES],
)
async def test_values_round_trip_with_their_type(
    store: Store, value: Any, kind: KVType, expected: Any
) -> None:
    put = store.kv.put(NS, "key", value)

    got = store.kv.get(NS, "key")

    assert got is not None
    assert got == put
    assert (got.type, got.value) == (kind, expected)
    assert type(got.value) is type(expected)


async def test_an_entry_carries_its_dates(store: Store) -> None:
    before = utcnow()
    entry = store.kv.put(NS, "key", "v", ttl=timedelta(hours=1))

    assert (entry.namespace, entry.key) == (NS, "key")
    assert before <= entry.creation_date == entry.update_date <= utcnow()
    assert entry.expiration_date == entry.update_date + timedelta(hours=1)
    assert store.kv.put(NS, "other", "v").expiration_date is None


async def test_replacing_keeps_the_creation_date(store: Store) -> None:
    first = store.kv.put(NS, "key", "one")
    time.sleep(0.002)  # dates are kept to the millisecond

    second = store.kv.put(NS, "key", 2)

    assert second.creation_date == first.creation_date
    assert second.update_date > first.update_date
    assert store.kv.get(NS, "key") == second


async def test_missing_keys_are_absent(store: Store) -> None:
    store.kv.put(NS, "key", "v")

    assert store.kv.get(NS, "other") is None
    assert store.kv.get("company", "key") is None
    assert store.kv.get(f"{NS}.child", "key") is None


async def test_expired_entries_are_absent(store: Store) -> None:
    store.kv.put(NS, "brief", "v", ttl=timedelta(milliseconds=1))
    store.kv.put(NS, "lasting", "v", ttl=timedelta(hours=1))
    time.sleep(0.01)

    assert store.kv.get(NS, "brief") is None
    assert [entry.key for entry in store.kv.list(NS)] == ["lasting"]
    assert store.kv.delete(NS, "brief") is False


async def test_an_expired_entry_may_be_replaced_without_overwrite(store: Store) -> None:
    store.kv.put(NS, "key", "old", ttl=timedelta(milliseconds=1))
    time.sleep(0.01)

    entry = store.kv.put(NS, "key", "new", overwrite=False)

    assert entry.value == "new"
    assert entry.expiration_date is None
    assert entry.creation_date == entry.update_date


async def test_overwrite_false_refuses_an_existing_key(store: Store) -> None:
    first = store.kv.put(NS, "key", "one")

    with pytest.raises(KVConflictError) as caught:
        store.kv.put(NS, "key", "two", overwrite=False)

    assert str(caught.value) == (
        "Cannot set value for key 'key'. Key already exists and `overwrite` is set to `false`."
    )
    assert store.kv.get(NS, "key") == first
    assert store.kv.put(NS, "new", "v", overwrite=False).value == "v"


@pytest.mark.parametrize(
    "key",
    ["", "-starts-with-dash", ".dot", "_under", "has space", "slash/key", "ünï", "a\nb"],
    ids=["empty", "dash", "dot", "underscore", "space", "slash", "non-ascii", "newline"],
)
async def test_keys_breaking_kestra_rule_are_refused(store: Store, key: str) -> None:
    message = f"Invalid key '{key}': a key must start with an alphanumeric character"
    for operation in (
        lambda: store.kv.put(NS, key, "v"),
        lambda: store.kv.get(NS, key),
        lambda: store.kv.delete(NS, key),
    ):
        with pytest.raises(KVKeyError) as caught:
            operation()
        assert str(caught.value).startswith(message)
    assert store.kv.list(NS) == []


@pytest.mark.parametrize("key", ["a", "0", "my-key", "A.b_c-D.9", "x" * 300])
async def test_keys_following_kestra_rule_are_accepted(store: Store, key: str) -> None:
    assert store.kv.put(NS, key, 1).key == key
    assert store.kv.get(NS, key) is not None


@pytest.mark.parametrize(
    "value",
    [float("nan"), float("inf"), Decimal("Infinity"), {"a": object()}, {(1, 2): "tuple key"}],
    ids=["nan", "infinity", "decimal-infinity", "object", "tuple-key"],
)
async def test_values_that_cannot_be_kept_are_refused(store: Store, value: Any) -> None:
    store.kv.put(NS, "key", "before")

    with pytest.raises(StoreError, match="Unable to store"):
        store.kv.put(NS, "key", value)

    kept = store.kv.get(NS, "key")
    assert kept is not None
    assert kept.value == "before"


async def test_delete_says_whether_the_key_existed(store: Store) -> None:
    store.kv.put(NS, "key", "v")

    assert store.kv.delete(NS, "key") is True
    assert store.kv.get(NS, "key") is None
    assert store.kv.delete(NS, "key") is False


async def test_list_gives_one_namespace_by_key(store: Store) -> None:
    for key in ("b", "a.x", "C", "a"):
        store.kv.put(NS, key, key)
    store.kv.put("company", "parent", 1)
    store.kv.put(f"{NS}.child", "child", 1)

    entries = store.kv.list(NS)

    assert [entry.key for entry in entries] == ["C", "a", "a.x", "b"]
    assert all(isinstance(entry, KVEntry) and entry.namespace == NS for entry in entries)
    assert entries[0] == store.kv.get(NS, "C")
    assert store.kv.list("nowhere") == []


async def test_stored_values_are_copies(store: Store) -> None:
    value = {"list": [1]}
    store.kv.put(NS, "key", value)
    value["list"].append(2)

    got = store.kv.get(NS, "key")
    assert got is not None
    got.value["list"].append(3)

    assert store.kv.get(NS, "key") == KVEntry(
        NS, "key", {"list": [1]}, KVType.JSON, got.creation_date, got.update_date, None
    )
