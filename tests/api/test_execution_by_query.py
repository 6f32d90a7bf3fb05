"""Bulk operations on every execution a search matches: delete, kill and restart `by-query`."""

from __future__ import annotations

import httpx
import pytest

from lanner.services import Services
from tests.api.conftest import API
from tests.api.test_execution_actions import FLAKY, SLOW, STEPS, run, start


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
