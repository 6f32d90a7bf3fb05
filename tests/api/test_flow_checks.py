"""A flow's `checks`, judged on the inputs of an execution asked for through the REST API."""

from __future__ import annotations

from typing import Any

import httpx

from lanner.services import Services
from tests.api.conftest import API
from tests.api.executions_support import execution_count, post_flows
from tests.api.test_flow_triggers import downstream

GUARDED = """id: guarded
namespace: company.team
inputs:
  - id: amount
    type: INT
  - id: region
    type: SELECT
    values: [eu, us]
    defaults: eu
checks:
  - condition: "{{ inputs.amount > 0 }}"
    message: The amount must be positive
    style: ERROR
  - condition: "{{ inputs.amount < 1000 }}"
    message: Large amounts are recorded as failed for review
    style: WARNING
    behavior: FAIL_EXECUTION
  - when: "{{ inputs.region == 'eu' }}"
    message: Only the EU region is served today
    behavior: CREATE_EXECUTION
tasks:
  - id: pay
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.amount }} in {{ inputs.region }}"
"""

BROKEN = """id: broken
namespace: company.team
checks:
  - condition: "{{ inputs.missing.deeper > 0 }}"
    message: never shown
    behavior: CREATE_EXECUTION
tasks:
  - id: say
    type: io.kestra.plugin.core.debug.Return
    format: hi
"""


async def _create(client: httpx.AsyncClient, flow_id: str, **inputs: str) -> httpx.Response:
    files = {key: (None, value) for key, value in inputs.items()}
    return await client.post(
        f"{API}/executions/company.team/{flow_id}", params={"wait": True}, files=files or None
    )


async def test_passing_checks_let_the_execution_run(client: httpx.AsyncClient) -> None:
    await post_flows(client, GUARDED)
    answer = await _create(client, "guarded", amount="10")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["state"]["current"] == "SUCCESS"
    assert body["taskRunList"][0]["outputs"] == {"value": "10 in eu"}


async def test_a_blocking_check_creates_nothing_and_says_why(client: httpx.AsyncClient) -> None:
    await post_flows(client, GUARDED)
    answer = await _create(client, "guarded", amount="-5", region="us")
    assert answer.status_code == 422, answer.text
    assert answer.json()["message"] == (
        "Illegal argument: Flow execution blocked: one or more condition checks evaluated to"
        " false.\nFailed checks: The amount must be positive, Only the EU region is served today"
    )
    assert await execution_count(client, "guarded") == 0


async def test_a_failing_check_stores_the_execution_failed_without_running_it(
    client: httpx.AsyncClient, services: Services
) -> None:
    await post_flows(client, GUARDED)
    answer = await _create(client, "guarded", amount="5000")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["state"]["current"] == "FAILED"
    assert [item["state"] for item in body["state"]["histories"]] == ["CREATED", "FAILED"]
    assert body.get("taskRunList") in (None, [])
    logs = (await client.get(f"{API}/logs/{body['id']}")).json()
    assert [(line["level"], line["message"]) for line in logs] == [
        (
            "WARN",
            "Flow execution failed because one or more condition checks evaluated to false.",
        )
    ]
    stored = await services.store.get_execution(body["id"])
    assert stored is not None
    assert stored.current.value == "FAILED"


async def test_a_check_that_only_informs_does_not_stop_the_execution(
    client: httpx.AsyncClient,
) -> None:
    await post_flows(client, GUARDED)
    answer = await _create(client, "guarded", amount="3", region="us")
    assert answer.json()["state"]["current"] == "SUCCESS"


async def test_a_condition_that_cannot_be_rendered_blocks_with_its_cause(
    client: httpx.AsyncClient,
) -> None:
    await post_flows(client, BROKEN)
    answer = await _create(client, "broken")
    assert answer.status_code == 422, answer.text
    message = answer.json()["message"]
    assert message.startswith(
        "Illegal argument: Flow execution blocked: one or more condition checks evaluated to"
        " false.\nFailed checks: Failed to evaluate check condition. Cause: "
    )
    assert "missing" in message
    assert await execution_count(client, "broken") == 0


