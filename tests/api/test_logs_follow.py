"""Following logs: stored lines then live ones, none lost or doubled, for many followers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest

from lanner.api.logs import follow
from lanner.clock import utcnow
from lanner.executions import Execution, Level, LogEntry
from lanner.services import Services
from lanner.settings import Settings
from lanner.states import State
from lanner.store import MemoryStore, open_store
from tests.api.conftest import API, LiveServer

Hook = Callable[[], Awaitable[None]]


class HookedStore(MemoryStore):
    """A memory store that runs a hook just before a chosen read of the logs."""

    def __init__(self) -> None:
        super().__init__()
        self.before_reads: list[Hook | None] = []

    async def get_logs(self, execution_id: str, **filters: Any) -> list[LogEntry]:
        hook = self.before_reads.pop(0) if self.before_reads else None
        if hook is not None:
            await hook()
        return await super().get_logs(execution_id, **filters)


@dataclass
class Scene:
    """A running execution whose log lines the test publishes and stores by hand."""

    services: Services
    store: HookedStore
    execution: Execution

    def line(self, message: str, level: Level = Level.INFO) -> LogEntry:
        return LogEntry(
            namespace=self.execution.namespace,
            flow_id=self.execution.flow_id,
            execution_id=self.execution.id,
            timestamp=utcnow() + timedelta(milliseconds=len(message)),
            level=level,
            message=message,
            task_id="task",
        )

    def publish(self, *entries: LogEntry) -> None:
        for entry in entries:
            self.services.events.publish(entry)

    async def flush(self, *entries: LogEntry) -> None:
        await self.store.append_logs(entries)

    def finish(self) -> None:
        self.services.events.publish(self.execution.with_state(State.SUCCESS))


@pytest.fixture
async def scene(settings: Settings) -> AsyncIterator[Scene]:
    store = HookedStore()
    services = await Services.start(settings, store=store)
    execution = Execution.create("company.team", "hand", 1).with_state(State.RUNNING)
    await store.save_execution(execution)
    try:
        yield Scene(services, store, execution)
    finally:
        await services.close()


def start(scene: Scene, min_level: Level | None = None) -> asyncio.Task[list[str]]:
    async def collect() -> list[str]:
        return [
            entry.message async for entry in follow(scene.services, scene.execution.id, min_level)
        ]

    return asyncio.create_task(collect())


async def settle() -> None:
    """Let the follower run until it waits for something."""
    for _ in range(20):
        await asyncio.sleep(0)


async def test_lines_published_before_subscribing_but_not_yet_stored_are_not_lost(
    scene: Scene,
) -> None:
    p1, p2, q1, q2 = (scene.line(name) for name in ("p1", "p2", "q1", "q2"))
    await scene.flush(p1)
    scene.publish(p1, p2)  # nobody listens yet, and p2 is still on its way to the store
    follower = start(scene)
    await settle()

    scene.publish(q1)
    await settle()
    await scene.flush(p2, q1)
    scene.publish(q2)
    await scene.flush(q2)
    scene.finish()

    assert await asyncio.wait_for(follower, 5) == ["p1", "p2", "q1", "q2"]


async def test_live_lines_the_first_read_already_returned_are_not_sent_twice(
    scene: Scene,
) -> None:
    p1, q1, q2, q3 = (scene.line(name) for name in ("p1", "q1", "q2", "q3"))
    await scene.flush(p1)

    async def lines_arrive_while_subscribed() -> None:
        scene.publish(q1, q2)
        await scene.flush(q1, q2)

    scene.store.before_reads.append(lines_arrive_while_subscribed)
    follower = start(scene)
    await settle()
    scene.publish(q3)
    await scene.flush(q3)
    scene.finish()

    assert await asyncio.wait_for(follower, 5) == ["p1", "q1", "q2", "q3"]


async def test_an_execution_ending_before_any_live_line_sends_what_the_store_has(
    scene: Scene,
) -> None:
    p1, p2 = scene.line("p1"), scene.line("p2")
    await scene.flush(p1)
    follower = start(scene)
    await settle()

    await scene.flush(p2)
    scene.finish()

    assert await asyncio.wait_for(follower, 5) == ["p1", "p2"]


async def test_min_level_applies_to_stored_and_live_lines(scene: Scene) -> None:
    await scene.flush(
        scene.line("stored debug", Level.DEBUG), scene.line("stored warn", Level.WARN)
    )
    follower = start(scene, Level.WARN)
    await settle()

    live = [scene.line("live info", Level.INFO), scene.line("live error", Level.ERROR)]
    scene.publish(*live)
    await scene.flush(*live)
    scene.finish()

    assert await asyncio.wait_for(follower, 5) == ["stored warn", "live error"]


async def test_a_finished_execution_sends_its_lines_and_stops(scene: Scene) -> None:
    done = scene.execution.with_state(State.SUCCESS)
    await scene.store.save_execution(done)
    await scene.flush(scene.line("only"))

    assert await asyncio.wait_for(start(scene), 5) == ["only"]


async def test_a_follower_that_leaves_ends_its_subscription(scene: Scene) -> None:
    await scene.flush(scene.line("first"))
    lines = follow(scene.services, scene.execution.id)

    assert (await anext(lines)).message == "first"

    async def next_line() -> LogEntry:
        return await anext(lines)

    waiting = asyncio.create_task(next_line())
    await settle()
    assert scene.services.events._subscriptions

    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await lines.aclose()

    assert not scene.services.events._subscriptions


# -- over HTTP, against a real server ---------------------------------------------------------

LINES = 200
CHATTY = f"""
id: chatty
namespace: company.team
tasks:
  - id: warm_up
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT0.3S
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: {json.dumps(list(range(LINES)))}
    concurrencyLimit: 1
    tasks:
      - id: line
        type: io.kestra.plugin.core.log.Log
        message: "line {{{{ taskrun.value }}}}"
      - id: pause
        type: io.kestra.plugin.core.flow.Sleep
        duration: PT0.005S
