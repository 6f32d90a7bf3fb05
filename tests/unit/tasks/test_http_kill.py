"""Killing an execution stops its HTTP request in flight promptly, through the whole engine."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from lanner.services import Services
from lanner.settings import Settings
from lanner.states import State
from tests.httpservers import MockApp, Server


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    started = await Services.start(Settings.load(home=tmp_path / "home", environ={}))
    try:
        yield started
    finally:
        await started.close()


async def test_kill_stops_a_request_in_flight_within_two_seconds(
    services: Services, mock_server: Server, mock_app: MockApp
) -> None:
    stored = await services.flows.save(
        f"""
id: stuck
namespace: company.team
tasks:
  - id: call
    type: io.kestra.plugin.core.http.Request
    uri: "{mock_server.url}/slow?seconds=10"
"""
    )
    execution = await services.runner.submit(stored.flow, stored.revision)
    for _ in range(500):
        if mock_app._slow_now > 0:
            break
        await asyncio.sleep(0.01)
    assert mock_app._slow_now > 0, "the request never reached the server"

    asked = time.monotonic()
    await services.runner.kill(execution.id)
    ended = await services.runner.wait(execution.id, timeout=10)
    elapsed = time.monotonic() - asked

    assert ended.current is State.KILLED
    assert [run.current for run in ended.task_runs] == [State.KILLED]
    assert elapsed < 2.0
