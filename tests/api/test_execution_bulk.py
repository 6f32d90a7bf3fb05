"""Bulk pause, resume, labels, change-status and replay, by ids and by query."""

from __future__ import annotations

import asyncio

import httpx

from lanner.executions import Execution, Label
from lanner.services import Services
from lanner.states import State
from tests.api.conftest import API
from tests.api.executions_support import reach_state
from tests.api.test_execution_actions import SLOW, STEPS, run, start

ASK = """
id: ask
namespace: company.team
tasks:
  - id: wait
    type: io.kestra.plugin.core.flow.Pause
    onResume:
      - id: answer
        type: INT
        defaults: 7
  - id: say
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.wait.onResume.answer }}"
"""

MUST_ANSWER = """
id: must_answer
namespace: company.team
tasks:
  - id: wait
    type: io.kestra.plugin.core.flow.Pause
    onResume:
      - id: answer
        type: INT
"""


async def test_pause_by_ids_pauses_running_executions_or_none(
    client: httpx.AsyncClient, services: Services
) -> None:
    first, second = await start(services, SLOW), await start(services, SLOW)
    ended = await run(services, STEPS)
    await reach_state(services, first.id, State.RUNNING)
    await reach_state(services, second.id, State.RUNNING)
    url = f"{API}/executions/pause/by-ids"

    refused = await client.post(url, json=[first.id, ended.id])
    assert refused.status_code == 400
    assert refused.json()["message"] == "invalid bulk pause"
    assert refused.json()["invalids"] == [
        {"message": f"Execution '{ended.id}' is SUCCESS, not RUNNING", "invalidValue": ended.id}
    ]
    paused = await client.post(url, json=[first.id, second.id])
    assert paused.json() == {"count": 2}
    for execution in (first, second):
        await reach_state(services, execution.id, State.PAUSED)
        await services.runner.kill(execution.id)


async def test_resume_by_query_resumes_paused_matches_with_their_defaults(
    client: httpx.AsyncClient, services: Services
) -> None:
    asked = await start(services, ASK)
    await reach_state(services, asked.id, State.PAUSED)

    resumed = await client.post(f"{API}/executions/resume/by-query", params={"flowId": "ask"})

    assert resumed.json() == {"count": 1}
    done = await reach_state(services, asked.id, State.SUCCESS)
    assert next(r for r in done.task_runs if r.task_id == "say").outputs == {"value": "7"}


async def test_resume_by_ids_refuses_a_pause_whose_input_needs_a_value(
    client: httpx.AsyncClient, services: Services
) -> None:
    asked, waiting = await start(services, ASK), await start(services, MUST_ANSWER)
    await reach_state(services, asked.id, State.PAUSED)
    await reach_state(services, waiting.id, State.PAUSED)

    refused = await client.post(f"{API}/executions/resume/by-ids", json=[asked.id, waiting.id])

    assert refused.status_code == 400
    [invalid] = refused.json()["invalids"]
    assert invalid["invalidValue"] == waiting.id
    assert "Invalid input for `answer`, missing required input" in invalid["message"]
    await asyncio.sleep(0.2)
    for execution in (asked, waiting):  # nothing was resumed
        stored = await services.store.get_execution(execution.id)
        assert stored is not None
        assert stored.current is State.PAUSED
        await services.runner.kill(execution.id)


async def test_labels_by_ids_add_labels_and_keep_the_others(
    client: httpx.AsyncClient, services: Services
) -> None:
    ended = await run(services, STEPS)
    await services.store.save_execution(
        Execution.from_json(
            {
                **ended.to_json(),
                "labels": [{"key": "team", "value": "a"}, {"key": "owner", "value": "x"}],
            }
        ),
        [],
    )
    body = {
        "executionsId": [ended.id],
        "executionLabels": [{"key": "env", "value": "prod"}, {"key": "team", "value": "b"}],
    }

    labelled = await client.post(f"{API}/executions/labels/by-ids", json=body)

    assert labelled.json() == {"count": 1}
    stored = await services.store.get_execution(ended.id)
    assert stored is not None
    assert set(stored.labels) == {Label("team", "b"), Label("env", "prod"), Label("owner", "x")}
    system = {**body, "executionLabels": [{"key": "system.x", "value": "1"}]}
    assert (await client.post(f"{API}/executions/labels/by-ids", json=system)).status_code == 422


async def test_labels_by_query_refuse_a_running_match(
    client: httpx.AsyncClient, services: Services
) -> None:
    ended, running = await run(services, STEPS), await start(services, SLOW)

    refused = await client.post(
        f"{API}/executions/labels/by-query",
        params={"namespace": "company.team"},
        json=[{"key": "env", "value": "prod"}],
    )

    assert refused.status_code == 400
    assert [item["invalidValue"] for item in refused.json()["invalids"]] == [running.id]
    stored = await services.store.get_execution(ended.id)
    assert stored is not None
    assert Label("env", "prod") not in stored.labels
    await services.runner.kill(running.id)


async def test_change_status_by_ids_and_by_query(
    client: httpx.AsyncClient, services: Services
) -> None:
    first, second = await run(services, STEPS), await run(services, STEPS)

    by_ids = await client.post(
        f"{API}/executions/change-status/by-ids", params={"newStatus": "FAILED"}, json=[first.id]
    )
    by_query = await client.post(
        f"{API}/executions/change-status/by-query",
        params={"newStatus": "WARNING", "state": "SUCCESS"},
    )

    assert by_ids.json() == {"count": 1}
    assert by_query.json() == {"count": 1}
    assert (await reach_state(services, first.id, State.FAILED)).id == first.id
    assert (await reach_state(services, second.id, State.WARNING)).id == second.id


async def test_replay_by_query_starts_a_new_execution_per_match(
    client: httpx.AsyncClient, services: Services
) -> None:
    ended = await run(services, STEPS)

    replayed = await client.post(f"{API}/executions/replay/by-query", params={"flowId": "steps"})

    assert replayed.json() == {"count": 1}
    page = await services.store.search_executions(flow_id="steps", size=10)
    assert page.total == 2
    assert {execution.original_id for execution in page.results} == {ended.id}
