"""Bulk operations on every execution a search matches: delete, kill and restart `by-query`."""

from __future__ import annotations

import httpx
import pytest

from lanner.api import execution_ops
from lanner.services import Services
from lanner.states import State
from tests.api.conftest import API
from tests.api.executions_support import reach_state
from tests.api.test_execution_actions import FLAKY, SLOW, STEPS, run, start

PAUSED = """
id: paused
namespace: company.team
tasks:
  - id: wait
    type: io.kestra.plugin.core.flow.Pause
"""


async def surviving(services: Services, *ids: str) -> set[str]:
    return {i for i in ids if await services.store.get_execution(i) is not None}


async def test_delete_by_query_deletes_what_the_filters_match(
    client: httpx.AsyncClient, services: Services
) -> None:
    steps = [await run(services, STEPS), await run(services, STEPS)]
    flaky = await run(services, FLAKY)

    response = await client.delete(f"{API}/executions/by-query", params={"flowId": "steps"})

    assert response.status_code == 200, response.text
    assert response.json() == {"count": 2}
    assert await surviving(services, *(e.id for e in steps), flaky.id) == {flaky.id}


async def test_the_newer_filter_form_selects_too(
    client: httpx.AsyncClient, services: Services
) -> None:
    failed, done = await run(services, FLAKY), await run(services, STEPS)

    response = await client.delete(
        f"{API}/executions/by-query", params={"filters[state][IN]": "FAILED"}
    )

    assert response.json() == {"count": 1}
    assert await surviving(services, failed.id, done.id) == {done.id}


async def test_delete_by_query_refuses_everything_when_one_match_still_runs(
    client: httpx.AsyncClient, services: Services
) -> None:
    done, running = await run(services, STEPS), await start(services, SLOW)

    response = await client.delete(
        f"{API}/executions/by-query", params={"namespace": "company.team"}
    )

    assert response.status_code == 400
    body = response.json()
    assert body["message"] == "invalid bulk delete"
    assert body["invalids"] == [
        {
            "message": f"Execution '{running.id}' is RUNNING: kill it before deleting it",
            "invalidValue": running.id,
        }
    ]
    assert await surviving(services, done.id, running.id) == {done.id, running.id}
    await client.post(f"{API}/executions/kill/by-ids", json=[running.id])


async def test_delete_by_query_including_unended_kills_them_then_deletes_them(
    client: httpx.AsyncClient, services: Services
) -> None:
    done, running = await run(services, STEPS), await start(services, SLOW)
    await reach_state(services, running.id, State.RUNNING)

    response = await client.delete(
        f"{API}/executions/by-query",
        params={"namespace": "company.team", "includeNonTerminated": "true"},
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"count": 2}
    assert await surviving(services, done.id, running.id) == set()


async def test_delete_by_ids_including_unended_deletes_a_paused_execution(
    client: httpx.AsyncClient, services: Services
) -> None:
    paused = await start(services, PAUSED)
    await reach_state(services, paused.id, State.PAUSED)

    response = await client.request(
        "DELETE",
        f"{API}/executions/by-ids",
        json=[paused.id],
        params={"includeNonTerminated": "true"},
    )

    assert response.status_code == 200, response.text
    assert await surviving(services, paused.id) == set()


async def test_a_killed_execution_that_does_not_end_in_time_is_not_deleted(
    client: httpx.AsyncClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(execution_ops, "KILLED_BEFORE_DELETE_SECONDS", 0.0)
    running = await start(services, SLOW)
    await reach_state(services, running.id, State.RUNNING)

    response = await client.request(
        "DELETE",
        f"{API}/executions/by-ids",
        json=[running.id],
        params={"includeNonTerminated": "true"},
    )

    assert response.status_code == 409, response.text
    assert response.json()["message"].endswith(
        f"Execution '{running.id}' is still RUNNING 0 s after it was killed: it was not deleted"
    )
    assert await surviving(services, running.id) == {running.id}
    final = await services.runner.wait(running.id, timeout=30)
    assert final.current.value == "KILLED"


@pytest.mark.parametrize("method", ["POST", "DELETE"])
async def test_kill_by_query_kills_the_running_matches(
    client: httpx.AsyncClient, services: Services, method: str
) -> None:
    first, second = await start(services, SLOW), await start(services, SLOW)

    response = await client.request(
        method, f"{API}/executions/kill/by-query", params={"state": "RUNNING", "flowId": "slow"}
    )

    assert response.json() == {"count": 2}
    for execution in (first, second):
        final = await services.runner.wait(execution.id, timeout=30)
        assert final.current.value == "KILLED"


async def test_restart_by_query_restarts_the_failed_matches(
    client: httpx.AsyncClient, services: Services
) -> None:
    failed = [await run(services, FLAKY), await run(services, FLAKY)]
    await run(services, STEPS)

    response = await client.post(f"{API}/executions/restart/by-query", params={"state": "FAILED"})

    assert response.json() == {"count": 2}
    for execution in failed:
        final = await services.runner.wait(execution.id, timeout=30)
        assert final.current.value == "SUCCESS"


async def test_a_search_matching_nothing_acts_on_nothing(client: httpx.AsyncClient) -> None:
    response = await client.delete(f"{API}/executions/by-query", params={"flowId": "none"})
    assert response.json() == {"count": 0}


async def test_a_bad_filter_is_refused_with_its_name(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{API}/executions/restart/by-query", params={"filters[color][EQUALS]": "red"}
    )
    assert response.status_code == 422
    message = "Illegal argument: Unsupported execution filter 'color' with operation 'EQUALS'"
    assert response.json()["message"] == message
