"""The HTTP polling trigger, run by the scheduler on a fake clock against a local server whose
answer the tests change (spec http-tasks.md §4, cases T1 and T3)."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from werkzeug.wrappers import Request, Response

from lanner.exceptions import FlowError
from lanner.executions import Execution
from lanner.flow_parser import parse_flow
from lanner.runner import Runner
from lanner.settings import Settings
from lanner.states import State
from lanner.store import Store
from lanner.triggers import lookup
from lanner.triggers.http import DEFAULT_INTERVAL, HttpTrigger
from tests.httpservers import Server, serve
from tests.unit import test_scheduler
from tests.unit.test_scheduler import FakeClock, all_executions, save, scheduler, state_of

pytestmark = pytest.mark.timeout(60)


# The scheduler tests' fixtures: a started runner and a fake clock (the store is shared).
runner = test_scheduler.runner
clock = test_scheduler.clock

NAMESPACE, FLOW_ID, TRIGGER_ID = "company.team", "hello", "every_minute"
TRIGGER = "io.kestra.plugin.core.http.Trigger"


@dataclass
class PriceApp:
    """Answers `{"price": <price>}` with `status`; counts and records the requests."""

    price: int = 120
    status: int = 200
    requests: list[Request] = field(default_factory=list)
    # Cleared, it holds every request until set again.
    gate: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.gate.set()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        self.requests.append(request)
        self.gate.wait(20)
        body = json.dumps({"price": self.price})
        response = Response(body, status=self.status, mimetype="application/json")
        return response(environ, start_response)


@pytest.fixture
def app() -> PriceApp:
    return PriceApp()


@pytest.fixture
def server(app: PriceApp) -> Iterator[Server]:
    started = serve(app)
    yield started
    app.gate.set()
    started.close()


RETURN_PRICE = (
    "  - id: price\n"
    "    type: io.kestra.plugin.core.debug.Return\n"
    "    format: '{{ json(trigger.body).price }}'\n"
)


def http_flow(uri: str, extra: str = "", tasks: str = RETURN_PRICE) -> str:
    return (
        f"id: {FLOW_ID}\n"
        f"namespace: {NAMESPACE}\n"
        "tasks:\n" + tasks + "triggers:\n"
        f"  - id: {TRIGGER_ID}\n"
        f"    type: {TRIGGER}\n"
        f"    uri: {uri}\n"
        f"{extra}"
    )


async def poll(running: Any) -> list[Execution]:
    """Tick once and wait for the polls it started."""
    assert await running.tick() == []
    started: list[Execution] = await running.settle_polls()
    return started


def test_both_type_names_resolve() -> None:
    assert lookup(TRIGGER) is HttpTrigger
    assert lookup("io.kestra.plugin.fs.http.Trigger") is HttpTrigger


async def test_t1_a_true_condition_starts_an_execution_with_the_response(
    store: Store, runner: Runner, clock: FakeClock, server: Server, app: PriceApp
) -> None:
    extra = (
        "    responseCondition: '{{ response.statusCode == 200 }}'\n"
        "    interval: PT1S\n"
        "    params: {flow: '{{ flow.id }}'}\n"
        "    headers: {X-Namespace: '{{ flow.namespace }}'}\n"
    )
    await save(store, http_flow(f"{server.url}/price", extra))
    [execution] = await poll(scheduler(store, runner, clock))
    variables = dict((execution.trigger or {})["variables"])
    assert variables["code"] == 200
    assert variables["body"] == '{"price": 120}'
    assert variables["uri"] == f"{server.url}/price?flow=hello"
    assert variables["headers"]["content-type"] == ["application/json"]
    assert (execution.trigger or {})["type"] == TRIGGER
    ended = await runner.wait(execution.id, 10)
    assert ended.current is State.SUCCESS
    assert ended.task_runs[0].outputs == {"value": "120"}
    assert app.requests[0].headers["X-Namespace"] == NAMESPACE


async def test_the_default_condition_is_a_status_under_400(
    store: Store, runner: Runner, clock: FakeClock, server: Server, app: PriceApp
) -> None:
    await save(store, http_flow(f"{server.url}/price", "    interval: PT1S\n"))
    running = scheduler(store, runner, clock)
    app.status = 503
    assert await poll(running) == []
    app.status = 302
    clock.advance(seconds=1)
    [execution] = await poll(running)
    assert (execution.trigger or {})["variables"]["code"] == 302
    assert len(app.requests) == 2


async def test_t3_nothing_while_false_then_one_execution_then_stop_after(
    store: Store, runner: Runner, clock: FakeClock, server: Server, app: PriceApp
) -> None:
    extra = (
        "    responseCondition: '{{ json(response.body).price <= 110 }}'\n"
        "    interval: PT30S\n"
        "    stopAfter: [SUCCESS]\n"
    )
    await save(store, http_flow(f"{server.url}/price", extra))
    running = scheduler(store, runner, clock)
    assert await poll(running) == []
    clock.advance(seconds=30)
    assert await poll(running) == []
    app.price = 100
    clock.advance(seconds=30)
    [execution] = await poll(running)
    assert (await runner.wait(execution.id, 10)).current is State.SUCCESS

    clock.advance(seconds=30)
    assert await poll(running) == []
    assert (await state_of(store)).disabled
    assert len(app.requests) == 3
    assert [e.id for e in await all_executions(store)] == [execution.id]


async def test_a_restart_does_not_poll_before_the_interval(
    store: Store, runner: Runner, clock: FakeClock, server: Server, app: PriceApp
) -> None:
    await save(store, http_flow(f"{server.url}/price", "    responseCondition: 'false'\n"))
    polled_at = clock.now
    await poll(scheduler(store, runner, clock))
    state = await state_of(store)
    assert (state.date, state.next_date) == (polled_at, polled_at + DEFAULT_INTERVAL)

    clock.advance(seconds=59)
    await poll(scheduler(store, runner, clock))
    assert len(app.requests) == 1
    clock.advance(seconds=1)
    await poll(scheduler(store, runner, clock))
    assert len(app.requests) == 2


async def test_a_tick_never_waits_for_a_poll(
    store: Store, runner: Runner, clock: FakeClock, server: Server, app: PriceApp
) -> None:
    await save(store, http_flow(f"{server.url}/price", "    interval: PT1S\n"))
    running = scheduler(store, runner, clock)
    app.gate.clear()
    assert await asyncio.wait_for(running.tick(), 10) == []
    await _until(lambda: len(app.requests) == 1)
    # Due again, but its poll is still waiting for the server: no second request.
    clock.advance(seconds=5)
    assert await asyncio.wait_for(running.tick(), 10) == []
    app.gate.set()
    [execution] = await running.settle_polls()
    assert len(app.requests) == 1
    assert (execution.trigger or {})["variables"]["code"] == 200


async def test_a_failed_poll_logs_and_waits_for_the_next_interval(
    store: Store, runner: Runner, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    closed = serve(PriceApp())
    url = closed.url
    closed.close()
    await save(store, http_flow(f"{url}/price", "    interval: PT10S\n"))
    with caplog.at_level(logging.WARNING, "lanner.scheduler"):
        assert await poll(scheduler(store, runner, clock)) == []
    [message] = [r.getMessage() for r in caplog.records if r.name == "lanner.scheduler"]
    assert message.startswith(f"Trigger {NAMESPACE}.{FLOW_ID}.{TRIGGER_ID}: the poll failed")
    assert "Connection refused" in message
    assert (await state_of(store)).next_date == clock.now + timedelta(seconds=10)


async def test_a_condition_that_cannot_render_is_logged(
    store: Store,
    runner: Runner,
    clock: FakeClock,
    server: Server,
    caplog: pytest.LogCaptureFixture,
) -> None:
    extra = "    responseCondition: '{{ response.missing.price }}'\n"
    await save(store, http_flow(f"{server.url}/price", extra))
    with caplog.at_level(logging.WARNING, "lanner.scheduler"):
        assert await poll(scheduler(store, runner, clock)) == []
    assert any("response.missing.price" in r.getMessage() for r in caplog.records), [
        r.getMessage() for r in caplog.records
    ]


async def test_trigger_conditions_see_the_response(
    store: Store, runner: Runner, clock: FakeClock, server: Server, app: PriceApp
) -> None:
    extra = (
        "    interval: PT1S\n"
        "    conditions:\n"
        "      - type: io.kestra.plugin.core.condition.Expression\n"
        "        expression: '{{ trigger.code == 201 }}'\n"
    )
    await save(store, http_flow(f"{server.url}/price", extra))
    running = scheduler(store, runner, clock)
    assert await poll(running) == []
    app.status = 201
    clock.advance(seconds=1)
    assert len(await poll(running)) == 1


async def test_a_disabled_trigger_or_flow_is_not_polled(
    store: Store, runner: Runner, clock: FakeClock, server: Server, app: PriceApp
) -> None:
    await save(store, http_flow(f"{server.url}/price", "    disabled: true\n"))
    assert await poll(scheduler(store, runner, clock)) == []
    await save(store, "disabled: true\n" + http_flow(f"{server.url}/price"))
    assert await poll(scheduler(store, runner, clock)) == []
    assert app.requests == []


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("    interval: PT0S\n", "11:15: triggers[0].interval: expected a positive duration"),
        ("    allowFailed: true\n", "11:5: triggers[0].allowFailed: Unrecognized field"),
        ("    options: {allowFailed: maybe}\n", "triggers[0].options.allowFailed: expected a bool"),
    ],
    ids=["interval", "allow-failed", "options"],
)
def test_invalid_properties_are_refused_where_they_are(extra: str, message: str) -> None:
    with pytest.raises(FlowError) as raised:
        parse_flow(http_flow("http://127.0.0.1:1/x", extra))
    assert message in str(raised.value)


KEY = base64.b64encode(bytes(range(32))).decode()


async def test_t2_an_encrypted_body_is_read_in_clear_by_the_condition_and_kept_encrypted(
    store: Store, tmp_path: Path, clock: FakeClock, server: Server
) -> None:
    settings = Settings.load(home=tmp_path / "home", environ={"LANNER_ENCRYPTION_KEY": KEY})
    async with Runner(settings, store) as runner:
        extra = (
            "    encryptBody: true\n"
            "    responseCondition: '{{ fromJson(response.body).price is not null }}'\n"
            "    interval: PT10S\n"
        )
        tasks = (
            "  - id: price\n"
            "    type: io.kestra.plugin.core.debug.Return\n"
            "    format: '{{ json(trigger.encryptedBody).price }}'\n"
        )
        await save(store, http_flow(f"{server.url}/price", extra, tasks))
        [execution] = await poll(scheduler(store, runner, clock))
        variables = dict((execution.trigger or {})["variables"])
        encrypted = variables["encryptedBody"]
        assert encrypted["type"] == "io.kestra.datatype:aes_encrypted"
        assert "price" not in encrypted["value"]
        assert variables.get("body") is None
        ended = await runner.wait(execution.id, 10)
        assert ended.current is State.SUCCESS


async def _until(check: Any) -> None:
    for _ in range(200):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the condition never held")