"""


async def _create_execution(settings: Settings) -> str:
    """Store the flow and an execution of it; the server starts it when it opens the store."""
    store = await open_store(settings.database_url)
    try:
        record = await store.save_flow("company.team", "chatty", CHATTY)
        execution = Execution.create("company.team", "chatty", record.revision)
        await store.save_execution(execution)
        return execution.id
    finally:
        await store.close()


@pytest.fixture
async def running(settings: Settings, request: pytest.FixtureRequest) -> tuple[LiveServer, str]:
    execution_id = await _create_execution(settings)
    server: LiveServer = request.getfixturevalue("live_server")
    return server, execution_id


async def collect(http: httpx.AsyncClient, url: str, seen: list[dict[str, Any]]) -> None:
    async with http.stream("GET", url) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        event_id = None
        async for line in response.aiter_lines():
            if line.startswith("id: "):
                event_id = line[4:]
            elif line.startswith("data: "):
                assert event_id == "progress"
                seen.append(json.loads(line[6:]))


async def until(condition: Callable[[], bool], timeout: float = 30) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.01)


@pytest.mark.slow
async def test_ten_parallel_followers_each_receive_every_line_in_order(
    running: tuple[LiveServer, str],
) -> None:
    server, execution_id = running
    url = f"{server.url}{API}/logs/{execution_id}/follow"
    seen: list[list[dict[str, Any]]] = [[] for _ in range(10)]
    async with httpx.AsyncClient(timeout=60) as http:
        early = [asyncio.create_task(collect(http, url, seen[i])) for i in range(5)]
        await until(lambda: len(seen[0]) >= LINES // 4)
        joined_at = len(seen[0])
        late = [asyncio.create_task(collect(http, url, seen[i])) for i in range(5, 10)]
        await asyncio.wait_for(asyncio.gather(*early, *late), 60)
        stored = (await http.get(f"{server.url}{API}/logs/{execution_id}")).json()

    assert joined_at < LINES, "the late followers should join while lines are still coming"
    lines = [entry["message"] for entry in stored if entry.get("taskId") == "line"]
    assert lines == [f"line {i}" for i in range(LINES)]
    for received in seen:
        assert received == stored
