"""The engine-less webserver's operations through the REST API, with executor and worker apart."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.cluster import NAP, Cluster, cluster

pytestmark = pytest.mark.timeout(180)

GREET = """id: greet
namespace: dist
inputs:
  - id: name
    type: STRING
tasks:
  - id: ret
    type: io.kestra.plugin.core.debug.Return
    format: "hello {{ inputs.name }}"
"""

ASK = """id: ask
namespace: dist
tasks:
  - id: wait
    type: io.kestra.plugin.core.flow.Pause
    onResume:
      - id: answer
        type: INT
  - id: say
    type: io.kestra.plugin.core.debug.Return
    format: "answer {{ outputs.wait.onResume.answer + 1 }}"
"""


STEPS = """id: steps
namespace: dist
tasks:
  - id: first
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT1S
  - id: second
    type: io.kestra.plugin.core.debug.Return
    format: second
"""


QUEUEING = """id: queueing
namespace: dist
concurrency:
  limit: 1
  behavior: QUEUE
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT5S
"""


GUARDED = """id: guarded
namespace: dist
inputs:
  - id: amount
    type: INT
checks:
  - condition: "{{ inputs.amount > 0 }}"
    message: The amount must be positive
  - condition: "{{ inputs.amount < 1000 }}"
    message: Large amounts fail
    behavior: FAIL_EXECUTION
