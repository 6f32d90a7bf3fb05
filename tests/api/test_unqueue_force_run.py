"""Unqueue and force-run: start a queued or scheduled execution now, or end a queued one."""

from __future__ import annotations

import asyncio

import httpx

from lanner.executions import Execution
from lanner.services import Services
from lanner.states import State
from tests.api.conftest import API
from tests.api.executions_support import reach_state
from tests.api.test_execution_actions import STEPS, run, start

ONE_AT_A_TIME = """
id: one_at_a_time
namespace: company.team
concurrency:
  limit: 1
  behavior: QUEUE
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT30S
"""

NAP = """
id: nap
namespace: company.team
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT30S
"""


async def _queued_behind_one(services: Services) -> tuple[Execution, Execution]:
    first = await start(services, ONE_AT_A_TIME)
    await reach_state(services, first.id, State.RUNNING)
    second = await start(services, ONE_AT_A_TIME)
    await reach_state(services, second.id, State.QUEUED)
    return first, second


async def test_unqueue_starts_a_queued_execution_beyond_the_limit(
    client: httpx.AsyncClient, services: Services
) -> None:
    first, second = await _queued_behind_one(services)

    unqueued = await client.post(f"{API}/executions/{second.id}/unqueue")

    assert unqueued.status_code == 200
    assert unqueued.json()["state"]["current"] == "RUNNING"
    await reach_state(services, second.id, State.RUNNING)
    again = await client.post(f"{API}/executions/{second.id}/actions/unqueue")
    assert again.status_code == 409
    assert "Only QUEUED execution can be unqueued" in again.json()["message"]
    for execution in (first, second):
        await services.runner.kill(execution.id)


async def test_unqueue_can_end_a_queued_execution_without_running_it(
    client: httpx.AsyncClient, services: Services
) -> None:
    first, second = await _queued_behind_one(services)

    wrong = await client.post(f"{API}/executions/{second.id}/unqueue", params={"state": "SUCCESS"})
    cancelled = await client.post(
        f"{API}/executions/{second.id}/unqueue", params={"state": "CANCELLED"}
    )

    assert wrong.status_code == 422
    assert wrong.json()["message"] == (
        "Illegal argument: Invalid target state: SUCCESS."
        " Valid states are: RUNNING, CANCELLED, FAILED"
    )
    assert cancelled.status_code == 200
    done = await reach_state(services, second.id, State.CANCELLED)
    assert done.task_runs == ()
    await services.runner.kill(first.id)


async def test_force_run_starts_queued_and_scheduled_executions(
    client: httpx.AsyncClient, services: Services
) -> None:
    first, queued = await _queued_behind_one(services)
    stored = await services.flows.save(NAP)
    later = await services.runner.submit(
        stored.flow, stored.revision, schedule_date=queued.state.start_date.replace(year=2099)
    )
    await asyncio.sleep(0.1)
    assert (await reach_state(services, later.id, State.CREATED)).task_runs == ()

    forced = await client.post(f"{API}/executions/force-run/by-ids", json=[queued.id, later.id])

    assert forced.json() == {"count": 2}
    for execution in (queued, later):
        await reach_state(services, execution.id, State.RUNNING)
        await services.runner.kill(execution.id)
    await services.runner.kill(first.id)


async def test_force_run_resumes_a_paused_execution_and_refuses_an_ended_one(
    client: httpx.AsyncClient, services: Services
) -> None:
    napping = await start(services, NAP)
    await reach_state(services, napping.id, State.RUNNING)
    assert (await client.post(f"{API}/executions/{napping.id}/pause")).status_code == 200
    ended = await run(services, STEPS)

    forced = await client.post(f"{API}/executions/{napping.id}/force-run")
    refused = await client.post(f"{API}/executions/{ended.id}/actions/force-run")

    assert forced.status_code == 200
    assert forced.json()["state"]["current"] == "RUNNING"
    assert refused.status_code == 409
    assert "Only non terminated executions can be forced run" in refused.json()["message"]
    await services.runner.kill(napping.id)


async def test_unqueue_by_query_starts_every_queued_match(
    client: httpx.AsyncClient, services: Services
) -> None:
    first, second = await _queued_behind_one(services)

    refused = await client.post(
        f"{API}/executions/unqueue/by-query", params={"flowId": "one_at_a_time"}
    )
    unqueued = await client.post(
        f"{API}/executions/unqueue/by-query",
        params={"flowId": "one_at_a_time", "state": "QUEUED", "newState": "RUNNING"},
    )

    assert refused.status_code == 400  # the running one is not queued: nothing is done
    assert [item["invalidValue"] for item in refused.json()["invalids"]] == [first.id]
    assert unqueued.json() == {"count": 1}
    await reach_state(services, second.id, State.RUNNING)
    for execution in (first, second):
        await services.runner.kill(execution.id)
