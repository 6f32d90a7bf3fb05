"""Flow revisions: saving, reading, soft deletion and search, on every backend."""

from __future__ import annotations

import pytest

from lanner.store import FlowRecord, Store

SOURCE = "id: hello\nnamespace: company.team\ntasks: []\n"
CHANGED = SOURCE + "description: changed\n"


async def test_first_save_is_revision_one(store: Store) -> None:
    record = await store.save_flow("company.team", "hello", SOURCE)

    assert (record.namespace, record.id, record.revision) == ("company.team", "hello", 1)
    assert (record.source, record.deleted) == (SOURCE, False)
    assert record.updated.tzinfo is not None
    assert await store.get_flow("company.team", "hello") == record


async def test_same_source_keeps_the_revision(store: Store) -> None:
    first = await store.save_flow("company.team", "hello", SOURCE)

    again = await store.save_flow("company.team", "hello", SOURCE)

    assert again == first
    assert await store.flow_revisions("company.team", "hello") == [first]


async def test_changed_source_makes_a_new_revision(store: Store) -> None:
    first = await store.save_flow("company.team", "hello", SOURCE)

    second = await store.save_flow("company.team", "hello", CHANGED)

    assert second.revision == 2
    assert await store.get_flow("company.team", "hello") == second
    assert await store.get_flow("company.team", "hello", 1) == first
    assert await store.get_flow("company.team", "hello", 3) is None
    assert await store.flow_revisions("company.team", "hello") == [first, second]


async def test_revisions_are_per_flow(store: Store) -> None:
    await store.save_flow("company.team", "hello", SOURCE)

    other = await store.save_flow("company.team", "other", CHANGED)
    elsewhere = await store.save_flow("company", "hello", CHANGED)

    assert (other.revision, elsewhere.revision) == (1, 1)


async def test_unknown_flow(store: Store) -> None:
    assert await store.get_flow("company.team", "missing") is None
    assert await store.flow_revisions("company.team", "missing") == []


async def test_delete_is_a_new_revision_marked_deleted(store: Store) -> None:
    first = await store.save_flow("company.team", "hello", SOURCE)

    deleted = await store.save_flow("company.team", "hello", SOURCE, deleted=True)

    assert (deleted.revision, deleted.deleted) == (2, True)
    assert await store.get_flow("company.team", "hello") is None
    assert await store.get_flow("company.team", "hello", allow_deleted=True) == deleted
    assert await store.get_flow("company.team", "hello", 1) == first
    assert await store.get_flow("company.team", "hello", 2) is None
    assert await store.flow_revisions("company.team", "hello") == [first, deleted]


async def test_deleting_twice_keeps_the_revision(store: Store) -> None:
    await store.save_flow("company.team", "hello", SOURCE)
    deleted = await store.save_flow("company.team", "hello", SOURCE, deleted=True)

    assert await store.save_flow("company.team", "hello", SOURCE, deleted=True) == deleted


async def test_saving_a_deleted_flow_brings_it_back(store: Store) -> None:
    await store.save_flow("company.team", "hello", SOURCE)
    await store.save_flow("company.team", "hello", SOURCE, deleted=True)

    revived = await store.save_flow("company.team", "hello", SOURCE)

    assert (revived.revision, revived.deleted) == (3, False)
    assert await store.get_flow("company.team", "hello") == revived


# -- search ---------------------------------------------------------------------------------

FLOWS = [
    ("company", "root"),
    ("company.team", "hello"),
    ("company.team.sub", "deep"),
    ("companyx", "neighbour"),
    ("other", "Hello_World"),
]


async def _save_all(store: Store) -> None:
    for namespace, flow_id in FLOWS:
        await store.save_flow(namespace, flow_id, f"id: {flow_id}\n")


def _keys(records: list[FlowRecord]) -> list[tuple[str, str]]:
    return [(record.namespace, record.id) for record in records]


@pytest.mark.parametrize(
    ("namespace", "query", "expected"),
    [
        (None, None, FLOWS),
        ("company", None, FLOWS[:3]),
        ("company.team", None, FLOWS[1:3]),
        ("company.te", None, []),
        ("companyx", None, [FLOWS[3]]),
        (None, "hello", [FLOWS[1], FLOWS[4]]),
        (None, "HELLO", [FLOWS[1], FLOWS[4]]),
        (None, "o_w", [FLOWS[4]]),
        (None, "team.s", [FLOWS[2]]),
        ("company", "e", FLOWS[1:3]),
        (None, "%", []),
    ],
    ids=[
        "all",
        "namespace-and-children",
        "sub-namespace",
        "no-partial-segment",
        "not-a-prefix-of-sibling",
        "query-id",
        "query-ignores-case",
        "query-is-literal",
        "query-namespace",
        "namespace-and-query",
        "percent-is-literal",
    ],
)
async def test_search_flows_filters(
    store: Store, namespace: str | None, query: str | None, expected: list[tuple[str, str]]
) -> None:
    await _save_all(store)

    found = await store.search_flows(namespace=namespace, query=query, size=100)

    assert _keys(found.results) == expected
    assert found.total == len(expected)


async def test_search_flows_pages(store: Store) -> None:
    await _save_all(store)

    first = await store.search_flows(size=2)
    last = await store.search_flows(page=3, size=2)
    beyond = await store.search_flows(page=4, size=2)

    assert (_keys(first.results), first.total) == (FLOWS[:2], 5)
    assert (_keys(last.results), last.total) == (FLOWS[4:], 5)
    assert (beyond.results, beyond.total) == ([], 5)


async def test_search_flows_gives_the_last_revision_and_skips_deleted(store: Store) -> None:
    await _save_all(store)
    latest = await store.save_flow("company.team", "hello", CHANGED)
    await store.save_flow("other", "Hello_World", "id: Hello_World\n", deleted=True)

    found = await store.search_flows(query="hello")

    assert found.results == [latest]
    assert found.total == 1


@pytest.mark.parametrize(("page", "size"), [(0, 10), (1, 0), (-1, 5)])
async def test_search_flows_refuses_bad_pages(store: Store, page: int, size: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        await store.search_flows(page=page, size=size)


async def test_a_revision_too_large_to_store_is_simply_absent(store: Store) -> None:
    await store.save_flow("company.team", "hello", "id: hello\n")
    assert await store.get_flow("company.team", "hello", 2**70) is None
    assert await store.get_flow("company.team", "hello", -1) is None