tasks:
  - id: pay
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.amount }}"
"""


def _until(c: Cluster, execution_id: str, state: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        execution: dict[str, Any] = httpx.get(
            f"{c.api}/executions/{execution_id}", timeout=10
        ).json()
        if execution["state"]["current"] == state:
            return execution
        assert time.monotonic() < deadline, f"{execution_id} is {execution['state']['current']}"
        time.sleep(0.2)


def _outputs(execution: dict[str, Any], task_id: str) -> dict[str, Any]:
    [run] = [run for run in execution["taskRunList"] if run["taskId"] == task_id]
    outputs: dict[str, Any] = run["outputs"]
    return outputs


def _create_and_wait(c: Cluster) -> None:
    answer = httpx.post(
        f"{c.api}/executions/dist/greet?wait=true", files={"name": (None, "Ada")}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["state"]["current"] == "SUCCESS"
    assert _outputs(answer.json(), "ret") == {"value": "hello Ada"}
    refused = httpx.post(f"{c.api}/executions/dist/greet?wait=true", timeout=30)
    assert refused.status_code == 422, refused.text
    assert "Invalid input for `name`, missing required input" in refused.json()["message"]


def _kill(c: Cluster) -> None:
    started = httpx.post(f"{c.api}/executions/dist/nap", timeout=10).json()
    running = _until(c, started["id"], "RUNNING")
    assert running["taskRunList"][0]["taskId"] == "sleep"
    time.sleep(0.5)  # the Sleep task is on the worker
    killed = httpx.delete(f"{c.api}/executions/{started['id']}/kill", timeout=10)
    assert killed.status_code == 202, killed.text
    done = _until(c, started["id"], "KILLED", timeout=15)
    assert done["taskRunList"][0]["state"]["current"] == "KILLED"


def _resume(c: Cluster) -> None:
    started = httpx.post(f"{c.api}/executions/dist/ask", timeout=10).json()
    resume = f"{c.api}/executions/{started['id']}/resume"
    _until(c, started["id"], "PAUSED")
    wrong = httpx.post(resume, files={"answer": (None, "many")}, timeout=10)
    assert wrong.status_code == 422, wrong.text
    assert "Invalid input for `answer`, Expected `INT` but received `many`" in wrong.text
    resumed = httpx.post(resume, files={"answer": (None, "41")}, timeout=10)
    assert resumed.status_code == 204, resumed.text
    done = _until(c, started["id"], "SUCCESS")
    assert _outputs(done, "wait") == {"onResume": {"answer": 41}}
    assert _outputs(done, "say") == {"value": "answer 42"}
    again = httpx.post(resume, files={"answer": (None, "1")}, timeout=10)
    assert again.status_code == 409, again.text
    assert again.json()["message"] == f"Illegal state: Execution '{started['id']}' is not PAUSED"


def _pause(c: Cluster) -> None:
    started = httpx.post(f"{c.api}/executions/dist/steps", timeout=10).json()
    _until(c, started["id"], "RUNNING")
    paused = httpx.post(f"{c.api}/executions/{started['id']}/pause", timeout=10)
    assert paused.status_code == 200, paused.text
    assert paused.json()["state"]["current"] == "PAUSED"
    time.sleep(1.5)  # the Sleep ends on its worker; the next task does not start
    held = _until(c, started["id"], "PAUSED")
    assert [run["taskId"] for run in held["taskRunList"]] == ["first"]
    assert held["taskRunList"][0]["state"]["current"] == "SUCCESS"
    resumed = httpx.post(f"{c.api}/executions/{started['id']}/resume", timeout=10)
    assert resumed.status_code == 204, resumed.text
    done = _until(c, started["id"], "SUCCESS")
    assert _outputs(done, "second") == {"value": "second"}
    again = httpx.post(f"{c.api}/executions/{started['id']}/pause", timeout=10)
    assert again.status_code == 409, again.text


def _unqueue_and_force_run(c: Cluster) -> None:
    first = httpx.post(f"{c.api}/executions/dist/queueing", timeout=10).json()
    _until(c, first["id"], "RUNNING")
    second = httpx.post(f"{c.api}/executions/dist/queueing", timeout=10).json()
    _until(c, second["id"], "QUEUED")
    unqueued = httpx.post(f"{c.api}/executions/{second['id']}/unqueue", timeout=10)
    assert unqueued.status_code == 200, unqueued.text
    assert unqueued.json()["state"]["current"] == "RUNNING"
    still = httpx.get(f"{c.api}/executions/{first['id']}", timeout=10).json()
    assert still["state"]["current"] == "RUNNING"  # started beside it, not after it
    later = httpx.post(
        f"{c.api}/executions/dist/steps", params={"scheduleDate": "2099-01-01T00:00:00Z"}
    ).json()
    _until(c, later["id"], "CREATED")
    forced = httpx.post(f"{c.api}/executions/{later['id']}/force-run", timeout=10)
    assert forced.status_code == 200, forced.text
    for execution in (first, second, later):
        _until(c, execution["id"], "SUCCESS")


def _delete_a_running_one(c: Cluster) -> None:
    started = httpx.post(f"{c.api}/executions/dist/nap", timeout=10).json()
    _until(c, started["id"], "RUNNING")
    time.sleep(0.5)  # the Sleep task is on the worker
    deleted = httpx.request(
        "DELETE",
        f"{c.api}/executions/by-ids",
        json=[started["id"]],
        params={"includeNonTerminated": "true"},
        timeout=40,
    )
    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {"count": 1}
    gone = httpx.get(f"{c.api}/executions/{started['id']}", timeout=10)
    assert gone.status_code == 404, gone.text


def _checks(c: Cluster) -> None:
    url = f"{c.api}/executions/dist/guarded?wait=true"
    blocked = httpx.post(url, files={"amount": (None, "-1")}, timeout=30)
    assert blocked.status_code == 422, blocked.text
    assert blocked.json()["message"].endswith("Failed checks: The amount must be positive")
    failed = httpx.post(url, files={"amount": (None, "5000")}, timeout=30)
    assert failed.status_code == 200, failed.text
    assert failed.json()["state"]["current"] == "FAILED"
    logs = httpx.get(f"{c.api}/logs/{failed.json()['id']}", timeout=10).json()
    assert [line["level"] for line in logs] == ["WARN"]
    passed = httpx.post(url, files={"amount": (None, "5")}, timeout=30)
    assert passed.json()["state"]["current"] == "SUCCESS"


def test_webserver_creates_kills_pauses_and_resumes_through_the_queue(tmp_path: Path) -> None:
    with cluster(tmp_path) as c:
        c.start_small(GREET, NAP, ASK, STEPS, QUEUEING, GUARDED, concurrency=4)
        _create_and_wait(c)
        _checks(c)
        _kill(c)
        _resume(c)
        _pause(c)
        _unqueue_and_force_run(c)
        _delete_a_running_one(c)
        assert c.stop() == {}
