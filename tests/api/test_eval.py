"""Evaluating expressions against an execution ("Debug Outputs"), in every path form."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from lanner.services import Services
from tests.api.conftest import API
from tests.api.executions_support import FAILING, LOOP, run, save_flows, task_run

# Every form of the task-run route: 0.x/1.x legacy, 1.x tenant, 2.0 actions.
TASK_RUN_ROUTES = (
    "/api/v1/executions/{id}/eval/{run}",
    "/api/v1/main/executions/{id}/eval/{run}",
    "/api/v1/main/executions/{id}/actions/eval/{run}",
)
EXECUTION_ROUTES = (
    "/api/v1/executions/{id}/eval",
    "/api/v1/main/executions/{id}/eval",
    "/api/v1/main/executions/{id}/actions/eval",
)


@pytest.fixture
async def execution(client: httpx.AsyncClient, services: Services) -> dict[str, Any]:
    """An ended run of `loop`: `1-1_return` ran for the values a and b, `last` after."""
    await save_flows(services, LOOP, FAILING)
    return await run(client, "loop")


async def evaluate(client: httpx.AsyncClient, url: str, template: str) -> dict[str, Any]:
    response = await client.post(url, content=template, headers={"Content-Type": "text/plain"})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def in_loop(execution: dict[str, Any], route: str = TASK_RUN_ROUTES[0]) -> str:
    """The URL evaluating in the task run of `1-1_return` for the value `a`."""
    return route.format(id=execution["id"], run=task_run(execution, "1-1_return", "a")["id"])


@pytest.mark.parametrize("route", TASK_RUN_ROUTES)
@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("my simple string", "my simple string"),
        ("{{ outputs['1-1_return'][taskrun.value].value }}", "a-return"),
        ("{{ taskrun.value }} of {{ flow.id }}", "a of loop"),
        ("{{ outputs['1-1_return'] }}", '{"a":{"value":"a-return"},"b":{"value":"b-return"}}'),
        ("{{ tasks.last.state }}", "SUCCESS"),
        ("{{ [1, true, 'x'] }}", '[1,true,"x"]'),
    ],
    ids=["plain-text", "loop-output", "taskrun-and-flow", "map-as-json", "tasks", "list"],
)
async def test_a_template_renders_in_the_task_run_context(
    client: httpx.AsyncClient, execution: dict[str, Any], route: str, template: str, expected: str
) -> None:
    assert await evaluate(client, in_loop(execution, route), template) == {"result": expected}


async def test_taskrun_id_is_the_task_run_evaluated(
    client: httpx.AsyncClient, execution: dict[str, Any]
) -> None:
    run_id = task_run(execution, "1-1_return", "b")["id"]
    url = f"{API}/executions/{execution['id']}/eval/{run_id}"
    assert await evaluate(client, url, "{{ taskrun.id }}") == {"result": run_id}


@pytest.mark.parametrize("route", EXECUTION_ROUTES)
async def test_without_a_task_run_the_execution_context_is_used(
    client: httpx.AsyncClient, execution: dict[str, Any], route: str
) -> None:
    url = route.format(id=execution["id"])
    template = "{{ execution.id }} {{ outputs['1-1_return'].b.value }} {{ outputs.last.value }}"
    expected = f"{execution['id']} b-return a,b"
    assert await evaluate(client, url, template) == {"result": expected}


@pytest.mark.parametrize("route", [*TASK_RUN_ROUTES, *EXECUTION_ROUTES])
async def test_a_render_error_is_a_200_with_the_error_and_its_stack_trace(
    client: httpx.AsyncClient, execution: dict[str, Any], route: str
) -> None:
    body = await evaluate(client, in_loop(execution, route), "{{ missing }}")
    message = "Unable to find `missing` used in the expression `{{ missing }}` at line 1"
    assert set(body) == {"error", "stackTrace"}
    assert body["error"] == message
    assert message in body["stackTrace"]


async def test_a_syntax_error_is_reported_the_same_way(
    client: httpx.AsyncClient, execution: dict[str, Any]
) -> None:
    body = await evaluate(client, in_loop(execution), "{{ outputs. }}")
    assert "result" not in body
    assert body["error"] in body["stackTrace"]


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ secret('API_KEY') }}", {"result": "********"}),
        ("{{ inputs.password }}", {"result": "********"}),
        ("key={{ inputs }}", {"result": 'key={"password":"********"}'}),
    ],
    ids=["secret-function", "secret-input", "secret-inside-a-map"],
)
async def test_secrets_never_come_back(
    client: httpx.AsyncClient,
    execution: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    template: str,
    expected: dict[str, str],
) -> None:
    monkeypatch.setenv("SECRET_API_KEY", "c2VjcmV0LWtleQ==")
    assert await evaluate(client, in_loop(execution), template) == expected


async def test_a_secret_in_an_error_message_is_masked(
    client: httpx.AsyncClient, execution: dict[str, Any]
) -> None:
    body = await evaluate(client, in_loop(execution), "{{ inputs.password | number }}")
    assert "s3cr3t-value" not in body["error"] + body["stackTrace"]
    assert "********" in body["error"]


async def test_error_logs_are_those_of_the_failed_task_runs(
    client: httpx.AsyncClient, execution: dict[str, Any]
) -> None:
    failed = await run(client, "failing")
    url = f"{API}/executions/{failed['id']}/eval"
    body = await evaluate(client, url, "{{ errorLogs()[0].taskId }}: {{ errorLogs()[0].message }}")
    assert body == {"result": "boom: it broke"}


async def test_unknown_executions_and_task_runs_are_not_found(
    client: httpx.AsyncClient, execution: dict[str, Any]
) -> None:
    unknown = await client.post(f"{API}/executions/nope/eval/x", content="x")
    assert unknown.status_code == 404
    assert unknown.json()["message"] == "Not Found: Unable to find execution 'nope'"
    no_run = await client.post(f"{API}/executions/{execution['id']}/eval/nope", content="x")
    assert no_run.status_code == 404
    assert no_run.json()["message"] == "Not Found: Unable to find task run 'nope'"
