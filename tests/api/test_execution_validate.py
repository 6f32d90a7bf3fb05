"""Validating the inputs of a new execution, or of a resume, without starting anything."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from lanner.services import Services
from lanner.states import State
from tests.api.conftest import API
from tests.api.executions_support import execution_count, post_flows

FLOW = """id: form
namespace: company.team
inputs:
  - id: count
    type: INT
  - id: mode
    type: SELECT
    values: [fast, slow]
    defaults: fast
  - id: detail
    type: STRING
    required: false
    dependsOn:
      inputs: [mode]
      condition: "{{ inputs.mode == 'slow' }}"
  - id: data
    type: FILE
    required: false
  - id: token
    type: SECRET
    required: false
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "{{ inputs.count }}"
"""

PAUSING = """id: approval
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
"""


async def test_valid_inputs_are_typed_and_no_execution_is_created(
    client: httpx.AsyncClient,
) -> None:
    await post_flows(client, FLOW)
    answer = await client.post(
        f"{API}/executions/company.team/form/validate",
        files={"count": (None, "42"), "token": (None, "s3cr3t")},
    )
    assert answer.status_code == 200
    body = answer.json()
    assert (body["id"], body["namespace"]) == ("form", "company.team")
    by_id = {item["input"]["id"]: item for item in body["inputs"]}
    assert list(by_id) == ["count", "mode", "detail", "data", "token"]
    assert by_id["count"] == {
        "input": {"id": "count", "type": "INT", "required": True},
        "value": 42,
        "enabled": True,
        "errors": [],
    }
    assert by_id["mode"]["value"] == "fast"
    assert by_id["detail"]["enabled"] is False
    assert "value" not in by_id["data"]  # optional and not given: null is left out
    assert by_id["token"]["value"] == "********"
    assert await execution_count(client, "form") == 0


async def test_invalid_inputs_are_answered_with_200_and_an_error_per_input(
    client: httpx.AsyncClient,
) -> None:
    await post_flows(client, FLOW)
    answer = await client.post(
        f"{API}/executions/company.team/form/validate", data={"mode": "slow", "detail": "x"}
    )
    assert answer.status_code == 200
    by_id = {item["input"]["id"]: item for item in answer.json()["inputs"]}
    assert by_id["count"]["errors"] == [
        {"message": "count: Invalid input for `count`, missing required input, but received `null`"}
    ]
    assert by_id["count"]["enabled"] is True
    assert (by_id["detail"]["enabled"], by_id["detail"]["value"]) == (True, "x")

    refused = await client.post(
        f"{API}/executions/company.team/form/validate", data={"count": "many", "mode": "other"}
    )
    by_id = {item["input"]["id"]: item for item in refused.json()["inputs"]}
    assert by_id["count"]["value"] == "many"  # the submitted value, as it was refused
    assert by_id["count"]["errors"][0]["message"].startswith("count: Invalid input for `count`")
    assert by_id["mode"]["errors"][0]["message"].startswith("mode: Invalid input for `mode`")
    assert await execution_count(client, "form") == 0


async def test_a_file_stands_for_the_uri_it_would_get_and_is_not_stored(
    client: httpx.AsyncClient, services: Services
) -> None:
    await post_flows(client, FLOW)
    answer = await client.post(
        f"{API}/executions/company.team/form/validate",
        data={"count": "1"},
        files={"data": ("rows.csv", b"a,b\n1,2\n")},
    )
    [uri] = [item["value"] for item in answer.json()["inputs"] if item["input"]["id"] == "data"]
    prefix = "kestra:///company/team/form/executions/"
    assert uri.startswith(prefix)
    assert uri.endswith("/inputs/data/rows.csv")
    assert not services.storage.exists(uri)


async def test_validating_needs_an_executable_flow(client: httpx.AsyncClient) -> None:
    unknown = await client.post(f"{API}/executions/company.team/nothing/validate")
    assert unknown.status_code == 404
    await post_flows(client, FLOW.replace("tasks:", "disabled: true\ntasks:"))
    disabled = await client.post(f"{API}/executions/company.team/form/validate")
    assert disabled.status_code == 409
    assert disabled.json()["message"] == "Illegal state: Cannot execute a disabled flow"


async def test_system_labels_are_refused_as_on_create(client: httpx.AsyncClient) -> None:
    await post_flows(client, FLOW)
    answer = await client.post(
        f"{API}/executions/company.team/form/validate",
        params={"labels": "system.username:me"},
        data={"count": "1"},
    )
    assert answer.status_code == 422
    assert "offending label: system.username=me" in answer.json()["message"]


async def _paused(client: httpx.AsyncClient, services: Services) -> str:
    await post_flows(client, PAUSING)
    created = (await client.post(f"{API}/executions/company.team/approval")).json()
    for _ in range(500):
        stored = await services.store.get_execution(created["id"])
        if stored is not None and stored.current is State.PAUSED:
            execution_id: str = created["id"]
            return execution_id
        await asyncio.sleep(0.01)
    raise AssertionError("the execution never paused")


@pytest.mark.parametrize("action", ["resume/validate", "actions/resume/validate"])
async def test_resume_inputs_are_checked_and_the_execution_stays_paused(
    client: httpx.AsyncClient, services: Services, action: str
) -> None:
    execution_id = await _paused(client, services)
    answer = await client.post(
        f"{API}/executions/{execution_id}/{action}",
        files={"approved": (None, "true"), "copies": (None, "abc")},
    )
    assert answer.status_code == 200
    body = answer.json()
    assert (body["id"], body["namespace"]) == ("approval", "company.team")
    approved, copies = body["inputs"]
    assert approved == {
        "input": {"id": "approved", "type": "BOOLEAN", "required": True},
        "value": True,
        "enabled": True,
        "errors": [],
    }
    assert copies["value"] == "abc"
    assert copies["errors"][0]["message"].startswith("copies: Invalid input for `copies`")
    # A resume is carried out in the background: give one the time to show.
    await asyncio.sleep(0.3)
    stored = await services.store.get_execution(execution_id)
    assert stored is not None
    assert stored.current is State.PAUSED


async def test_resume_validation_needs_a_paused_execution(
    client: httpx.AsyncClient, services: Services
) -> None:
    unknown = await client.post(f"{API}/executions/nothing/resume/validate")
    assert unknown.status_code == 404
    assert unknown.json()["message"] == "Not Found: Unable to find execution 'nothing'"
    await post_flows(client, FLOW)
    done = (
        await client.post(f"{API}/executions/company.team/form?wait=true", data={"count": "1"})
    ).json()
    assert done["state"]["current"] == "SUCCESS"
    answer = await client.post(f"{API}/executions/{done['id']}/resume/validate")
    assert answer.status_code == 409
    assert answer.json()["message"] == f"Illegal state: Execution '{done['id']}' is not PAUSED"
