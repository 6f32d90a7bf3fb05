"""The Pause task through the API: an execution waits PAUSED until it is resumed."""

from __future__ import annotations

import asyncio

import httpx

from lanner.services import Services
from lanner.states import State
from tests.api.conftest import API
from tests.api.executions_support import reach_state

FLOW = """id: approval
namespace: company.team
tasks:
  - id: wait_for_approval
    type: io.kestra.plugin.core.flow.Pause
    onResume:
      - id: approved
        type: BOOLEAN
      - id: copies
        type: INT
        required: false
      - id: reason
        type: STRING
        defaults: none given
  - id: report
    type: io.kestra.plugin.core.log.Log
    message: >-
      approved={{ outputs.wait_for_approval.onResume.approved }}
      ({{ outputs.wait_for_approval.onResume.reason }})
"""


async def test_resume_with_on_resume_inputs(client: httpx.AsyncClient, services: Services) -> None:
    (
        await client.post(
            f"{API}/flows", content=FLOW, headers={"Content-Type": "application/x-yaml"}
        )
    ).raise_for_status()
    created = (await client.post(f"{API}/executions/company.team/approval")).json()
    await reach_state(services, created["id"], State.PAUSED)

    bad = await client.post(
        f"{API}/executions/{created['id']}/resume", data={"approved": "true", "copies": "abc"}
    )
    assert bad.status_code == 422
    assert "copies: Invalid input for `copies`" in bad.json()["message"]
    still = await services.store.get_execution(created["id"])
    assert still is not None
    assert still.current is State.PAUSED

    resumed = await client.post(
        f"{API}/executions/{created['id']}/actions/resume", data={"approved": "true"}
    )
    assert resumed.status_code == 204
    await reach_state(services, created["id"], State.SUCCESS)
    logs = (await client.get(f"{API}/logs/{created['id']}")).json()
    assert [entry["message"] for entry in logs] == ["approved=true (none given)"]


async def test_resume_of_an_execution_that_is_not_paused_is_409(
    client: httpx.AsyncClient, services: Services
) -> None:
    flow = (
        "id: quick\nnamespace: company.team\ntasks:\n  - id: pause\n"
        "    type: io.kestra.plugin.core.flow.Pause\n    delay: PT0.01S\n"
    )
    (
        await client.post(
            f"{API}/flows", content=flow, headers={"Content-Type": "application/x-yaml"}
        )
    ).raise_for_status()
    created = (await client.post(f"{API}/executions/company.team/quick")).json()
    await reach_state(services, created["id"], State.SUCCESS)
    response = await client.post(f"{API}/executions/{created['id']}/resume")
    assert response.status_code == 409
    assert response.json()["message"] == f"Illegal state: Execution '{created['id']}' is not PAUSED"
    missing = await client.post(f"{API}/executions/nope/resume")
    assert missing.status_code == 404


STEPS = """id: steps
namespace: company.team
tasks:
  - id: first
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT0.4S
  - id: second
    type: io.kestra.plugin.core.log.Log
    message: second ran
"""


async def _task_states(services: Services, execution_id: str) -> dict[str, State]:
    stored = await services.store.get_execution(execution_id)
    assert stored is not None
    return {run.task_id: run.current for run in stored.task_runs}


async def _started_steps(client: httpx.AsyncClient, services: Services) -> str:
    headers = {"Content-Type": "application/x-yaml"}
    (await client.post(f"{API}/flows", content=STEPS, headers=headers)).raise_for_status()
    created = (await client.post(f"{API}/executions/company.team/steps")).json()
    execution_id: str = created["id"]
    for _ in range(500):
        if (await _task_states(services, execution_id)).get("first") is State.RUNNING:
            return execution_id
        await asyncio.sleep(0.01)
    raise AssertionError("the first task never ran")


async def test_a_paused_execution_starts_nothing_until_resumed(
    client: httpx.AsyncClient, services: Services
) -> None:
    execution_id = await _started_steps(client, services)

    paused = await client.post(f"{API}/executions/{execution_id}/pause")

    assert paused.status_code == 200
    assert paused.json()["state"]["current"] == "PAUSED"
    for _ in range(500):  # the running task ends; the next one does not start
        if (await _task_states(services, execution_id)).get("first") is State.SUCCESS:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.3)
    assert await _task_states(services, execution_id) == {"first": State.SUCCESS}
    stored = await services.store.get_execution(execution_id)
    assert stored is not None
    assert stored.current is State.PAUSED

    resumed = await client.post(f"{API}/executions/{execution_id}/actions/resume")

    assert resumed.status_code == 204
    await reach_state(services, execution_id, State.SUCCESS)
    logs = (await client.get(f"{API}/logs/{execution_id}")).json()
    assert [entry["message"] for entry in logs] == ["second ran"]


async def test_a_paused_execution_can_be_killed(
    client: httpx.AsyncClient, services: Services
) -> None:
    execution_id = await _started_steps(client, services)
    assert (await client.post(f"{API}/executions/{execution_id}/actions/pause")).status_code == 200

    killed = await client.delete(f"{API}/executions/{execution_id}/kill")

    assert killed.status_code == 202
    await reach_state(services, execution_id, State.KILLED)
    assert "second" not in await _task_states(services, execution_id)


async def test_only_a_running_execution_can_be_paused(
    client: httpx.AsyncClient, services: Services
) -> None:
    execution_id = await _started_steps(client, services)
    await reach_state(services, execution_id, State.SUCCESS)

    ended = await client.post(f"{API}/executions/{execution_id}/pause")

    assert ended.status_code == 409
    assert ended.json()["message"] == (
        f"Illegal state: Cannot pause execution '{execution_id}': it is SUCCESS, not RUNNING"
    )
    assert (await client.post(f"{API}/executions/nope/pause")).status_code == 404
