"""Webhooks (`/executions/webhook/{namespace}/{flowId}/{key}`) and the triggers API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from lanner.api import create_app
from lanner.api import triggers as trigger_routes
from lanner.services import Services
from lanner.settings import Settings
from lanner.states import State

from .conftest import API

HOOK = f"{API}/executions/webhook/company.team/hello"


def flow(trigger: str = "", *, tasks: str = "", extra: str = "") -> str:
    return (
        "id: hello\n"
        "namespace: company.team\n"
        f"{extra}"
        "tasks:\n"
        + (
            tasks
            or "  - id: log\n"
            "    type: io.kestra.plugin.core.log.Log\n"
            '    message: \'{{ trigger.body }} {{ trigger.headers["x-token"] }} '
            "{{ trigger.parameters.page }}'\n"
        )
        + "triggers:\n"
        "  - id: hook\n"
        "    type: io.kestra.plugin.core.trigger.Webhook\n"
        "    key: s3cr3t\n"
        f"{trigger}"
    )


async def save(services: Services, source: str) -> None:
    await services.store.save_flow("company.team", "hello", source)


async def logs_of(services: Services, execution_id: str) -> list[str]:
    await services.runner.wait(execution_id, 10)
    return [entry.message for entry in await services.store.get_logs(execution_id)]


# -- starting executions --------------------------------------------------------------------------


async def test_a_json_body_headers_and_parameters_reach_the_flow(
    client: httpx.AsyncClient, services: Services
) -> None:
    await save(services, flow())

    response = await client.post(
        f"{HOOK}/s3cr3t?page=1&page=2&q=x",
        json={"hello": "world", "n": [1, 2]},
        headers={"X-Token": "abc"},
    )

    assert response.status_code == 200
    execution = response.json()
    assert execution["namespace"] == "company.team"
    assert execution["flowId"] == "hello"
    assert execution["state"]["current"] == "CREATED"
    assert execution["url"].endswith(f"/company.team/hello/{execution['id']}")
    trigger = execution["trigger"]
    assert (trigger["id"], trigger["type"]) == ("hook", "io.kestra.plugin.core.trigger.Webhook")
    variables = trigger["variables"]
    assert variables["body"] == {"hello": "world", "n": [1, 2]}
    assert variables["headers"]["x-token"] == ["abc"]
    assert variables["headers"]["content-type"] == ["application/json"]
    assert variables["parameters"] == {"page": ["1", "2"], "q": ["x"]}
    assert await logs_of(services, execution["id"]) == [
        '{"hello":"world","n":[1,2]} ["abc"] ["1","2"]'
    ]


@pytest.mark.parametrize(
    ("content", "body"),
    [
        pytest.param(b"plain words", "plain words", id="text"),
        pytest.param(b"[1, 2]", [1, 2], id="json-array"),
        pytest.param(b"42", "42", id="json-number-stays-text"),
        pytest.param(b"{not json", "{not json", id="broken-json"),
    ],
)
async def test_a_body_that_is_not_a_json_object_or_array_is_text(
    client: httpx.AsyncClient, services: Services, content: bytes, body: Any
) -> None:
    await save(services, flow())

    response = await client.put(f"{HOOK}/s3cr3t", content=content)

    assert response.status_code == 200
    assert response.json()["trigger"]["variables"]["body"] == body


async def test_a_get_without_body_has_no_body_variable(
    client: httpx.AsyncClient, services: Services
) -> None:
    await save(
        services,
        flow(
            tasks="  - id: log\n    type: io.kestra.plugin.core.log.Log\n"
            "    message: \"{{ trigger.body ?? 'none' }}\"\n"
        ),
    )

    response = await client.get(f"{HOOK}/s3cr3t")

    assert response.status_code == 200
    assert "body" not in response.json()["trigger"]["variables"]
    assert await logs_of(services, response.json()["id"]) == ["none"]


async def test_the_legacy_path_family_answers_too(
    client: httpx.AsyncClient, services: Services
) -> None:
    await save(services, flow())

    response = await client.post("/api/v1/executions/webhook/company.team/hello/s3cr3t")

    assert response.status_code == 200


async def test_the_key_is_rendered_with_the_flow_variables(
    client: httpx.AsyncClient, services: Services
) -> None:
    await save(
        services,
        flow()
        .replace("key: s3cr3t", 'key: "{{ flow.id }}-{{ vars.k }}"')
        .replace("tasks:", "variables:\n  k: abc\ntasks:"),
    )

    assert (await client.post(f"{HOOK}/hello-abc")).status_code == 200
    assert (await client.post(f"{HOOK}/s3cr3t")).status_code == 404


async def test_trigger_inputs_and_labels_are_rendered_with_the_request(
    client: httpx.AsyncClient, services: Services
) -> None:
    source = flow(
        "    inputs:\n      name: '{{ trigger.body.name }}'\n"
        "    labels:\n      origin: '{{ trigger.headers[\"x-origin\"][0] }}'\n",
        extra="inputs:\n  - id: name\n    type: STRING\n  - id: greeting\n"
        "    type: STRING\n    defaults: hi\n",
    )
    await save(services, source)

    response = await client.post(f"{HOOK}/s3cr3t", json={"name": "Ada"}, headers={"X-Origin": "ci"})

    execution = response.json()
    assert execution["inputs"] == {"name": "Ada", "greeting": "hi"}
    assert {"key": "origin", "value": "ci"} in execution["labels"]


async def test_invalid_inputs_are_refused(client: httpx.AsyncClient, services: Services) -> None:
    await save(services, flow(extra="inputs:\n  - id: name\n    type: INT\n"))

    response = await client.post(f"{HOOK}/s3cr3t")

    assert response.status_code == 422


# -- conditions -----------------------------------------------------------------------------------

CONDITION = (
    "    conditions:\n"
    "      - type: io.kestra.plugin.core.condition.ExpressionCondition\n"
    "        expression: \"{{ trigger.body.hello == 'world' }}\"\n"
)


async def test_conditions_that_do_not_hold_answer_204(
    client: httpx.AsyncClient, services: Services
) -> None:
    await save(services, flow(CONDITION))

    refused = await client.post(f"{HOOK}/s3cr3t", json={"hello": "moon"})
    accepted = await client.post(f"{HOOK}/s3cr3t", json={"hello": "world"})

    assert refused.status_code == 204
    assert refused.content == b""
    assert accepted.status_code == 200
    found = await services.store.search_executions(namespace="company.team")
    assert found.total == 1


# -- refusals -------------------------------------------------------------------------------------


async def test_unknown_flows_and_keys_are_404(
    client: httpx.AsyncClient, services: Services
) -> None:
    await save(services, flow())

    no_flow = await client.post(f"{API}/executions/webhook/company.team/nothing/s3cr3t")
    no_key = await client.post(f"{HOOK}/wrong")

    assert no_flow.status_code == 404
    assert no_flow.json()["message"] == "Not Found: Flow not found"
    assert no_key.status_code == 404
    assert no_key.json()["message"] == "Not Found: Webhook not found"


async def test_a_deleted_flow_is_not_found(client: httpx.AsyncClient, services: Services) -> None:
    await services.store.save_flow("company.team", "hello", flow(), deleted=True)

    response = await client.post(f"{HOOK}/s3cr3t")

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("source", "message"),
    [
        pytest.param(
            flow(extra="disabled: true\n"),
            "Illegal state: Cannot execute a disabled flow",
            id="disabled-flow",
        ),
        pytest.param(
            flow("    disabled: true\n"),
            "Illegal state: Cannot execute a disabled trigger 'hook'",
            id="disabled-trigger",
        ),
        pytest.param(
            flow("    cron: nope\n"),
            "Illegal state: Cannot execute an invalid flow: ",
            id="invalid-flow",
        ),
    ],
)
async def test_disabled_and_invalid_flows_are_409(
    client: httpx.AsyncClient, services: Services, source: str, message: str
) -> None:
    await save(services, source)

    response = await client.post(f"{HOOK}/s3cr3t")

    assert response.status_code == 409
    assert response.json()["message"].startswith(message)


async def test_stop_after_disables_a_webhook(client: httpx.AsyncClient, services: Services) -> None:
    failing = "  - id: fail\n    type: io.kestra.plugin.core.execution.Fail\n"
    await save(services, flow("    stopAfter: [FAILED]\n", tasks=failing))

    first = await client.post(f"{HOOK}/s3cr3t")
    ended = await services.runner.wait(first.json()["id"], 10)
    await services.scheduler.tick()
    second = await client.post(f"{HOOK}/s3cr3t")

    assert ended.current is State.FAILED
    assert second.status_code == 409


# -- waiting --------------------------------------------------------------------------------------

SIMPLE = "  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: '{{ trigger.body }}'\n"


async def test_wait_answers_with_the_ended_execution(
    client: httpx.AsyncClient, services: Services
) -> None:
    await save(services, flow("    wait: true\n", tasks=SIMPLE))

    response = await client.post(f"{HOOK}/s3cr3t", json={"a": 1})

    assert response.status_code == 200
    assert response.json()["state"]["current"] == "SUCCESS"


async def test_a_failed_execution_answers_500_when_waiting(
    client: httpx.AsyncClient, services: Services
) -> None:
    failing = "  - id: fail\n    type: io.kestra.plugin.core.execution.Fail\n"
    await save(services, flow("    wait: true\n", tasks=failing))

    response = await client.post(f"{HOOK}/s3cr3t")

    assert response.status_code == 500
    assert response.json()["state"]["current"] == "FAILED"


async def test_return_outputs_answers_with_the_flow_outputs(
    client: httpx.AsyncClient, services: Services
) -> None:
    source = flow("    wait: true\n    returnOutputs: true\n", tasks=SIMPLE) + (
        "outputs:\n  - id: echo\n    type: STRING\n    value: '{{ trigger.body.a }}'\n"
    )
    await save(services, source)

    response = await client.post(f"{HOOK}/s3cr3t", json={"a": "b"})

    assert response.status_code == 200
    assert response.json() == {"echo": "b"}


# -- the triggers API -----------------------------------------------------------------------------


@pytest.fixture
async def triggers_client(
    settings: Settings, services: Services
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, services)
    app.include_router(trigger_routes.router, prefix=API)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://lanner.test") as http:
        yield http


SCHEDULE = (
    "  - id: nightly\n    type: io.kestra.plugin.core.trigger.Schedule\n    cron: '0 2 * * *'\n"
)


async def test_search_lists_every_trigger_with_its_state(
    triggers_client: httpx.AsyncClient, services: Services
) -> None:
    await save(services, flow(SCHEDULE))
    await services.scheduler.tick()

    response = await triggers_client.get(f"{API}/triggers/search", params={"q": "hello"})

    body = response.json()
    assert body["total"] == 2
    by_id = {item["triggerId"]: item for item in body["results"]}
    assert by_id["nightly"]["nextExecutionDate"].endswith("T02:00:00Z")
    assert by_id["nightly"]["disabled"] is False
    assert by_id["nightly"]["abstractTrigger"]["cron"] == "0 2 * * *"
    assert by_id["nightly"]["triggerContext"]["flowId"] == "hello"
    assert "nextExecutionDate" not in by_id["hook"]
    assert by_id["hook"]["abstractTrigger"]["key"] == "s3cr3t"


async def test_search_filters_sorts_and_pages(
    triggers_client: httpx.AsyncClient, services: Services
) -> None:
    await save(services, flow(SCHEDULE))

    other = await triggers_client.get(f"{API}/triggers/search", params={"namespace": "other"})
    ordered = await triggers_client.get(
        f"{API}/triggers/search", params={"sort": "triggerId:desc", "size": 1}
    )
    wrong = await triggers_client.get(f"{API}/triggers/search", params={"sort": "nope"})

    assert other.json() == {"results": [], "total": 0}
    assert [item["triggerId"] for item in ordered.json()["results"]] == ["nightly"]
    assert ordered.json()["total"] == 2
    assert wrong.status_code == 422


async def test_disable_then_enable_a_webhook(
    triggers_client: httpx.AsyncClient, services: Services
) -> None:
    await save(services, flow())
    base = f"{API}/triggers/company.team/hello/hook"

    disabled = await triggers_client.post(f"{base}/disable")
    refused = await triggers_client.post(f"{HOOK}/s3cr3t")
    enabled = await triggers_client.post(f"{base}/enable")
    accepted = await triggers_client.post(f"{HOOK}/s3cr3t")
    missing = await triggers_client.post(f"{API}/triggers/company.team/hello/nothing/enable")

    assert disabled.json()["disabled"] is True
    assert refused.status_code == 409
    assert enabled.json()["disabled"] is False
    assert accepted.status_code == 200
    assert missing.status_code == 404