async def _validate(client: httpx.AsyncClient, **inputs: str) -> dict[str, Any]:
    answer = await client.post(
        f"{API}/executions/company.team/guarded/validate",
        files={key: (None, value) for key, value in inputs.items()},
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_validate_lists_the_checks_the_inputs_would_fail(
    client: httpx.AsyncClient,
) -> None:
    await post_flows(client, GUARDED)
    assert (await _validate(client, amount="10"))["checks"] == []
    assert (await _validate(client, amount="5000", region="us"))["checks"] == [
        {
            "message": "Large amounts are recorded as failed for review",
            "style": "WARNING",
            "behavior": "FAIL_EXECUTION",
        },
        {
            "message": "Only the EU region is served today",
            "style": "INFO",
            "behavior": "CREATE_EXECUTION",
        },
    ]
    # While an input is refused, its error is what to fix: no check is judged.
    refused = await _validate(client, amount="many")
    assert refused["checks"] == []
    assert refused["inputs"][0]["errors"]
    assert await execution_count(client, "guarded") == 0


async def test_the_flow_json_shows_its_checks(client: httpx.AsyncClient) -> None:
    await post_flows(client, GUARDED)
    flow = (await client.get(f"{API}/flows/company.team/guarded")).json()
    assert flow["checks"][0] == {
        "condition": "{{ inputs.amount > 0 }}",
        "message": "The amount must be positive",
        "style": "ERROR",
        "behavior": "BLOCK_EXECUTION",
    }
    assert flow["checks"][2]["condition"] == "{{ inputs.region == 'eu' }}"


ALERT = """id: alert
namespace: company.team
tasks:
  - id: say
    type: io.kestra.plugin.core.debug.Return
    format: "{{ trigger.executionId }} {{ trigger.state }}"
triggers:
  - id: on_failure
    type: io.kestra.plugin.core.trigger.Flow
    preconditions:
      id: failed_payments
      flows:
        - namespace: company.team
          flowId: guarded
          states: [FAILED]
"""


async def test_an_execution_failed_by_its_checks_starts_the_flows_that_wait_for_it(
    client: httpx.AsyncClient, services: Services
) -> None:
    await post_flows(client, ALERT)
    await post_flows(client, GUARDED)
    failed = (await _create(client, "guarded", amount="5000")).json()

    [alert] = await downstream(services, "alert")
    assert alert.task_runs[0].outputs == {"value": f"{failed['id']} FAILED"}


WITH_FILE = """id: upload
namespace: company.team
inputs:
  - id: doc
    type: FILE
  - id: accepted
    type: BOOLEAN
checks:
  - condition: "{{ inputs.accepted }}"
    message: The terms must be accepted
tasks:
  - id: size
    type: io.kestra.plugin.core.debug.Return
    format: "{{ fileSize(inputs.doc) }}"
"""


async def test_a_blocked_execution_leaves_no_uploaded_file_behind(
    client: httpx.AsyncClient, services: Services
) -> None:
    await post_flows(client, WITH_FILE)
    url = f"{API}/executions/company.team/upload"
    files: dict[str, tuple[str | None, bytes | str]] = {
        "doc": ("notes.txt", b"hello"),
        "accepted": (None, "false"),
    }
    blocked = await client.post(url, files=files)
    assert blocked.status_code == 422, blocked.text
    assert blocked.json()["message"].endswith("Failed checks: The terms must be accepted")
    stored = services.storage.files_under("company/team/upload")
    assert stored == []
    files["accepted"] = (None, "true")
    passed = await client.post(url, params={"wait": True}, files=files)
    assert passed.json()["taskRunList"][0]["outputs"] == {"value": "5"}
