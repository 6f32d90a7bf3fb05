"""The KV store API: list, read, write and delete typed values under both path families."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from lanner.executions import Execution
from lanner.services import Services
from lanner.states import State
from lanner.store import KVType
from tests.api.conftest import API

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)


NS = "company.team"
FAMILIES = pytest.mark.parametrize("base", ["/api/v1", API], ids=["legacy", "tenant"])


def kv_url(base: str, key: str | None = None, namespace: str = NS) -> str:
    url = f"{base}/namespaces/{namespace}/kv"
    return url if key is None else f"{url}/{key}"


async def put(
    client: httpx.AsyncClient, base: str, key: str, body: str, ttl: str | None = None
) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if ttl is not None:
        headers["ttl"] = ttl
    return await client.put(kv_url(base, key), content=body, headers=headers)


# -- values round-trip -----------------------------------------------------------------------

ROUND_TRIPS: list[tuple[str, str, str, Any]] = [
    ("quoted-string", '"hello"', "STRING", "hello"),
    ("unquoted-text", "hello world", "STRING", "hello world"),
    ("quoted-number-text", '"42"', "STRING", "42"),
    ("integer", "42", "NUMBER", 42),
    ("float", "4.5", "NUMBER", 4.5),
    ("boolean", "true", "BOOLEAN", True),
    ("json-object", '{"a": [1, 2], "b": {"c": null}}', "JSON", {"a": [1, 2], "b": {"c": None}}),
    ("json-list", '[1, "two"]', "JSON", [1, "two"]),
    ("json-null", "null", "JSON", None),
    ("unquoted-date", "2024-02-29", "DATE", "2024-02-29"),
    ("unquoted-datetime", "2024-01-02T03:04:05+02:00", "DATETIME", "2024-01-02T01:04:05Z"),
    ("quoted-date-is-text", '"2024-02-29"', "STRING", "2024-02-29"),
    ("surrounding-newline", '"x"\n', "STRING", "x"),
]


@FAMILIES
@pytest.mark.parametrize(
    ("body", "kind", "value"),
    [case[1:] for case in ROUND_TRIPS],
    ids=[case[0] for case in ROUND_TRIPS],
)
async def test_a_value_comes_back_with_its_type(
    client: httpx.AsyncClient, base: str, body: str, kind: str, value: Any
) -> None:
    assert (await put(client, base, "my-key", body)).status_code == 200

    response = await client.get(kv_url(base, "my-key"))

    assert response.status_code == 200
    assert response.json() == {"type": kind, "value": value}


async def test_text_plain_bodies_are_read_the_same_way(client: httpx.AsyncClient) -> None:
    headers = {"Content-Type": "text/plain"}
    await client.put(kv_url(API, "n"), content="7", headers=headers)
    await client.put(kv_url(API, "s"), content="plain", headers=headers)

    assert (await client.get(kv_url(API, "n"))).json() == {"type": "NUMBER", "value": 7}
    assert (await client.get(kv_url(API, "s"))).json() == {"type": "STRING", "value": "plain"}


async def test_values_written_by_python_are_shown_as_kestra_does(
    client: httpx.AsyncClient, services: Services
) -> None:
    services.store.kv.put(NS, "wait", timedelta(minutes=90))
    services.store.kv.put(NS, "day", date(2024, 1, 2))

    assert (await client.get(kv_url(API, "wait"))).json() == {
        "type": "DURATION",
        "value": "PT1H30M",
    }
    assert (await client.get(kv_url(API, "day"))).json() == {"type": "DATE", "value": "2024-01-02"}


async def test_writing_through_the_api_stores_the_typed_value(
    client: httpx.AsyncClient, services: Services
) -> None:
    await put(client, API, "when", "2024-01-02T03:04:05Z")

    entry = services.store.kv.get(NS, "when")

    assert entry is not None
    assert entry.type is KVType.DATETIME
    assert entry.value == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


async def test_a_replaced_value_keeps_its_creation_date(client: httpx.AsyncClient) -> None:
    await put(client, API, "k", "1")
    first = (await client.get(kv_url(API))).json()[0]
    await asyncio.sleep(0.01)
    await put(client, API, "k", "2")

    second = (await client.get(kv_url(API))).json()[0]

    assert second["creationDate"] == first["creationDate"]
    assert second["updateDate"] > first["updateDate"]
    assert (await client.get(kv_url(API, "k"))).json()["value"] == 2


# -- listing ---------------------------------------------------------------------------------


@FAMILIES
async def test_list_gives_each_live_key_with_its_dates(
    client: httpx.AsyncClient, base: str
) -> None:
    await put(client, base, "b", '"x"', ttl="PT1H")
    await put(client, base, "a", "1")
    await client.put(kv_url(base, "other", namespace="company"), content="1")

    response = await client.get(kv_url(base))

    assert response.status_code == 200
    entries = response.json()
    assert [entry["key"] for entry in entries] == ["a", "b"]
    assert set(entries[0]) == {"key", "creationDate", "updateDate"}
    created = datetime.fromisoformat(entries[1]["creationDate"])
    expires = datetime.fromisoformat(entries[1]["expirationDate"])
    assert timedelta(minutes=59) < expires - created <= timedelta(hours=1)


async def test_an_empty_namespace_lists_nothing(client: httpx.AsyncClient) -> None:
    response = await client.get(kv_url(API, namespace="nobody.here"))

    assert response.status_code == 200
    assert response.json() == []


# -- expiry ----------------------------------------------------------------------------------


async def test_an_expired_value_is_gone(client: httpx.AsyncClient) -> None:
    assert (await put(client, API, "short", '"soon gone"', ttl="PT0.2S")).status_code == 200
    assert (await client.get(kv_url(API, "short"))).status_code == 200

    await asyncio.sleep(0.3)

    assert (await client.get(kv_url(API, "short"))).status_code == 404
    assert (await client.get(kv_url(API))).json() == []
    assert (await client.delete(kv_url(API, "short"))).json() is False


@pytest.mark.parametrize(
    ("ttl", "reason"),
    [
        ("soon", "an ISO-8601 duration such as PT1H is expected"),
        ("P1Y", "an ISO-8601 duration such as PT1H is expected"),
        ("PT0S", "the duration must be positive"),
        ("-PT1H", "the duration must be positive"),
        ("PT99999999999999999999H", "an ISO-8601 duration such as PT1H is expected"),
        ("P9999999D", "the value would expire after the year 9999"),
    ],
)
async def test_a_bad_ttl_is_refused(client: httpx.AsyncClient, ttl: str, reason: str) -> None:
    response = await put(client, API, "k", "1", ttl=ttl)

    assert response.status_code == 422
    assert response.json()["message"] == f"Illegal argument: Invalid ttl '{ttl}': {reason}"
    assert (await client.get(kv_url(API, "k"))).status_code == 404


# -- errors ----------------------------------------------------------------------------------


@FAMILIES
async def test_a_missing_key_is_404_with_kestras_body(client: httpx.AsyncClient, base: str) -> None:
    url = kv_url(base, "missing")

    response = await client.get(url)

    assert response.status_code == 404
    message = f"Not Found: No value found for key 'missing' in namespace '{NS}'"
    assert response.json() == {
        "message": message,
        "_links": {"self": {"href": url}},
        "_embedded": {"errors": [{"message": message}]},
    }


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_a_bad_key_is_422_with_kestras_message(
    client: httpx.AsyncClient, method: str
) -> None:
    response = await client.request(method, kv_url(API, "-bad"), content="1")

    assert response.status_code == 422
    assert response.json()["message"].startswith(
        "Illegal argument: Invalid key '-bad': a key must start with an alphanumeric character"
    )


@pytest.mark.parametrize(
    ("body", "reason"), [("NaN", "Unable to store a NUMBER value"), (b"\xff", "not UTF-8 text")]
)
async def test_a_value_that_cannot_be_kept_is_422(
    client: httpx.AsyncClient, body: str | bytes, reason: str
) -> None:
    response = await client.put(kv_url(API, "k"), content=body)

    assert response.status_code == 422
    assert reason in response.json()["message"]


async def test_another_tenant_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/other/namespaces/company.team/kv")

    assert response.status_code == 404
    assert response.json()["message"] == "Not Found: Unknown tenant 'other'"


# -- deleting --------------------------------------------------------------------------------


@FAMILIES
async def test_delete_tells_whether_the_key_existed(client: httpx.AsyncClient, base: str) -> None:
    await put(client, base, "k", "1")

    first = await client.delete(kv_url(base, "k"))
    second = await client.delete(kv_url(base, "k"))

    assert (first.status_code, first.json()) == (200, True)
    assert (second.status_code, second.json()) == (200, False)
    assert (await client.get(kv_url(base, "k"))).status_code == 404


@FAMILIES
async def test_bulk_delete_returns_the_keys_it_deleted(
    client: httpx.AsyncClient, base: str
) -> None:
    for key in ("a", "b", "c"):
        await put(client, base, key, "1")

    response = await client.request("DELETE", kv_url(base), json={"keys": ["a", "c", "missing"]})

    assert response.status_code == 200
    assert response.json() == {"keys": ["a", "c"]}
    assert [entry["key"] for entry in (await client.get(kv_url(base))).json()] == ["b"]


async def test_bulk_delete_with_a_bad_key_deletes_nothing(client: httpx.AsyncClient) -> None:
    await put(client, API, "a", "1")

    response = await client.request("DELETE", kv_url(API), json={"keys": ["a", "-bad"]})

    assert response.status_code == 422
    assert "Invalid key '-bad'" in response.json()["message"]
    assert (await client.get(kv_url(API, "a"))).status_code == 200


async def test_bulk_delete_without_keys_is_422(client: httpx.AsyncClient) -> None:
    response = await client.request("DELETE", kv_url(API), json={"nope": []})

    assert response.status_code == 422
    assert response.json()["message"].startswith("Invalid entity: body.keys")


# -- flows read what the API wrote -----------------------------------------------------------

READER = f"""
id: reader
namespace: {NS}
tasks:
  - id: get
    type: io.kestra.plugin.core.kv.Get
    key: settings
  - id: render
    type: io.kestra.plugin.core.debug.Return
    format: "{{{{ kv('settings').retries + kv('bonus') }}}} {{{{ kv('greeting') }}}}"
"""


async def run(services: Services, source: str) -> Execution:
    stored = await services.flows.save(source)
    execution = await services.runner.submit(stored.flow, stored.revision)
    return await services.runner.wait(execution.id, timeout=30)


def output(execution: Execution, task_id: str) -> Any:
    (task_run,) = [run for run in execution.task_runs if run.task_id == task_id]
    assert task_run.outputs is not None
    return task_run.outputs


async def test_a_flow_reads_the_values_written_through_the_api(
    client: httpx.AsyncClient, services: Services
) -> None:
    await put(client, API, "settings", '{"retries": 3}')
    await put(client, "/api/v1", "bonus", "2")
    await put(client, API, "greeting", "hello")

    execution = await run(services, READER)

    assert execution.state.current is State.SUCCESS
    assert output(execution, "get")["value"] == {"retries": 3}
    assert output(execution, "render")["value"] == "5 hello"
