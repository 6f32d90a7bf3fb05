"""`GET /executions/{id}/taskruns/{taskRunId}/curl`: the cURL command of a Request task run."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from lanner.services import Services
from tests.api.conftest import API
from tests.api.executions_support import run, save_flows, task_run
from tests.httpservers import MockApp, Server, serve


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    running = serve(MockApp())
    yield running
    running.close()


def flow(server: Server) -> str:
    return f"""
id: calls
namespace: company.team
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["a", "b"]
    tasks:
      - id: post
        type: io.kestra.plugin.core.http.Request
        uri: "{server.url}/post/json?item={{{{ taskrun.value }}}}"
        method: POST
        body: '{{"item": "{{{{ taskrun.value }}}}"}}'
        headers:
          X-Item: "{{{{ taskrun.value }}}}"
        options:
          auth:
            type: BEARER
            token: t0ken-value
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: done
"""


async def test_the_command_of_each_task_run(
    client: httpx.AsyncClient, services: Services, server: Server
) -> None:
    await save_flows(services, flow(server))
    execution = await run(client, "calls")
    assert execution["state"]["current"] == "SUCCESS"
    posted = task_run(execution, "post", "b")
    response = await client.get(f"{API}/executions/{execution['id']}/taskruns/{posted['id']}/curl")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["har"] == posted["outputs"]["har"]
    assert body["command"] == (
        "curl \\\n"
        "  -H 'Content-Type: application/json; charset=UTF-8' \\\n"
        "  -H 'Authorization: Bearer ********' \\\n"
        "  -H 'X-Item: b' \\\n"
        '  --data-raw \'{"item": "b"}\' \\\n'
        "  -L \\\n"
        f"  '{server.url}/post/json?item=b'"
    )
    legacy = await client.get(f"/api/v1/executions/{execution['id']}/taskruns/{posted['id']}/curl")
    assert legacy.json() == body


@pytest.mark.parametrize(
    ("task", "message"),
    [
        ("post", "Task 'post' ran 2 times in execution"),
        ("log", "has no recorded HTTP exchange: only Request task runs record one"),
        ("nothing", "has no task run with the id or task id 'nothing'"),
    ],
)
async def test_what_has_no_command_is_not_found(
    client: httpx.AsyncClient, services: Services, server: Server, task: str, message: str
) -> None:
    await save_flows(services, flow(server))
    execution = await run(client, "calls")
    response = await client.get(f"{API}/executions/{execution['id']}/taskruns/{task}/curl")
    assert response.status_code == 404
    assert message in response.json()["message"]


async def test_unknown_execution(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/executions/nope/taskruns/x/curl")
    assert response.status_code == 404
