"""The plugins routes: JSON schemas for the flow editor, the list of types, their documentation."""

from __future__ import annotations

import httpx
import pytest

from lanner.tasks import known_types
from tests.api.conftest import API

LEGACY = "/api/v1"
LOG = "io.kestra.plugin.core.log.Log"


@pytest.mark.parametrize("prefix", [API, LEGACY], ids=["tenant", "legacy"])
@pytest.mark.parametrize(
    ("kind", "ref"), [("flow", "Flow"), ("task", "Task"), ("trigger", "Trigger")]
)
async def test_schemas_for_the_editor(
    client: httpx.AsyncClient, prefix: str, kind: str, ref: str
) -> None:
    response = await client.get(f"{prefix}/plugins/schemas/{kind}")
    assert response.status_code == 200
    document = response.json()
    assert document["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert document["$ref"] == f"#/definitions/{ref}"
    assert LOG in document["definitions"]


async def test_a_schema_of_a_list(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/plugins/schemas/flow", params={"arrayOf": "true"})
    assert response.json()["items"] == {"$ref": "#/definitions/Flow"}


async def test_an_unknown_schema_is_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/plugins/schemas/dashboard")
    assert response.status_code == 404
    body = response.json()
    assert body["message"] == "Not Found: Unknown schema type 'dashboard': use flow, task, trigger"
    assert body["_links"]["self"]["href"] == f"{API}/plugins/schemas/dashboard"


async def test_the_plugin_list_names_every_type_with_its_aliases(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(f"{API}/plugins")
    assert response.status_code == 200
    [core] = response.json()
    assert core["group"] == "io.kestra.plugin.core"
    assert [task["cls"] for task in core["tasks"]] == known_types()
    log = next(task for task in core["tasks"] if task["cls"] == LOG)
    assert log["aliases"] == ["io.kestra.core.tasks.log.Log"]
    assert log["title"] == "Write one log line per message, at `level`."
    triggers = [trigger["cls"] for trigger in core["triggers"]]
    assert "io.kestra.plugin.core.trigger.Schedule" in triggers
    assert "io.kestra.plugin.core.condition.Expression" in [c["cls"] for c in core["conditions"]]


@pytest.mark.parametrize("name", [LOG, "io.kestra.core.tasks.log.Log"], ids=["canonical", "alias"])
async def test_the_documentation_of_a_type(client: httpx.AsyncClient, name: str) -> None:
    response = await client.get(f"{API}/plugins/{name}")
    assert response.status_code == 200
    body = response.json()
    assert body["markdown"] == "Write one log line per message, at `level`."
    schema = body["schema"]
    assert schema["properties"]["level"]["default"] == "INFO"
    assert "message" in schema["required"]
    assert schema["outputs"] == {}
    assert "Task" in schema["definitions"]


async def test_the_documentation_of_a_trigger(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/plugins/io.kestra.plugin.core.trigger.Schedule")
    assert response.status_code == 200
    assert "cron" in response.json()["schema"]["properties"]


async def test_the_documentation_of_an_unknown_type_is_not_found(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(f"{API}/plugins/io.kestra.plugin.core.log.Nope")
    assert response.status_code == 404
    assert response.json()["message"] == "Not Found: Unknown type 'io.kestra.plugin.core.log.Nope'"
