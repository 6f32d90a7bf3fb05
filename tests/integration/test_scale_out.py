"""A scaled-out lanner survives its processes dying: every execution ends, none twice.

Real processes over PostgreSQL: one webserver, one scheduler, an executor and three workers.
The worker test submits 500 executions (`LANNER_SCALE_EXECUTIONS` changes that for a quick
local run) and SIGKILLs a random worker five times while they run.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.httpservers import serve
from tests.integration.cluster import Cluster, cluster

pytestmark = pytest.mark.timeout(420)

EXECUTIONS = int(os.environ.get("LANNER_SCALE_EXECUTIONS", "500"))
WORKERS = 3
WORKER_KILLS = 5


def _answer(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "application/json")])
    return [b'{"answer": 42}']


def _flow(url: str) -> str:
    return f"""id: five
namespace: scale
tasks:
  - id: req
    type: io.kestra.plugin.core.http.Request
    uri: {url}/answer
  - id: ret
    type: io.kestra.plugin.core.debug.Return
    format: "{{{{ outputs.req.body }}}}"
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "answer {{{{ outputs.ret.value }}}} in {{{{ execution.id }}}}"
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: [1, 2, 3]
    tasks:
      - id: inner
        type: io.kestra.plugin.core.debug.Return
        format: "{{{{ taskrun.value }}}}"
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT0.1S
"""


def _start(c: Cluster, workers: int) -> None:
    c.start("webserver", "webserver")
    c.wait_for_api()
    c.start("scheduler", "scheduler")
    c.start("executor", "executor")
    for index in range(workers):
        c.start(f"worker{index}", "worker", "--concurrency", "32")


def _submit(c: Cluster, source: str, count: int) -> list[str]:
    headers = {"Content-Type": "application/x-yaml"}
    created = httpx.post(f"{c.api}/flows", content=source, headers=headers, timeout=10)
    assert created.status_code == 200, created.text

    def one(_: int) -> str:
        answer = httpx.post(f"{c.api}/executions/scale/five", timeout=30)
        assert answer.status_code == 200, answer.text
        execution_id: str = answer.json()["id"]
        return execution_id

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(count)))


def _wait_until_ended(c: Cluster, count: int, timeout: float) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    states = c.states()
    while states.get("SUCCESS", 0) + states.get("FAILED", 0) < count:
        if time.monotonic() > deadline:
            break
        time.sleep(0.5)
        states = c.states()
    return states


def _task_runs(c: Cluster) -> list[dict[str, Any]]:
    with psycopg.connect(c.database_url) as db:
        rows = db.execute("SELECT value FROM task_runs").fetchall()
    return [json.loads(value) for (value,) in rows]


def _log_messages(c: Cluster) -> list[str]:
    with psycopg.connect(c.database_url) as db:
        rows = db.execute("SELECT value FROM logs WHERE task_id = 'log'").fetchall()
    return [json.loads(value)["message"] for (value,) in rows]


def _check_outputs_and_logs(c: Cluster, ids: list[str]) -> None:
    runs = _task_runs(c)
    assert len(runs) == len(ids) * 8
    assert all(run["state"]["current"] == "SUCCESS" for run in runs)
    by_task: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        by_task.setdefault(run["taskId"], []).append(run)
    assert {run["outputs"]["code"] for run in by_task["req"]} == {200}
    assert {run["outputs"]["value"] for run in by_task["ret"]} == {'{"answer": 42}'}
    assert sorted(run["outputs"]["value"] for run in by_task["inner"]) == sorted(
        ["1", "2", "3"] * len(ids)
    )
    logged = {message.rsplit(" ", 1)[-1] for message in _log_messages(c)}
    assert logged == set(ids)


def test_executions_survive_workers_killed_mid_run(tmp_path: Path) -> None:
    server = serve(_answer)
    rng = random.Random(7)
    try:
        with cluster(tmp_path) as c:
            _start(c, WORKERS)
            ids = _submit(c, _flow(server.url), EXECUTIONS)
            for _ in range(WORKER_KILLS):
                time.sleep(rng.uniform(0.5, 2.0))
                victim = rng.choice([name for name in c.processes if name.startswith("worker")])
                c.kill(victim)
                c.start(victim, "worker", "--concurrency", "32")
            states = _wait_until_ended(c, EXECUTIONS, timeout=300)
            assert states == {"SUCCESS": EXECUTIONS}
            _check_outputs_and_logs(c, ids)
            assert c.stop() == {}
    finally:
        server.close()


def test_executions_continue_when_the_executor_is_replaced(tmp_path: Path) -> None:
    server = serve(_answer)
    count = 60
    try:
        with cluster(tmp_path) as c:
            _start(c, 1)
            ids = _submit(c, _flow(server.url), count)
            time.sleep(0.5)
            c.kill("executor")
            ended_meanwhile = c.states().get("SUCCESS", 0)
            c.start("executor2", "executor")
            states = _wait_until_ended(c, count, timeout=60)
            assert ended_meanwhile < count
            assert states == {"SUCCESS": count}
            _check_outputs_and_logs(c, ids)
            assert c.stop() == {}
    finally:
        server.close()
