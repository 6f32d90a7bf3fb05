"""Execution operations over the API: restart, replay, change state, and their bulk forms."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from lanner.executions import Execution
from lanner.services import Services
from tests.api.conftest import API

# Task `flaky` fails on its first attempt and succeeds on the next one.
FLAKY = """
id: flaky
namespace: company.team
tasks:
  - id: first
    type: io.kestra.plugin.core.log.Log
    message: first
  - id: flaky
    type: io.kestra.plugin.core.log.Log
    message: "{{ taskrun.attemptsCount == 1 ? 'ok' : missing }}"
  - id: last
    type: io.kestra.plugin.core.log.Log
    message: last
"""

STEPS = """
id: steps
namespace: company.team
tasks:
  - id: one
    type: io.kestra.plugin.core.debug.Return
    format: "1"
  - id: two
    type: io.kestra.plugin.core.debug.Return
    format: "2"
  - id: three
    type: io.kestra.plugin.core.debug.Return
    format: "3"
"""

SLOW = """
id: slow
namespace: company.team
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT30S
"""


async def run(services: Services, source: str) -> Execution:
    """Save a flow, run it to its end and return the finished execution."""
    stored = await services.flows.save(source)
    execution = await services.runner.submit(stored.flow, stored.revision)
    return await services.runner.wait(execution.id, timeout=30)


async def start(services: Services, source: str) -> Execution:
    stored = await services.flows.save(source)
    return await services.runner.submit(stored.flow, stored.revision)


def run_id(execution: Execution, task_id: str) -> str:
    return next(run.id for run in execution.task_runs if run.task_id == task_id)


def states(body: dict[str, Any]) -> dict[str, str]:
    return {run["taskId"]: run["state"]["current"] for run in body.get("taskRunList") or ()}


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/executions/{id}/restart",
        API + "/executions/{id}/restart",
        API + "/executions/{id}/actions/restart",
    ],
    ids=["legacy", "tenant", "actions"],
)
async def test_restart_answers_restarted_then_the_failed_task_runs_again(
    client: httpx.AsyncClient, services: Services, path: str
) -> None:
    failed = await run(services, FLAKY)
    assert failed.current.value == "FAILED"

    response = await client.post(path.format(id=failed.id))

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == failed.id
    assert body["state"]["current"] == "RESTARTED"
    assert states(body) == {"first": "SUCCESS", "flaky": "RESTARTED"}
    assert {"key": "system.restarted", "value": "true"} in body["labels"]
    assert body["metadata"]["attemptNumber"] == 2
    final = await services.runner.wait(failed.id, timeout=30)
    assert final.current.value == "SUCCESS"
    assert [len(run.attempts) for run in final.task_runs] == [1, 2, 1]


async def test_restart_refuses_a_running_execution_with_409(
    client: httpx.AsyncClient, services: Services
) -> None:
    running = await start(services, SLOW)
    try:
        response = await client.post(f"{API}/executions/{running.id}/restart")
        assert response.status_code == 409
        assert response.json()["message"].startswith("Illegal state: Cannot restart execution")
    finally:
        await services.runner.kill(running.id)
        await services.runner.wait(running.id, timeout=30)


async def test_restart_of_an_execution_with_nothing_failed_is_422(
    client: httpx.AsyncClient, services: Services
) -> None:
    done = await run(services, STEPS)
    response = await client.post(f"{API}/executions/{done.id}/restart")
    assert response.status_code == 422
    body = response.json()
    assert body["message"] == "Illegal argument: No task found to restart execution from!"


async def test_unknown_execution_is_404(client: httpx.AsyncClient) -> None:
    for verb in ("restart", "replay", "change-status?status=SUCCESS"):
        response = await client.post(f"{API}/executions/nope/{verb}")
        assert response.status_code == 404, verb
        assert response.json()["message"] == "Not Found: Unable to find execution 'nope'"


async def test_replay_from_a_task_run_starts_a_new_execution(
    client: httpx.AsyncClient, services: Services
) -> None:
    done = await run(services, STEPS)

    response = await client.post(
        f"{API}/executions/{done.id}/replay", params={"taskRunId": run_id(done, "two")}
    )

    assert response.status_code == 200
    body = response.json()
    assert body["id"] != done.id
    assert body["parentId"] == done.id
    assert body["originalId"] == done.id
    assert body["state"]["current"] == "RESTARTED"
    assert states(body) == {"one": "SUCCESS", "two": "RESTARTED"}
    assert {"key": "system.replay", "value": "true"} in body["labels"]
    final = await services.runner.wait(body["id"], timeout=30)
    assert [run.task_id for run in final.task_runs] == ["one", "two", "three"]
    assert final.current.value == "SUCCESS"
    original = await services.store.get_execution(done.id)
    assert original is not None
    assert original.labels_map()["system.replayed"] == "true"


async def test_replay_without_a_task_run_starts_from_the_beginning(
    client: httpx.AsyncClient, services: Services
) -> None:
    done = await run(services, STEPS)
    response = await client.post(f"{API}/executions/{done.id}/actions/replay")
    assert response.status_code == 200
    body = response.json()
    assert body["state"]["current"] == "CREATED"
    assert "taskRunList" not in body
    final = await services.runner.wait(body["id"], timeout=30)
    assert len(final.task_runs) == 3


async def test_replay_from_an_unknown_task_run_is_422(
    client: httpx.AsyncClient, services: Services
) -> None:
    done = await run(services, STEPS)
    response = await client.post(
        f"{API}/executions/{done.id}/replay", params={"taskRunId": "missing"}
    )
    assert response.status_code == 422
    assert response.json()["message"] == (
        f"Illegal argument: Task run id 'missing' not found in execution '{done.id}'"
    )


async def test_changing_a_failed_task_run_to_success_resumes_the_execution(
    client: httpx.AsyncClient, services: Services
) -> None:
    failed = await run(services, FLAKY)

    response = await client.post(
        f"{API}/executions/{failed.id}/state",
        json={"taskRunId": run_id(failed, "flaky"), "state": "SUCCESS"},
    )

    assert response.status_code == 200
    body = response.json()
    assert body["state"]["current"] == "RESTARTED"
    assert states(body) == {"first": "SUCCESS", "flaky": "SUCCESS"}
    final = await services.runner.wait(failed.id, timeout=30)
    assert final.current.value == "SUCCESS"
    assert [run.task_id for run in final.task_runs] == ["first", "flaky", "last"]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"taskRunId": "missing", "state": "SUCCESS"}, "Task run id 'missing' not found"),
        ({"state": "SUCCESS"}, "taskRunId"),
        ({"taskRunId": "x", "state": "RUNNING"}, "can only be changed to SUCCESS"),
        ({"taskRunId": "x", "state": "BOGUS"}, "state"),
    ],
    ids=["unknown-task-run", "no-task-run", "not-allowed-state", "unknown-state"],
)
async def test_invalid_state_changes_are_422(
    client: httpx.AsyncClient, services: Services, payload: dict[str, str], message: str
) -> None:
    failed = await run(services, FLAKY)
    response = await client.post(f"{API}/executions/{failed.id}/actions/state", json=payload)
    assert response.status_code == 422
    assert message in response.json()["message"]


async def test_change_status_sets_the_state_of_an_ended_execution(
    client: httpx.AsyncClient, services: Services
) -> None:
    done = await run(services, STEPS)

    response = await client.post(
        f"{API}/executions/{done.id}/change-status", params={"status": "WARNING"}
    )

    assert response.status_code == 200
    assert response.json()["state"]["current"] == "WARNING"
    stored = await services.store.get_execution(done.id)
    assert stored is not None
    assert stored.current.value == "WARNING"
    not_terminal = await client.post(
        f"{API}/executions/{done.id}/change-status", params={"status": "RUNNING"}
    )
    assert not_terminal.status_code == 422
    assert "terminal state" in not_terminal.json()["message"]


async def test_bulk_restart_counts_what_it_restarted(
    client: httpx.AsyncClient, services: Services
) -> None:
    first, second = await run(services, FLAKY), await run(services, FLAKY)

    response = await client.post(
        f"{API}/executions/restart/by-ids", json=[first.id, second.id, first.id]
    )

    assert response.status_code == 200
    assert response.json() == {"count": 2}
    for execution in (first, second):
        final = await services.runner.wait(execution.id, timeout=30)
        assert final.current.value == "SUCCESS"


async def test_bulk_operations_do_nothing_when_an_id_is_invalid(
    client: httpx.AsyncClient, services: Services
) -> None:
    failed, done = await run(services, FLAKY), await run(services, STEPS)

    response = await client.post(
        "/api/v1/executions/restart/by-ids", json=[failed.id, done.id, "nope"]
    )

    assert response.status_code == 400
    body = response.json()
    assert body["message"] == "invalid bulk restart"
    assert body["invalids"] == [
        {"message": "No task found to restart execution from!", "invalidValue": done.id},
        {"message": "execution not found", "invalidValue": "nope"},
    ]
    untouched = await services.store.get_execution(failed.id)
    assert untouched is not None
    assert untouched.current.value == "FAILED"


async def test_bulk_replay_and_kill(client: httpx.AsyncClient, services: Services) -> None:
    done = await run(services, STEPS)
    replayed = await client.post(f"{API}/executions/replay/by-ids", json=[done.id])
    assert replayed.json() == {"count": 1}

    running = await start(services, SLOW)
    refused = await client.post(f"{API}/executions/kill/by-ids", json=[running.id, done.id])
    assert refused.status_code == 400
    assert "already finished" in refused.json()["invalids"][0]["message"]
    killed = await client.post(f"{API}/executions/kill/by-ids", json=[running.id])
    assert killed.json() == {"count": 1}
    final = await services.runner.wait(running.id, timeout=30)
    assert final.current.value == "KILLED"


async def test_openapi_describes_the_operations(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/api/v1/openapi.json")).json()["paths"]
    restart = paths["/api/v1/{tenant}/executions/{executionId}/restart"]["post"]
    schema = restart["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/ExecutionModel")
    for path in (
        "/api/v1/{tenant}/executions/{executionId}/actions/replay",
        "/api/v1/{tenant}/executions/{executionId}/state",
        "/api/v1/{tenant}/executions/{executionId}/change-status",
        "/api/v1/{tenant}/executions/kill/by-ids",
    ):
        assert "post" in paths[path], path
