"""Following an execution over server-sent events, against a real server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from lanner.api.execution_watch import follow
from lanner.flowrepo import FlowRepository
from lanner.services import Services
from lanner.settings import Settings
from lanner.states import State
from tests.api.conftest import API, LiveServer
from tests.api.executions_support import ALL_FLOWS, LONG, save_flows


@dataclass
class Event:
    id: str | None
    data: dict[str, Any]


async def save_for(settings: Settings) -> None:
    """Save the test flows in the database the live server reads."""
    from lanner.store import open_store

    store = await open_store(settings.database_url)
    try:
        flows = FlowRepository(store)
        for source in ALL_FLOWS:
            await flows.save(source)
    finally:
        await store.close()


async def read_events(response: httpx.Response) -> AsyncIterator[Event]:
    """Parse a `text/event-stream` body into events (comment lines are skipped)."""
    fields: dict[str, str] = {}
    async for line in response.aiter_lines():
        if line == "":
            if fields:
                yield Event(fields.get("id"), json.loads(fields.get("data", "null")))
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            fields[name] = value[1:] if value.startswith(" ") else value


async def follow_all(http: httpx.AsyncClient, url: str) -> list[Event]:
    async with http.stream("GET", url) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        return [event async for event in read_events(response)]


@pytest.fixture
async def http(live_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    await save_for(live_server.settings)
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as client:
        yield client


@pytest.mark.parametrize("prefix", ["/api/v1", API])
async def test_a_running_execution_gives_progress_events_then_one_end(
    http: httpx.AsyncClient, prefix: str
) -> None:
    created = (await http.post(f"{prefix}/executions/company.team/slow")).json()
    url = f"{prefix}/executions/{created['id']}/follow"
    events = await asyncio.wait_for(follow_all(http, url), 30)
    ids = [event.id for event in events]
    assert ids[0] == "progress"
    assert ids[-1] == "end"
    assert ids.count("end") == 1
    assert all(event.data["id"] == created["id"] for event in events)
    assert events[-1].data["state"]["current"] == "SUCCESS"
    assert [run["taskId"] for run in events[-1].data["taskRunList"]] == ["first", "nap", "second"]
    # Each event is a later version: state trails and task runs only grow.
    histories = [len(event.data["state"]["histories"]) for event in events]
    task_runs = [len(event.data.get("taskRunList", [])) for event in events]
    assert histories == sorted(histories)
    assert task_runs == sorted(task_runs)
    assert any(event.data["state"]["current"] == "RUNNING" for event in events)
    assert len({json.dumps(event.data, sort_keys=True) for event in events}) == len(events)


async def test_an_ended_execution_gives_one_end_event(http: httpx.AsyncClient) -> None:
    ended = (await http.post(f"{API}/executions/company.team/hello?wait=true")).json()
    events = await follow_all(http, f"{API}/executions/{ended['id']}/follow")
    assert [event.id for event in events] == ["end"]
    assert events[0].data == {key: value for key, value in ended.items() if key != "url"}


async def test_following_an_unknown_execution_is_a_json_404(http: httpx.AsyncClient) -> None:
    response = await http.get(f"{API}/executions/nope/follow")
    assert response.status_code == 404
    assert response.json()["message"] == "Not Found: Unable to find execution 'nope'"


async def test_a_follower_may_leave_before_the_end(http: httpx.AsyncClient) -> None:
    created = (await http.post(f"{API}/executions/company.team/long")).json()
    async with http.stream("GET", f"{API}/executions/{created['id']}/follow") as response:
        first = await anext(read_events(response))
    assert first.id == "progress"
    killed = await http.delete(f"{API}/executions/{created['id']}/kill")
    assert killed.status_code == 202


async def test_leaving_closes_the_subscription(services: Services) -> None:
    await save_flows(services, LONG)
    stored = await services.flows.get("company.team", "long")
    execution = await services.runner.submit(stored.flow, stored.revision)
    events = follow(services, execution.id)
    first = await anext(events)
    assert first.id == "progress"
    assert services.events._subscriptions
    await events.aclose()
    assert not services.events._subscriptions
    await services.runner.kill(execution.id)
    ended = await asyncio.wait_for(services.runner.wait(execution.id), 10)
    assert ended.current is State.KILLED
