"""Executions API: create with inputs and labels, wait, read, search, kill, labels, delete."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from lanner.api import executions
from lanner.api.app import TENANT_PREFIX
from lanner.api.execution_watch import settled, wait_until
from lanner.clock import format_instant, utcnow
from lanner.executions import Execution
from lanner.metrics import MetricEntry, MetricType
from lanner.services import Services
from lanner.states import State
from tests.api.conftest import API
from tests.api.executions_support import (
    FAMILIES,
    HELLO,
    create,
    run,
    save_flows,
    task_run,
)
from tests.httpservers import MockApp, Server, serve

SEED = Path(__file__).resolve().parents[3] / "shared" / "seed"


@pytest.fixture(autouse=True)
async def flows(services: Services) -> None:
    await save_flows(services)


def error_of(response: httpx.Response) -> str:
    body = response.json()
    assert body["_embedded"]["errors"], body
    message: str = body["message"]
    return message


# -- create ------------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", FAMILIES)
async def test_create_with_multipart_inputs_returns_one_execution_with_its_url(
    client: httpx.AsyncClient, prefix: str
) -> None:
    response = await create(client, "hello", prefix=prefix, files={"name": (None, "Bob")})
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, dict)
    for field in ("id", "namespace", "flowId", "flowRevision", "originalId", "deleted"):
        assert field in body
    assert body["state"]["current"] == "CREATED"
    assert body["state"]["histories"][0]["state"] == "CREATED"
    assert body["metadata"]["originalCreatedDate"]
    assert body["inputs"] == {"name": "Bob", "count": None, "doc": None}
    assert body["url"] == f"http://lanner.test/ui/executions/company.team/hello/{body['id']}"
    final = await client.get(f"{prefix}/executions/{body['id']}")
    assert final.status_code == 200
    assert final.json()["id"] == body["id"]


async def test_create_without_a_body_uses_the_defaults(client: httpx.AsyncClient) -> None:
    execution = await run(client, "hello")
    assert execution["state"]["current"] == "SUCCESS"
    assert execution["inputs"] == {"name": "world", "count": None, "doc": None}
    assert task_run(execution, "greet")["outputs"] == {"value": "hello world"}


@pytest.mark.parametrize(
    "body",
    [
        {"data": {"name": "Ann", "count": "3"}},
        {"json": {"name": "Ann", "count": 3}},
        {"files": {"name": (None, "Ann"), "count": (None, "3")}},
    ],
    ids=["urlencoded", "json", "multipart"],
)
async def test_create_reads_inputs_in_every_body_format(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    execution = await run(client, "hello", **body)
    assert execution["inputs"] == {"name": "Ann", "count": 3, "doc": None}
    assert task_run(execution, "greet")["outputs"] == {"value": "hello Ann"}


async def test_a_part_sent_twice_counts_once_the_last(client: httpx.AsyncClient) -> None:
    execution = await run(client, "hello", files=[("name", (None, "a")), ("name", (None, "b"))])
    assert execution["inputs"]["name"] == "b"


async def test_wait_returns_the_ended_execution_with_its_task_runs(
    client: httpx.AsyncClient,
) -> None:
    execution = await run(client, "slow")
    assert execution["state"]["current"] == "SUCCESS"
    assert [item["taskId"] for item in execution["taskRunList"]] == ["first", "nap", "second"]
    assert execution["url"].endswith(f"/ui/executions/company.team/slow/{execution['id']}")


async def test_wait_returns_a_failed_execution_too(client: httpx.AsyncClient) -> None:
    execution = await run(client, "failing")
    assert execution["state"]["current"] == "FAILED"


async def test_wait_until_stops_at_a_pause(services: Services) -> None:
    running = Execution.create("company.team", "hello", 1).with_state(State.RUNNING)
    await services.store.save_execution(running)
    waiting = asyncio.create_task(wait_until(services, running.id, settled))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    services.events.publish(running.with_state(State.PAUSED))
    paused = await asyncio.wait_for(waiting, 5)
    assert paused.current is State.PAUSED


async def test_labels_from_the_query_are_added_to_the_flow_labels(
    client: httpx.AsyncClient,
) -> None:
    params = [
        ("labels", "env:prod"),
        ("labels", "owner:a:b"),
        ("labels", "system.correlationId:c1"),
    ]
    response = await create(client, "hello", params=params)
    assert response.status_code == 200
    labels = {item["key"]: item["value"] for item in response.json()["labels"]}
    assert labels == {
        "team": "data",
        "env": "prod",
        "owner": "a:b",
        "system.correlationId": "c1",
    }


@pytest.mark.parametrize(
    ("label", "message"),
    [
        (
            "system.readOnly:true",
            "Illegal argument: System labels can only be set by Kestra itself, "
            "offending label: system.readOnly=true",
        ),
        ("nocolon", "Illegal argument: Invalid label filter 'nocolon': expected key:value"),
    ],
    ids=["system-label", "not-key-value"],
)
async def test_bad_labels_are_refused(client: httpx.AsyncClient, label: str, message: str) -> None:
    response = await create(client, "hello", params={"labels": label})
    assert response.status_code == 422
    assert error_of(response) == message


async def test_an_unknown_flow_is_not_found(client: httpx.AsyncClient) -> None:
    response = await create(client, "nope")
    assert response.status_code == 404
    assert error_of(response) == "Not Found: Unable to find flow company.team.nope"


async def test_a_disabled_flow_cannot_run(client: httpx.AsyncClient) -> None:
    response = await create(client, "off")
    assert response.status_code == 409
    assert error_of(response) == "Illegal state: Cannot execute a disabled flow"


async def test_invalid_inputs_are_refused_with_every_problem(client: httpx.AsyncClient) -> None:
    response = await create(client, "hello", files={"count": (None, "three")})
    assert response.status_code == 422
    body = response.json()
    assert body["message"].startswith("Invalid entity: count: Invalid input for `count`")
    assert body["_embedded"]["errors"][0]["message"].startswith("count: Invalid input")


async def test_a_revision_runs_that_revision(client: httpx.AsyncClient, services: Services) -> None:
    await services.flows.save(HELLO.replace('"hello {{', '"bonjour {{'))
    latest = await run(client, "hello")
    first = await run(client, "hello", params={"revision": "1"})
    assert (latest["flowRevision"], first["flowRevision"]) == (2, 1)
    assert task_run(first, "greet")["outputs"] == {"value": "hello world"}
    assert task_run(latest, "greet")["outputs"] == {"value": "bonjour world"}
    missing = await create(client, "hello", params={"revision": "9"})
    assert missing.status_code == 404
    huge = await create(client, "hello", params={"revision": str(2**40)})
    assert huge.status_code == 422


async def test_a_schedule_date_is_kept(client: httpx.AsyncClient) -> None:
    response = await create(client, "hello", params={"scheduleDate": "2030-01-02T03:04:05Z"})
    assert response.status_code == 200
    assert response.json()["scheduleDate"] == "2030-01-02T03:04:05Z"


async def test_action_verbs_are_not_taken_for_flow_ids(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{API}/executions/some-id/restart")
    assert "Unable to find flow" not in response.text


@pytest.fixture(scope="module")
def users_server() -> Iterator[Server]:
    running = serve(MockApp())
    yield running
    running.close()


@pytest.mark.skipif(not SEED.is_dir(), reason="the shared seed is not beside the repo")
async def test_the_seed_post_flow_takes_its_json_input_as_a_multipart_part(
    client: httpx.AsyncClient, services: Services, users_server: Server
) -> None:
    lines = (SEED / "flows_http_post.yml").read_text(encoding="utf-8").splitlines()
    uri = f"    uri: {users_server.url}/api/users"
    await services.flows.save("\n".join(uri if "uri:" in ln else ln for ln in lines))
    payload = {"name": "Alice", "job": "Tester"}
    execution = await run(
        client,
        "http_post_request_example",
        namespace="example",
        files={"payload": (None, json.dumps(payload))},
    )
    assert execution["state"]["current"] == "SUCCESS", execution
    assert execution["inputs"] == {"payload": payload}
    body = json.loads(task_run(execution, "send_data")["outputs"]["body"])
    assert body == {**payload, "id": "1", "createdAt": "2024-01-01T00:00:00.000Z"}


# -- read and search ---------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", FAMILIES)
async def test_an_unknown_execution_is_not_found(client: httpx.AsyncClient, prefix: str) -> None:
    response = await client.get(f"{prefix}/executions/nope")
    assert response.status_code == 404
    assert error_of(response) == "Not Found: Unable to find execution 'nope'"


async def test_the_flow_of_an_execution_is_the_revision_it_ran(
    client: httpx.AsyncClient, services: Services
) -> None:
    execution = await run(client, "hello")
    await services.flows.save(HELLO.replace("world", "moon"))
    response = await client.get(f"{API}/executions/{execution['id']}/flow")
    assert response.status_code == 200
    flow = response.json()
    assert (flow["id"], flow["namespace"], flow["revision"]) == ("hello", "company.team", 1)
    assert flow["inputs"][0]["defaults"] == "world"
    assert flow["labels"] == [{"key": "team", "value": "data"}]
    assert [task["id"] for task in flow["tasks"]] == ["greet", "log"]
    assert (flow["disabled"], flow["deleted"]) == (False, False)


@pytest.fixture
async def three(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    """A SUCCESS hello labelled env:prod, a FAILED failing, a SUCCESS loop (oldest first)."""
    return [
        await run(client, "hello", params={"labels": "env:prod"}),
        await run(client, "failing"),
        await run(client, "loop"),
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", [2, 1, 0]),
        ("state=FAILED", [1]),
        ("state=FAILED&state=SUCCESS", [2, 1, 0]),
        ("flowId=hello", [0]),
        ("namespace=company", [2, 1, 0]),
        ("namespace=other", []),
        ("labels=env:prod", [0]),
        ("sort=state.startDate:asc", [0, 1, 2]),
        ("q=LOO", [2]),
        ("timeRange=PT1H", [2, 1, 0]),
        ("endDate=2000-01-01T00:00:00Z", []),
        ("filters[namespace][EQUALS]=company", []),
        ("filters[namespace][PREFIX]=company", [2, 1, 0]),
        ("filters[state][IN]=FAILED,SUCCESS&filters[flowId][EQUALS]=loop", [2]),
        ("filters[labels][EQUALS][env]=prod", [0]),
        ("filters[q][EQUALS]=fail", [1]),
        ("filters[childFilter][EQUALS]=MAIN", [2, 1, 0]),
        ("filters[childFilter][EQUALS]=CHILD", []),
        ("filters[timeRange][EQUALS]=PT5M&filters[scope][EQUALS]=USER", [2, 1, 0]),
    ],
)
async def test_search_filters(
    client: httpx.AsyncClient, three: list[dict[str, Any]], query: str, expected: list[int]
) -> None:
    response = await client.get(f"{API}/executions/search?{query}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert [item["id"] for item in body["results"]] == [three[i]["id"] for i in expected]
    assert body["total"] == len(expected)


async def test_search_pages(client: httpx.AsyncClient, three: list[dict[str, Any]]) -> None:
    response = await client.get("/api/v1/executions/search?size=2&page=2")
    body = response.json()
    assert [item["id"] for item in body["results"]] == [three[0]["id"]]
    assert body["total"] == 3
    scanned = await client.get(f"{API}/executions/search?q=company&size=1&page=3")
    assert [item["id"] for item in scanned.json()["results"]] == [three[0]["id"]]
    assert scanned.json()["total"] == 3


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "startDate=2024-01-01T00:00:00Z&timeRange=PT1H",
            "Illegal argument: Parameters 'startDate' and 'timeRange' are mutually exclusive",
        ),
        ("timeRange=soon", "Illegal argument: Text cannot be parsed to a Duration: soon"),
        (
            "labels=nocolon",
            "Illegal argument: Invalid label filter 'nocolon': expected key:value",
        ),
        (
            "filters[flowId][CONTAINS]=x",
            "Illegal argument: Unsupported execution filter 'flowId' with operation 'CONTAINS'",
        ),
        ("filters[state][IN]=DONE", "Illegal argument: Unknown state 'DONE'"),
    ],
)
async def test_bad_search_parameters_are_refused(
    client: httpx.AsyncClient, query: str, message: str
) -> None:
    response = await client.get(f"{API}/executions/search?{query}")
    assert response.status_code == 422
    assert error_of(response) == message


@pytest.mark.parametrize("query", ["page=0", "size=0", "size=2147483648", "state=DONE"])
async def test_invalid_search_values_are_validation_errors(
    client: httpx.AsyncClient, query: str
) -> None:
    response = await client.get(f"{API}/executions/search?{query}")
    assert response.status_code == 422
    assert error_of(response).startswith("Invalid entity: ")


async def test_executions_of_a_flow(client: httpx.AsyncClient, three: list[dict[str, Any]]) -> None:
    response = await client.get(f"{API}/executions?namespace=company.team&flowId=failing")
    assert response.status_code == 200
    assert [item["id"] for item in response.json()["results"]] == [three[1]["id"]]
    other = await client.get(f"{API}/executions?namespace=company&flowId=failing")
    assert other.json() == {"results": [], "total": 0}


async def test_search_by_start_date(client: httpx.AsyncClient, three: list[dict[str, Any]]) -> None:
    later = format_instant(utcnow() + timedelta(minutes=5))
    response = await client.get(f"{API}/executions/search", params={"startDate": later})
    assert response.json()["total"] == 0
    earlier = format_instant(utcnow() - timedelta(minutes=5))
    response = await client.get(f"{API}/executions/search", params={"startDate": earlier})
    assert response.json()["total"] == 3


# -- kill --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("DELETE", "kill"), ("DELETE", "actions/kill"), ("POST", "actions/kill")],
)
async def test_kill_stops_a_running_execution(
    client: httpx.AsyncClient, services: Services, method: str, path: str
) -> None:
    started = (await create(client, "long")).json()
    await wait_until(services, started["id"], lambda e: bool(e.task_runs))
    response = await client.request(method, f"{API}/executions/{started['id']}/{path}")
    assert response.status_code == 202
    assert response.json()["state"]["current"] in ("KILLING", "KILLED")
    ended = await asyncio.wait_for(services.runner.wait(started["id"]), 10)
    assert ended.current is State.KILLED


async def test_kill_right_after_create_ends_killed(
    client: httpx.AsyncClient, services: Services
) -> None:
    started = (await create(client, "long")).json()
    response = await client.delete(f"{API}/executions/{started['id']}/kill")
    assert response.status_code == 202
    ended = await asyncio.wait_for(services.runner.wait(started["id"]), 10)
    assert ended.current is State.KILLED


async def test_killing_an_ended_execution_is_a_conflict(client: httpx.AsyncClient) -> None:
    execution = await run(client, "hello")
    response = await client.delete(f"{API}/executions/{execution['id']}/kill")
    assert response.status_code == 409
    assert error_of(response) == "Illegal state: Execution is already finished, can't kill it"
    missing = await client.delete(f"{API}/executions/nope/kill")
    assert missing.status_code == 404


# -- labels ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["labels", "actions/labels"])
async def test_labels_replace_those_of_an_ended_execution(
    client: httpx.AsyncClient, path: str
) -> None:
    execution = await run(client, "hello", params={"labels": "env:prod"})
    labels = [{"key": "env", "value": "test"}, {"key": "ticket", "value": "42"}]
    response = await client.post(f"{API}/executions/{execution['id']}/{path}", json=labels)
    assert response.status_code == 200
    correlation = {"key": "system.correlationId", "value": execution["id"]}
    assert response.json()["labels"] == [*labels, correlation]
    stored = (await client.get(f"{API}/executions/{execution['id']}")).json()
    assert stored["labels"] == [*labels, correlation]
    assert stored["taskRunList"] == execution["taskRunList"]


async def test_labels_cannot_add_system_labels_nor_touch_a_running_execution(
    client: httpx.AsyncClient, services: Services
) -> None:
    execution = await run(client, "hello")
    url = f"{API}/executions/{execution['id']}/labels"
    refused = await client.post(url, json=[{"key": "system.readOnly", "value": "true"}])
    assert refused.status_code == 422
    assert "offending label: system.readOnly=true" in error_of(refused)
    started = (await create(client, "long")).json()
    busy = await client.post(f"{API}/executions/{started['id']}/labels", json=[])
    assert busy.status_code == 409
    assert error_of(busy) == "Illegal state: The execution is not terminated"
    invalid = await client.post(url, json=[{"key": "x"}])
    assert invalid.status_code == 422
    await services.runner.kill(started["id"])


# -- delete ------------------------------------------------------------------------------------


@pytest.mark.parametrize("keep_files", [False, True])
async def test_delete_removes_the_execution_and_its_files_unless_asked(
    client: httpx.AsyncClient, services: Services, keep_files: bool
) -> None:
    execution = await run(client, "hello", files={"doc": ("notes.txt", b"hi")})
    stored = execution["inputs"]["doc"]
    assert services.storage.exists(stored)
    params = {"deleteStorage": "false"} if keep_files else {}
    response = await client.delete(f"{API}/executions/{execution['id']}", params=params)
    assert response.status_code == 204
    assert response.content == b""
    assert (await client.get(f"{API}/executions/{execution['id']}")).status_code == 404
    assert services.storage.exists(stored) is keep_files
    folders = services.storage.list_folders("kestra:///company/team/hello/executions")
    assert (execution["id"] in folders) is keep_files
    assert await services.store.get_logs(execution["id"]) == []


def _metric_of(execution: dict[str, Any]) -> MetricEntry:
    return MetricEntry(
        execution["namespace"],
        execution["flowId"],
        execution["id"],
        "greet",
        task_run(execution, "greet")["id"],
        MetricType.COUNTER,
        "calls",
        1.0,
        utcnow(),
        {},
    )


@pytest.mark.parametrize(("delete_logs", "delete_metrics"), [(False, True), (True, False)])
async def test_delete_keeps_the_logs_or_metrics_asked_for(
    client: httpx.AsyncClient, services: Services, delete_logs: bool, delete_metrics: bool
) -> None:
    execution = await run(client, "hello")
    await services.store.append_metrics([_metric_of(execution)])
    params = {"deleteLogs": str(delete_logs).lower(), "deleteMetrics": str(delete_metrics).lower()}

    response = await client.delete(f"{API}/executions/{execution['id']}", params=params)

    assert response.status_code == 204
    assert (await client.get(f"{API}/executions/{execution['id']}")).status_code == 404
    logs = await services.store.get_logs(execution["id"])
    assert [entry.message for entry in logs] == ([] if delete_logs else ["hello world"])
    found = await client.get(f"{API}/logs/search", params={"namespace": "company.team"})
    searched = [line["executionId"] for line in found.json()["results"]]
    assert (execution["id"] in searched) is not delete_logs
    assert (await services.store.get_metrics(execution["id"])).total == (not delete_metrics)


async def test_delete_by_ids_deletes_ended_executions_or_none(
    client: httpx.AsyncClient, services: Services
) -> None:
    first, second = await run(client, "hello"), await run(client, "hello")
    running = (await create(client, "long")).json()
    url = f"{API}/executions/by-ids"

    refused = await client.request("DELETE", url, json=[first["id"], running["id"]])
    assert refused.status_code == 400
    assert [item["invalidValue"] for item in refused.json()["invalids"]] == [running["id"]]
    assert (await client.get(f"{API}/executions/{first['id']}")).status_code == 200

    ids = [first["id"], second["id"]]
    deleted = await client.request("DELETE", url, json=ids, params={"deleteLogs": "false"})
    assert deleted.status_code == 200
    assert deleted.json() == {"count": 2}
    for execution_id in ids:
        assert (await client.get(f"{API}/executions/{execution_id}")).status_code == 404
        assert len(await services.store.get_logs(execution_id)) == 1
    await services.runner.kill(running["id"])


async def test_delete_refuses_a_running_execution_and_unknown_ones(
    client: httpx.AsyncClient, services: Services
) -> None:
    started = (await create(client, "long")).json()
    response = await client.delete(f"{API}/executions/{started['id']}")
    assert response.status_code == 409
    assert "kill it before deleting it" in error_of(response)
    await services.runner.kill(started["id"])
    missing = await client.delete(f"{API}/executions/nope")
    assert missing.status_code == 404


def test_openapi_describes_the_execution_routes() -> None:
    app = FastAPI()
    app.include_router(executions.router, prefix=TENANT_PREFIX)
    paths = app.openapi()["paths"]
    create_op = paths["/api/v1/{tenant}/executions/{namespace}/{flowId}"]["post"]
    assert "multipart/form-data" in create_op["requestBody"]["content"]
    follow_op = paths["/api/v1/{tenant}/executions/{executionId}/follow"]["get"]
    assert "text/event-stream" in follow_op["responses"]["200"]["content"]
    download = paths["/api/v1/{tenant}/executions/{executionId}/file"]["get"]
    assert "application/octet-stream" in download["responses"]["200"]["content"]
    for operations in paths.values():
        for operation in operations.values():
            for status in ("404", "422"):
                error = operation["responses"].get(status, {}).get("content", {})
                assert set(error) <= {"application/json"}
                assert "HTTPValidationError" not in json.dumps(error)


async def test_an_execution_over_max_message_bytes_is_refused(client: httpx.AsyncClient) -> None:
    big = "a" * 10_600_000  # over the default limit of 10 MiB
    response = await create(client, "hello", files={"name": (None, big)})
    assert response.status_code == 422
    message = response.json()["message"]
    assert message.startswith(
        "Illegal argument: Unable to start an execution of company.team.hello: Message of size "
    )
    assert message.endswith(
        "has exceeded the configured limit of 10485760"
        " (max_message_bytes, LANNER_MAX_MESSAGE_BYTES)"
    )
