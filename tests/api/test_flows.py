"""The flows routes: CRUD with revisions, search, validation, topology, bulk, import/export."""

from __future__ import annotations

import io
import warnings
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest

from lanner.api.flow_models import FlowGraphModel, FlowModel, ValidateItemModel
from tests.api.conftest import API, LiveServer

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)


LEGACY = "/api/v1"
SEED = Path(__file__).resolve().parents[3] / "shared" / "seed"
YAML = {"Content-Type": "application/x-yaml"}
LOG = "io.kestra.plugin.core.log.Log"


def flow(
    flow_id: str = "hello",
    namespace: str = "company.team",
    message: str = "hi",
    extra: str = "",
) -> str:
    return (
        f"id: {flow_id}\nnamespace: {namespace}\n{extra}tasks:\n"
        f"  - id: say\n    type: io.kestra.core.tasks.log.Log\n    message: {message}\n"
    )


async def create(client: httpx.AsyncClient, source: str, prefix: str = API) -> httpx.Response:
    return await client.post(f"{prefix}/flows", content=source, headers=YAML)


async def created(client: httpx.AsyncClient, source: str) -> dict[str, Any]:
    response = await create(client, source)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def error(response: httpx.Response, status: int) -> str:
    """Check Kestra's error body and return its message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["_links"]["self"]["href"] == response.request.url.path
    assert body["_embedded"]["errors"]
    message: str = body["message"]
    return message


# -- create ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", [API, LEGACY], ids=["tenant", "legacy"])
@pytest.mark.parametrize(
    "content_type", ["application/x-yaml", "text/yaml", "application/yaml", "text/plain"]
)
async def test_create_answers_the_flow_with_its_source(
    client: httpx.AsyncClient, prefix: str, content_type: str
) -> None:
    source = flow(extra="labels:\n  team: data\n")
    response = await client.post(
        f"{prefix}/flows", content=source, headers={"Content-Type": content_type}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    FlowModel.model_validate(body)
    assert body["id"] == "hello"
    assert body["namespace"] == "company.team"
    assert body["revision"] == 1
    assert body["source"] == source
    assert body["labels"] == [{"key": "team", "value": "data"}]
    assert body["tasks"][0]["type"] == LOG
    assert body["tasks"][0]["message"] == "hi"
    assert (body["disabled"], body["deleted"], body["draft"]) == (False, False, False)
    assert body["updated"].endswith("Z")


async def test_an_invalid_flow_is_refused_with_each_problem_located(
    client: httpx.AsyncClient,
) -> None:
    source = flow().replace("    message: hi\n", "")
    response = await create(client, source)
    assert error(response, 422) == "Invalid entity: 4:5: say.message: must not be null"
    assert response.json()["_embedded"]["errors"] == [
        {"message": "must not be null", "path": "say.message", "location": "4:5"}
    ]


async def test_an_unknown_task_type_names_the_type(client: httpx.AsyncClient) -> None:
    source = flow().replace("io.kestra.core.tasks.log.Log", "io.kestra.plugin.core.log.Lgo")
    message = error(await create(client, source), 422)
    assert message.startswith("Invalid entity: 5:11: say.type: Invalid type: ")
    assert "io.kestra.plugin.core.log.Lgo" in message


async def test_an_empty_body_is_not_a_flow(client: httpx.AsyncClient) -> None:
    message = error(await create(client, ""), 422)
    assert "expected a flow" in message


async def test_a_flow_id_that_exists_cannot_be_created_again(client: httpx.AsyncClient) -> None:
    await created(client, flow())
    message = error(await create(client, flow(message="other")), 422)
    assert message == "Invalid entity: 1:1: id: Flow id already exists"


async def test_a_deleted_flow_can_be_created_again_with_the_next_revision(
    client: httpx.AsyncClient,
) -> None:
    await created(client, flow())
    assert (await client.delete(f"{API}/flows/company.team/hello")).status_code == 204
    again = await created(client, flow())
    assert again["revision"] == 3
    assert again["deleted"] is False


# -- read -----------------------------------------------------------------------------------------


async def test_get_answers_the_last_revision_without_source_by_default(
    client: httpx.AsyncClient,
) -> None:
    await created(client, flow())
    for prefix in (API, LEGACY):
        response = await client.get(f"{prefix}/flows/company.team/hello")
        assert response.status_code == 200
        assert "source" not in response.json()
        assert response.json()["revision"] == 1
    with_source = await client.get(f"{API}/flows/company.team/hello", params={"source": "true"})
    assert with_source.json()["source"] == flow()


async def test_get_a_given_revision(client: httpx.AsyncClient) -> None:
    await created(client, flow())
    await client.put(f"{API}/flows/company.team/hello", content=flow(message="v2"), headers=YAML)
    first = await client.get(f"{API}/flows/company.team/hello", params={"revision": 1})
    assert first.json()["tasks"][0]["message"] == "hi"
    last = await client.get(f"{API}/flows/company.team/hello")
    assert last.json()["tasks"][0]["message"] == "v2"
    missing = await client.get(f"{API}/flows/company.team/hello", params={"revision": 9})
    assert error(missing, 404) == "Not Found: Unable to find flow company.team.hello"


async def test_an_unknown_flow_is_not_found(client: httpx.AsyncClient) -> None:
    for prefix in (API, LEGACY):
        response = await client.get(f"{prefix}/flows/company.team/nope")
        assert error(response, 404) == "Not Found: Unable to find flow company.team.nope"
    other_tenant = await client.get("/api/v1/acme/flows/company.team/nope")
    assert error(other_tenant, 404) == "Not Found: Unknown tenant 'acme'"


async def test_a_task_of_a_flow(client: httpx.AsyncClient) -> None:
    await created(client, flow())
    task = await client.get(f"{API}/flows/company.team/hello/tasks/say")
    assert task.status_code == 200
    assert task.json()["type"] == LOG
    missing = await client.get(f"{API}/flows/company.team/hello/tasks/nope")
    assert error(missing, 404) == (
        "Not Found: Unable to find task 'nope' in flow company.team.hello"
    )


# -- update ---------------------------------------------------------------------------------------


async def test_update_makes_a_revision_only_when_the_source_changed(
    client: httpx.AsyncClient,
) -> None:
    await created(client, flow())
    url = f"{API}/flows/company.team/hello"
    same = await client.put(url, content=flow(), headers=YAML)
    assert same.status_code == 200
    assert same.json()["revision"] == 1
    changed = await client.put(url, content=flow(message="changed"), headers=YAML)
    assert changed.json()["revision"] == 2
    assert changed.json()["source"] == flow(message="changed")
    only_revision = await client.put(
        url, content="revision: 7\n" + flow(message="changed"), headers=YAML
    )
    assert only_revision.json()["revision"] == 2


async def test_update_cannot_change_the_id_or_namespace(client: httpx.AsyncClient) -> None:
    await created(client, flow())
    url = f"{API}/flows/company.team/hello"
    renamed = await client.put(url, content=flow(flow_id="bye"), headers=YAML)
    assert error(renamed, 422) == (
        "Invalid entity: 1:1: id: Illegal flow id update: the flow company.team.hello cannot "
        "become company.team.bye"
    )
    moved = await client.put(url, content=flow(namespace="company.other"), headers=YAML)
    assert "Illegal flow id update" in error(moved, 422)


async def test_update_of_an_unknown_flow_is_not_found(client: httpx.AsyncClient) -> None:
    response = await client.put(f"{API}/flows/company.team/nope", content=flow(), headers=YAML)
    assert error(response, 404) == "Not Found: Unable to find flow company.team.nope"


async def test_update_with_an_invalid_flow_is_refused(client: httpx.AsyncClient) -> None:
    await created(client, flow())
    response = await client.put(
        f"{API}/flows/company.team/hello", content=flow() + "colour: red\n", headers=YAML
    )
    assert error(response, 422) == (
        'Invalid entity: 7:1: colour: Unrecognized field "colour" (class Flow), '
        "not marked as ignorable"
    )


# -- delete and revisions -------------------------------------------------------------------------


async def test_delete_is_soft(client: httpx.AsyncClient) -> None:
    await created(client, flow())
    url = f"{API}/flows/company.team/hello"
    deleted = await client.delete(url)
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert error(await client.get(url), 404) == "Not Found: Unable to find flow company.team.hello"
    kept = await client.get(url, params={"allowDeleted": "true"})
    assert kept.status_code == 200
    assert (kept.json()["deleted"], kept.json()["revision"]) == (True, 2)
    assert error(await client.delete(url), 404).startswith("Not Found")
    search = await client.get(f"{API}/flows/search")
    assert search.json() == {"results": [], "total": 0}


async def test_revisions_are_listed_oldest_first_with_their_source(
    client: httpx.AsyncClient,
) -> None:
    await created(client, flow())
    url = f"{API}/flows/company.team/hello"
    await client.put(url, content=flow(message="v2"), headers=YAML)
    await client.delete(url)
    revisions = (await client.get(f"{url}/revisions")).json()
    assert [(r["revision"], r["deleted"]) for r in revisions] == [(1, False), (2, False), (3, True)]
    assert revisions[1]["source"] == flow(message="v2")
    for revision in revisions:
        FlowModel.model_validate(revision)
    unknown = await client.get(f"{API}/flows/company.team/nope/revisions")
    assert unknown.json() == []


# -- lists and search -----------------------------------------------------------------------------


async def test_the_flows_of_a_namespace_exclude_those_under_it(client: httpx.AsyncClient) -> None:
    await created(client, flow("a", "company.team"))
    await created(client, flow("b", "company.team.sub"))
    await created(client, flow("c", "company.teams"))
    listed = (await client.get(f"{API}/flows/company.team")).json()
    assert [item["id"] for item in listed] == ["a"]
    assert (await client.get(f"{API}/flows/nothing.here")).json() == []


async def test_search_pages_with_totals(client: httpx.AsyncClient) -> None:
    for number in range(12):
        await created(client, flow(f"f{number:02d}"))
    page = await client.get(f"{API}/flows/search", params={"size": 5, "page": 3})
    assert page.status_code == 200
    assert page.json()["total"] == 12
    assert [item["id"] for item in page.json()["results"]] == ["f10", "f11"]
    default = (await client.get(f"{LEGACY}/flows/search")).json()
    assert len(default["results"]) == 10
    assert "source" not in default["results"][0]
    descending = await client.get(f"{API}/flows/search", params={"sort": "id:desc", "size": 2})
    assert [item["id"] for item in descending.json()["results"]] == ["f11", "f10"]
    assert descending.json()["total"] == 12


async def test_search_filters_by_text_namespace_and_labels(client: httpx.AsyncClient) -> None:
    await created(client, flow("orders", "shop", extra="labels:\n  team: sales\n"))
    await created(client, flow("refunds", "shop.back", extra="labels:\n  team: finance\n"))
    await created(client, flow("payroll", "hr"))

    async def ids(**params: Any) -> list[str]:
        response = await client.get(f"{API}/flows/search", params=params)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["results"]]

    assert await ids(q="fund") == ["refunds"]
    assert await ids(namespace="shop") == ["orders", "refunds"]
    assert await ids(labels="team:finance") == ["refunds"]
    assert await ids(**{"filters[namespace][EQUALS]": "shop"}) == ["orders"]
    assert await ids(**{"filters[namespace][PREFIX]": "shop"}) == ["orders", "refunds"]
    assert await ids(**{"filters[q][EQUALS]": "pay"}) == ["payroll"]
    assert await ids(**{"filters[labels][EQUALS][team]": "sales"}) == ["orders"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        pytest.param(
            {"page": 0},
            "Invalid entity: query.page: Input should be greater than or equal to 1",
            id="page",
        ),
        pytest.param(
            {"size": 0},
            "Invalid entity: query.size: Input should be greater than or equal to 1",
            id="size",
        ),
        pytest.param(
            {"sort": "colour:asc"},
            "Invalid entity: query.sort.0: String should match pattern "
            "'^(id|namespace|revision|updated)(:(asc|desc|ASC|DESC))?$'",
            id="sort",
        ),
        pytest.param(
            {"labels": "team"},
            "Invalid entity: query.labels.0: String should match pattern '^[^:]+:'",
            id="labels",
        ),
        pytest.param(
            {"filters[labels][EQUALS]": "x"},
            "Illegal argument: Unsupported flow filter 'labels' with operation 'EQUALS'",
            id="label-filter-without-key",
        ),
        pytest.param(
            {"filters[state][EQUALS]": "x"},
            "Illegal argument: Unsupported flow filter 'state' with operation 'EQUALS'",
            id="filter",
        ),
    ],
)
async def test_search_refuses_bad_parameters(
    client: httpx.AsyncClient, params: dict[str, Any], message: str
) -> None:
    assert error(await client.get(f"{API}/flows/search", params=params), 422) == message


async def test_distinct_namespaces(client: httpx.AsyncClient) -> None:
    await created(client, flow("a", "shop"))
    await created(client, flow("b", "shop.back"))
    await created(client, flow("c", "hr"))
    names = await client.get(f"{API}/flows/distinct-namespaces")
    assert names.json() == ["hr", "shop", "shop.back"]
    assert (await client.get(f"{API}/flows/distinct-namespaces", params={"q": "BACK"})).json() == [
        "shop.back"
    ]


# -- validate -------------------------------------------------------------------------------------


async def test_validate_answers_one_item_per_document(client: httpx.AsyncClient) -> None:
    text = flow() + "---\n" + "id: broken\nnamespace: company.team\ntasks: []\n"
    response = await client.post(f"{API}/flows/validate", content=text, headers=YAML)
    assert response.status_code == 200
    items = response.json()
    for item in items:
        ValidateItemModel.model_validate(item)
    assert items[0] == {
        "index": 0,
        "flow": "hello",
        "namespace": "company.team",
        "constraints": None,
        "outdated": False,
        "deprecationPaths": [],
        "warnings": [],
        "infos": ["io.kestra.core.tasks.log.Log is replaced by io.kestra.plugin.core.log.Log"],
        "problems": [],
    }
    assert items[1]["index"] == 1
    assert items[1]["flow"] == "broken"
    assert items[1]["constraints"] == "tasks: must not be empty"
    assert items[1]["problems"] == [
        {"path": "tasks", "message": "must not be empty", "line": 10, "column": 8}
    ]


async def test_validate_says_when_the_revision_written_is_not_the_next(
    client: httpx.AsyncClient,
) -> None:
    await created(client, flow())

    async def outdated(revision: int) -> bool:
        text = f"revision: {revision}\n" + flow()
        response = await client.post(f"{API}/flows/validate", content=text, headers=YAML)
        result: bool = response.json()[0]["outdated"]
        return result

    assert await outdated(2) is False
    assert await outdated(1) is True


async def test_validate_reports_deprecations_and_always_answers_200(
    client: httpx.AsyncClient,
) -> None:
    echo = (
        "id: old\nnamespace: n\ntasks:\n  - id: e\n"
        "    type: io.kestra.core.tasks.debugs.Echo\n    format: x\n"
    )
    items = (await client.post(f"{API}/flows/validate", content=echo, headers=YAML)).json()
    assert items[0]["deprecationPaths"] == ["tasks[0]"]
    garbage = await client.post(f"{LEGACY}/flows/validate", content="{ not: yaml", headers=YAML)
    assert garbage.status_code == 200
    assert garbage.json()[0]["constraints"].startswith("Invalid YAML")
    empty = await client.post(f"{API}/flows/validate", content="", headers=YAML)
    assert empty.json() == []


async def test_validate_task_checks_one_task_in_json_or_yaml(client: httpx.AsyncClient) -> None:
    url = f"{API}/flows/validate/task"
    valid = await client.post(url, json={"id": "t", "type": LOG, "message": "hi"})
    assert valid.status_code == 200
    assert valid.json()["constraints"] is None
    missing = await client.post(url, json={"id": "t", "type": LOG})
    assert missing.json()["constraints"] == "t.message: must not be null"
    assert missing.json()["problems"] == [{"path": "t.message", "message": "must not be null"}]
    unknown = await client.post(url, content="id: t\ntype: x.y.Z\n", headers=YAML)
    assert unknown.json()["constraints"].startswith("t.type: Invalid type: x.y.Z")
    legacy = await client.post(
        url, json={"id": "t", "type": "io.kestra.core.tasks.log.Log", "message": "x"}
    )
    assert legacy.json()["infos"] == [
        "io.kestra.core.tasks.log.Log is replaced by io.kestra.plugin.core.log.Log"
    ]


async def test_validate_trigger(client: httpx.AsyncClient) -> None:
    schedule = {
        "id": "daily",
        "type": "io.kestra.plugin.core.trigger.Schedule",
        "cron": "0 9 * * *",
    }
    for url, params in (
        (f"{API}/flows/validate/trigger", {}),
        (f"{API}/flows/validate/task", {"section": "TRIGGERS"}),
    ):
        valid = await client.post(url, json=schedule, params=params)
        assert valid.json()["constraints"] is None
        broken = await client.post(url, json={**schedule, "cron": "nope"}, params=params)
        assert broken.json()["constraints"].startswith("triggers[0].cron: ")


# -- graph ----------------------------------------------------------------------------------------


async def test_graph_of_a_stored_flow_and_of_a_source(client: httpx.AsyncClient) -> None:
    await created(client, flow())
    stored = await client.get(f"{API}/flows/company.team/hello/graph")
    assert stored.status_code == 200
    FlowGraphModel.model_validate(stored.json())
    drawn = await client.post(f"{API}/flows/graph", content=flow(), headers=YAML)
    assert drawn.json() == stored.json()
    task = next(node for node in drawn.json()["nodes"] if node["uid"] == "root.say")
    assert task["task"]["type"] == LOG
    missing = await client.get(f"{API}/flows/company.team/nope/graph")
    assert error(missing, 404) == "Not Found: Unable to find flow company.team.nope"
    invalid = await client.post(f"{LEGACY}/flows/graph", content="id: x\n", headers=YAML)
    assert error(invalid, 422).startswith("Invalid entity: 1:1: namespace: must not be null")


# -- bulk -----------------------------------------------------------------------------------------


async def test_a_namespace_is_replaced_by_a_multi_document_text(client: httpx.AsyncClient) -> None:
    await created(client, flow("old", "shop"))
    await created(client, flow("kept", "shop", message="v1"))
    text = flow("kept", "shop", message="v2") + "---\n" + flow("new", "shop")
    response = await client.post(f"{API}/flows/shop", content=text, headers=YAML)
    assert response.status_code == 200, response.text
    changed = [(item["id"], item["revision"], item["deleted"]) for item in response.json()]
    assert changed == [("old", 2, True), ("kept", 2, False), ("new", 1, False)]
    listed = (await client.get(f"{API}/flows/shop")).json()
    assert sorted(item["id"] for item in listed) == ["kept", "new"]


async def test_a_namespace_replacement_is_checked_before_anything_is_stored(
    client: httpx.AsyncClient,
) -> None:
    other = await client.post(f"{API}/flows/shop", content=flow("a", "hr"), headers=YAML)
    assert error(other, 422) == (
        "Invalid entity: namespace: Flow namespace is invalid: hr is not shop"
    )
    twice = flow("a", "shop") + "---\n" + flow("a", "shop")
    assert error(await client.post(f"{API}/flows/shop", content=twice, headers=YAML), 422) == (
        "Invalid entity: id: Duplicate flow id: a"
    )
    invalid = flow("a", "shop") + "---\nid: b\nnamespace: shop\ntasks: []\n"
    message = error(await client.post(f"{API}/flows/shop", content=invalid, headers=YAML), 422)
    assert message == "Invalid entity: 10:8: tasks: must not be empty"
    assert (await client.get(f"{API}/flows/shop")).json() == []


async def test_disable_and_enable_by_ids_rewrite_the_source(client: httpx.AsyncClient) -> None:
    await created(client, flow())
    ids = [{"namespace": "company.team", "id": "hello"}]
    disabled = await client.post(f"{API}/flows/disable/by-ids", json=ids)
    assert disabled.json() == {"count": 1}
    again = await client.post(f"{API}/flows/disable/by-ids", json=ids)
    assert again.json() == {"count": 0}
    stored = (await client.get(f"{API}/flows/company.team/hello", params={"source": True})).json()
    assert stored["disabled"] is True
    assert stored["source"].endswith("disabled: true\n")
    enabled = await client.post(f"{LEGACY}/flows/enable/by-ids", json=ids)
    assert enabled.json() == {"count": 1}
    stored = (await client.get(f"{API}/flows/company.team/hello", params={"source": True})).json()
    assert (stored["disabled"], stored["revision"]) == (False, 3)
    assert "disabled: false" in stored["source"]
    unknown = [{"namespace": "company.team", "id": "nope"}]
    assert error(await client.post(f"{API}/flows/disable/by-ids", json=unknown), 404)


async def test_disable_enable_and_delete_by_query(client: httpx.AsyncClient) -> None:
    await created(client, flow("a", "shop"))
    await created(client, flow("b", "shop.back"))
    await created(client, flow("c", "hr"))
    disabled = await client.post(f"{API}/flows/disable/by-query", params={"namespace": "shop"})
    assert disabled.json() == {"count": 2}
    enabled = await client.post(f"{API}/flows/enable/by-query", params={"q": "b"})
    assert enabled.json() == {"count": 1}
    deleted = await client.delete(f"{API}/flows/delete/by-query", params={"namespace": "shop"})
    assert deleted.json() == {"count": 2}
    remaining = (await client.get(f"{API}/flows/search")).json()
    assert [item["id"] for item in remaining["results"]] == ["c"]


async def test_delete_by_ids(client: httpx.AsyncClient) -> None:
    await created(client, flow("a"))
    await created(client, flow("b"))
    ids = [{"namespace": "company.team", "id": "a"}, {"namespace": "company.team", "id": "b"}]
    response = await client.request("DELETE", f"{API}/flows/delete/by-ids", json=ids)
    assert response.json() == {"count": 2}
    again = await client.request("DELETE", f"{API}/flows/delete/by-ids", json=ids)
    assert error(again, 404) == "Not Found: Unable to find flow company.team.a"


async def test_export_then_import_round_trips_the_sources(client: httpx.AsyncClient) -> None:
    await created(client, flow("a", "shop"))
    await created(client, flow("b", "hr"))
    exported = await client.get(f"{API}/flows/export/by-query")
    assert exported.status_code == 200
    assert exported.headers["content-type"] == "application/octet-stream"
    assert exported.headers["content-disposition"] == 'attachment; filename="flows.zip"'
    archive = zipfile.ZipFile(io.BytesIO(exported.content))
    assert sorted(archive.namelist()) == ["hr.b.yml", "shop.a.yml"]
    assert archive.read("shop.a.yml").decode() == flow("a", "shop")
    by_ids = await client.post(f"{API}/flows/export/by-ids", json=[{"namespace": "hr", "id": "b"}])
    assert zipfile.ZipFile(io.BytesIO(by_ids.content)).namelist() == ["hr.b.yml"]

    await client.request("DELETE", f"{API}/flows/delete/by-query")
    files = {"fileUpload": ("flows.zip", exported.content, "application/zip")}
    imported = await client.post(f"{API}/flows/import", files=files)
    assert imported.status_code == 200
    assert imported.json() == []
    assert (await client.get(f"{API}/flows/search")).json()["total"] == 2


async def test_import_of_yaml_answers_the_documents_that_failed(
    client: httpx.AsyncClient,
) -> None:
    text = flow("a", "shop") + "---\nid: broken\n---\n" + flow("c", "shop")
    files = {"fileUpload": ("flows.yml", text.encode(), "application/x-yaml")}
    response = await client.post(f"{LEGACY}/flows/import", files=files)
    assert response.json() == ["1"]
    listed = (await client.get(f"{API}/flows/shop")).json()
    assert sorted(item["id"] for item in listed) == ["a", "c"]


# -- the seed flows and Kestra's clients ----------------------------------------------------------


def _seed() -> list[Any]:
    return [pytest.param(path, id=path.name) for path in sorted(SEED.glob("*.yml"))]


@pytest.mark.parametrize("path", _seed())
async def test_the_seed_flows_are_stored_and_read_back(
    client: httpx.AsyncClient, path: Path
) -> None:
    source = path.read_text(encoding="utf-8")
    body = await created(client, source)
    read = await client.get(f"{API}/flows/{body['namespace']}/{body['id']}", params={"source": 1})
    assert read.json() == body
    types = {task["type"] for task in body["tasks"]}
    assert types <= {"io.kestra.plugin.core.http.Request", LOG}
    assert body["tasks"][0]["method"] in ("GET", "POST")


def kestrapy_client(url: str) -> Any:
    # kestrapy's generated models warn when imported (a field shadows a pydantic attribute).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        from kestrapy import KestraClient
    return KestraClient(host=url)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_kestrapy_manages_flows(live_server: LiveServer) -> None:
    with kestrapy_client(live_server.url) as kestra:
        flows = kestra.flows
        made = flows.create_flow(tenant="main", body=flow())
        assert (made.id, made.namespace, made.revision, made.source) == (
            "hello",
            "company.team",
            1,
            flow(),
        )
        assert (made.disabled, made.deleted, made.draft) == (False, False, False)
        assert [task.type for task in made.tasks] == [LOG]
        read = flows.flow(namespace="company.team", id="hello", tenant="main", source=True)
        assert read.source == flow()
        updated = flows.update_flow("company.team", "hello", "main", flow(message="v2"))
        assert updated.revision == 2
        found = flows.search_flows(tenant="main", page=1, size=10)
        assert found.total == 1
        assert found.results[0].id == "hello"
        reports = flows.validate_flows(tenant="main", body=flow() + "---\nid: x\n")
        assert [report.constraints is None for report in reports] == [True, False]
        assert flows.list_distinct_namespaces(tenant="main") == ["company.team"]
        flows.delete_flow("company.team", "hello", "main")
        gone = httpx.get(f"{live_server.url}{API}/flows/company.team/hello")
        assert gone.status_code == 404


# -- the OpenAPI document --------------------------------------------------------------------------


async def test_the_openapi_document_describes_the_flows_routes(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get(f"{LEGACY}/openapi.json")).json()
    paths = document["paths"]
    create_route = paths["/api/v1/{tenant}/flows"]["post"]
    assert set(create_route["requestBody"]["content"]) == {
        "application/x-yaml",
        "application/yaml",
        "text/yaml",
        "text/plain",
    }
    error_schema = {"$ref": "#/components/schemas/ErrorModel"}
    assert create_route["responses"]["422"]["content"]["application/json"]["schema"] == error_schema
    one = paths["/api/v1/{tenant}/flows/{namespace}/{id}"]
    assert one["get"]["responses"]["404"]["content"]["application/json"]["schema"] == error_schema
    assert one["get"]["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/FlowModel"
    }
    for route in (
        "/flows/search",
        "/flows/validate",
        "/flows/distinct-namespaces",
        "/flows/{namespace}/{id}/graph",
        "/flows/{namespace}/{id}/revisions",
    ):
        assert f"/api/v1/{{tenant}}{route}" in paths
