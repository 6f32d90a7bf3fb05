"""Flows and helpers shared by the execution API tests."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from lanner.executions import Execution
from lanner.services import Services
from lanner.states import State

HELLO = """
id: hello
namespace: company.team
labels:
  team: data
inputs:
  - id: name
    type: STRING
    defaults: world
  - id: count
    type: INT
    required: false
  - id: doc
    type: FILE
    required: false
tasks:
  - id: greet
    type: io.kestra.plugin.core.debug.Return
    format: "hello {{ inputs.name }}"
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "{{ outputs.greet.value }}"
"""

LOOP = """
id: loop
namespace: company.team
inputs:
  - id: password
    type: SECRET
    defaults: s3cr3t-value
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["a", "b"]
    tasks:
      - id: 1-1_return
        type: io.kestra.plugin.core.debug.Return
        format: "{{ taskrun.value }}-return"
  - id: last
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs['1-1_return'] | keys | join(',') }}"
"""

SLOW = """
id: slow
namespace: company.team
tasks:
  - id: first
    type: io.kestra.plugin.core.log.Log
    message: starting
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT0.6S
  - id: second
    type: io.kestra.plugin.core.log.Log
    message: done
"""

LONG = """
id: long
namespace: company.team
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT60S
"""

DISABLED = """
id: off
namespace: company.team
disabled: true
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: never
"""

FAILING = """
id: failing
namespace: company.team
tasks:
  - id: boom
    type: io.kestra.plugin.core.execution.Fail
    errorMessage: it broke
"""

ALL_FLOWS = (HELLO, LOOP, SLOW, LONG, DISABLED, FAILING)

# Both path families serve every route.
FAMILIES = ("/api/v1", "/api/v1/main")


async def save_flows(services: Services, *sources: str) -> None:
    for source in sources or ALL_FLOWS:
        await services.flows.save(source)


async def post_flows(client: httpx.AsyncClient, *sources: str) -> None:
    """Save flows through `POST /flows`, as a client would."""
    headers = {"Content-Type": "application/x-yaml"}
    for source in sources:
        response = await client.post("/api/v1/main/flows", content=source, headers=headers)
        response.raise_for_status()


async def execution_count(client: httpx.AsyncClient, flow_id: str) -> int:
    """Return how many executions of `flow_id` `GET /executions/search` finds."""
    found = await client.get("/api/v1/main/executions/search", params={"flowId": flow_id})
    total: int = found.json()["total"]
    return total


async def create(
    client: httpx.AsyncClient,
    flow_id: str,
    *,
    prefix: str = "/api/v1/main",
    namespace: str = "company.team",
    params: Any = None,
    **kwargs: Any,
) -> httpx.Response:
    """POST a create request; `kwargs` go to httpx (files=, data=, json=...)."""
    return await client.post(f"{prefix}/executions/{namespace}/{flow_id}", params=params, **kwargs)


async def run(client: httpx.AsyncClient, flow_id: str, **kwargs: Any) -> dict[str, Any]:
    """Create an execution with `wait=true` and return its final JSON."""
    params = {"wait": "true", **kwargs.pop("params", {})}
    response = await create(client, flow_id, params=params, **kwargs)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def task_run(execution: dict[str, Any], task_id: str, value: str | None = None) -> dict[str, Any]:
    """Return the task run of `task_id` (with loop `value`) in an execution's JSON."""
    for run_json in execution["taskRunList"]:
        if run_json["taskId"] == task_id and run_json.get("value") == value:
            found: dict[str, Any] = run_json
            return found
    raise AssertionError(f"no task run {task_id} {value} in {execution['taskRunList']}")


async def reach_state(services: Services, execution_id: str, state: State) -> Execution:
    """Return the stored execution once it is in `state`; fail after about 5 seconds."""
    for _ in range(500):
        stored = await services.store.get_execution(execution_id)
        if stored is not None and stored.current is state:
            return stored
        await asyncio.sleep(0.01)
    raise AssertionError(f"{execution_id} never reached {state.value}")
