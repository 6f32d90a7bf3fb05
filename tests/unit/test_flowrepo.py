"""The flow repository: revisions, creation and update rules, searches, source edits."""

from __future__ import annotations

import pytest

from lanner.exceptions import FlowError, LannerError, NotFoundError
from lanner.flowrepo import FlowQuery, FlowRepository, SortKey, clean_source, with_disabled
from lanner.store import MemoryStore


def flow(flow_id: str = "hello", namespace: str = "company.team", extra: str = "") -> str:
    return (
        f"id: {flow_id}\nnamespace: {namespace}\n{extra}tasks:\n"
        "  - id: say\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
    )


@pytest.fixture
def repo() -> FlowRepository:
    return FlowRepository(MemoryStore())


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param("revision: 3\nid: a\n", "id: a\n", id="first-line"),
        pytest.param(
            "id: a\nrevision: 12  # old\nnamespace: n\n", "id: a\nnamespace: n\n", id="middle"
        ),
        pytest.param("id: a\nrevision: 3", "id: a\n", id="last-line-without-newline"),
        pytest.param("id: a\n  revision: 3\n", "id: a\n  revision: 3\n", id="nested-kept"),
        pytest.param("id: a\nrevision: x\n", "id: a\nrevision: x\n", id="not-a-number-kept"),
    ],
)
def test_clean_source_drops_the_top_level_revision(source: str, expected: str) -> None:
    assert clean_source(source) == expected


@pytest.mark.parametrize(
    ("source", "disabled", "expected"),
    [
        pytest.param("id: a\n", True, "id: a\ndisabled: true\n", id="appended"),
        pytest.param("id: a", True, "id: a\ndisabled: true\n", id="appended-after-last-line"),
        pytest.param(
            "id: a\ndisabled: true\nx: 1\n", False, "id: a\ndisabled: false\nx: 1\n", id="replaced"
        ),
        pytest.param(
            "id: a\n  disabled: true\n",
            True,
            "id: a\n  disabled: true\ndisabled: true\n",
            id="nested-ignored",
        ),
    ],
)
def test_with_disabled_sets_the_top_level_key(source: str, disabled: bool, expected: str) -> None:
    assert with_disabled(source, disabled) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("id", SortKey("id")), ("id:asc", SortKey("id")), ("updated:DESC", SortKey("updated", True))],
)
def test_sort_keys(text: str, expected: SortKey) -> None:
    assert SortKey.parse(text) == expected


@pytest.mark.parametrize("text", ["colour", "id:up", ""])
def test_bad_sort_keys_are_refused(text: str) -> None:
    with pytest.raises(LannerError, match="Invalid sort"):
        SortKey.parse(text)


async def test_create_then_update_then_delete(repo: FlowRepository) -> None:
    first = await repo.create(flow())
    assert first.revision == 1
    with pytest.raises(FlowError, match="Flow id already exists"):
        await repo.create(flow())
    same = await repo.update("company.team", "hello", "revision: 9\n" + flow())
    assert same.revision == 1
    changed = await repo.update("company.team", "hello", flow(extra="description: d\n"))
    assert changed.revision == 2
    with pytest.raises(NotFoundError):
        await repo.update("company.team", "nope", flow("nope"))
    deleted = await repo.delete("company.team", "hello")
    assert (deleted.revision, deleted.record.deleted) == (3, True)
    assert await repo.last_revision("company.team", "hello") == 3
    assert await repo.last_revision("company.team", "nope") == 0
    assert [r.revision for r in await repo.revisions("company.team", "hello")] == [1, 2, 3]


async def test_set_disabled_changes_the_flow_once(repo: FlowRepository) -> None:
    await repo.create(flow())
    assert await repo.set_disabled("company.team", "hello", True) is True
    assert await repo.set_disabled("company.team", "hello", True) is False
    assert (await repo.get("company.team", "hello")).flow.disabled is True


async def test_search_by_labels_and_order(repo: FlowRepository) -> None:
    await repo.create(flow("b", "shop", extra="labels:\n  team: a\n"))
    await repo.create(flow("a", "shop.back", extra="labels:\n  team: b\n"))
    await repo.create(flow("c", "shop", extra="labels:\n  team: a\n"))
    labelled = await repo.search(FlowQuery(labels={"team": "a"}))
    assert [r.id for r in labelled.results] == ["b", "c"]
    by_id = await repo.search(FlowQuery(sort=[SortKey("id", True)]), page=1, size=2)
    assert ([r.id for r in by_id.results], by_id.total) == (["c", "b"], 3)
    exact = await repo.search(FlowQuery("shop", exact_namespace=True))
    assert [r.id for r in exact.results] == ["b", "c"]
    with pytest.raises(LannerError, match="page and size"):
        await repo.search(FlowQuery(labels={"team": "a"}), page=0)
    assert await repo.namespaces() == ["shop", "shop.back"]
    assert await repo.namespaces("BACK") == ["shop.back"]


async def test_replace_namespace_validates_every_document_first(repo: FlowRepository) -> None:
    await repo.create(flow("gone", "shop"))
    with pytest.raises(FlowError, match="Duplicate flow id"):
        await repo.replace_namespace("shop", flow("a", "shop") + "---\n" + flow("a", "shop"))
    assert [r.id for r in await repo.in_namespace("shop")] == ["gone"]
    changed = await repo.replace_namespace("shop", flow("a", "shop"), delete=False)
    assert [s.flow.id for s in changed] == ["a"]
    assert [r.id for r in await repo.in_namespace("shop")] == ["a", "gone"]


async def test_import_sources_names_those_that_failed(repo: FlowRepository) -> None:
    failed = await repo.import_sources([("one.yml", flow("one")), ("two.yml", "id: two\n")])
    assert failed == ["two.yml"]
    assert (await repo.get("company.team", "one")).revision == 1
