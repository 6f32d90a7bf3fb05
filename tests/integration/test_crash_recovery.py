"""The engine's state is in the store: a `lanner server local` killed with SIGKILL at random
points and started again finishes every execution it had accepted.

50 executions of a flow with Sleep and Return tasks are submitted through the REST API while
the process is killed 10 times; after the last restart every execution must end SUCCESS with
the outputs of every Return task run.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.servers import free_port

# Eleven server starts dominate the run time: a loaded machine needs more than the default.
pytestmark = pytest.mark.timeout(300)

FLOW = """\
id: crash
namespace: test.durable
tasks:
  - id: first
    type: io.kestra.plugin.core.debug.Return
    format: "{{ execution.id }}"
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT0.4S
  - id: second
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.first.value }}-second"
  - id: again
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT0.2S
  - id: third
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.second.value }}-third"
"""
EXECUTIONS = 50
KILLS = 10
RETURNS = ("first", "second", "third")


class Server:
    """One `lanner server local` process on a home directory, started and stopped by a test."""

    def __init__(self, home: Path, client: httpx.Client) -> None:
        self.home = home
        self.client = client
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1/main"

    def start(self) -> None:
        env = {**os.environ, "LANNER_HOME": str(self.home)}
        command = [sys.executable, "-m", "lanner", "server", "local", "--port", str(self.port)]
        log = (self.home / "server.log").open("ab")
        self.process = subprocess.Popen(command, stdout=log, stderr=log, env=env)
        log.close()
        deadline = time.monotonic() + 30
        while True:
            try:
                self.client.get(f"http://127.0.0.1:{self.port}/health", timeout=1)
                return
            except httpx.TransportError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise AssertionError(self.log_tail()) from None
                time.sleep(0.05)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)
            self.process = None

    def log_tail(self) -> str:
        return (self.home / "server.log").read_text(errors="replace")[-3000:]


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    # One client for the whole test: building one costs an SSL context each time.
    with httpx.Client(timeout=10) as shared:
        yield shared


@pytest.fixture
def server(tmp_path: Path, client: httpx.Client) -> Iterator[Server]:
    running = Server(tmp_path, client)
    try:
        yield running
    finally:
        if running.process is not None:
            running.kill()


def _submit(client: httpx.Client, server: Server, count: int) -> list[str]:
    ids = []
    for _ in range(count):
        response = client.post(f"{server.api}/executions/test.durable/crash")
        assert response.status_code == 200, response.text
        ids.append(response.json()["id"])
    return ids


def _wait_all_ended(client: httpx.Client, server: Server, ids: list[str]) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 90
    while True:
        executions = [client.get(f"{server.api}/executions/{id_}").json() for id_ in ids]
        ended = [e for e in executions if e["state"]["current"] not in _ACTIVE]
        if len(ended) == len(ids) or time.monotonic() > deadline:
            return executions
        time.sleep(0.2)


_ACTIVE = {"CREATED", "RUNNING", "PAUSED", "RESTARTED", "KILLING", "QUEUED"}


def _problems(execution: dict[str, Any]) -> list[str]:
    where = f"execution {execution['id']}"
    if execution["state"]["current"] != "SUCCESS":
        return [f"{where} ended {execution['state']['current']}"]
    runs = execution.get("taskRunList") or []
    by_task = {run["taskId"]: run for run in runs}
    problems = []
    if sorted(by_task) != sorted(["first", "nap", "second", "again", "third"]) or len(runs) != 5:
        problems.append(f"{where} has task runs {[run['taskId'] for run in runs]}")
    expected = {
        "first": execution["id"],
        "second": f"{execution['id']}-second",
        "third": f"{execution['id']}-second-third",
    }
    for task_id in RETURNS:
        value = (by_task.get(task_id, {}).get("outputs") or {}).get("value")
        if value != expected[task_id]:
            problems.append(f"{where}: {task_id} outputs value {value!r}")
    return problems


def test_executions_survive_sigkill_at_random_points(server: Server, client: httpx.Client) -> None:
    rng = random.Random(20240601)
    ids: list[str] = []
    server.start()
    response = client.post(
        f"{server.api}/flows", content=FLOW, headers={"Content-Type": "application/x-yaml"}
    )
    assert response.status_code == 200, response.text
    for _ in range(KILLS):
        ids.extend(_submit(client, server, EXECUTIONS // KILLS))
        time.sleep(rng.uniform(0.0, 1.2))
        server.kill()
        server.start()
    executions = _wait_all_ended(client, server, ids)
    server.stop()
    problems = [problem for execution in executions for problem in _problems(execution)]
    assert not problems, "\n".join(problems[:20]) + "\n" + server.log_tail()
    retried = [
        run
        for execution in executions
        for run in execution["taskRunList"]
        if len(run.get("attempts") or ()) > 1
    ]
    # The kills landed while task runs were running: some were run again as a new attempt.
    assert retried
