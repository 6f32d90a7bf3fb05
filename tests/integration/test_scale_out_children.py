"""Child executions (Subflow, ForEachItem) in a scaled-out lanner: real processes, PostgreSQL."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from lanner.storage import LocalStorage
from tests.integration.cluster import NAP, Cluster, cluster

pytestmark = pytest.mark.timeout(180)

ONE = """id: one
namespace: dist
inputs:
  - id: word
    type: STRING
tasks:
  - id: ret
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.word }} from {{ execution.id }}"
outputs:
  - id: said
    type: STRING
    value: "{{ outputs.ret.value }}"
"""

ECHO = """id: echo
namespace: dist
inputs:
  - id: items
    type: STRING
tasks:
  - id: read
    type: io.kestra.plugin.core.debug.Return
    format: "{{ read(inputs.items) | trim }}"
outputs:
  - id: text
    type: STRING
    value: "{{ outputs.read.value }}"
"""

PARENT = """id: parent
namespace: dist
inputs:
  - id: file
    type: FILE
tasks:
  - id: call
    type: io.kestra.plugin.core.flow.Subflow
    namespace: dist
    flowId: one
    inputs:
      word: hello
  - id: each
    type: io.kestra.plugin.core.flow.ForEachItem
    items: "{{ inputs.file }}"
    batch:
      rows: 4
    namespace: dist
    flowId: echo
    inputs:
      items: "{{ taskrun.items }}"
"""

LOST = """id: lost
namespace: dist
tasks:
  - id: call
    type: io.kestra.plugin.core.flow.Subflow
    namespace: dist
    flowId: nowhere
"""

SLEEPY_PARENT = """id: sleepy
namespace: dist
tasks:
  - id: call
    type: io.kestra.plugin.core.flow.Subflow
    namespace: dist
    flowId: nap
"""

LINES = "".join(f"line {number}\n" for number in range(10)).encode()


def _executions_of(c: Cluster, flow_id: str) -> list[tuple[str, str]]:
    with psycopg.connect(c.database_url) as db:
        rows = db.execute(
            "SELECT id, state FROM executions WHERE flow_id = %s", (flow_id,)
        ).fetchall()
    return [(execution_id, state) for execution_id, state in rows]


def _until(c: Cluster, flow_id: str, state: str, timeout: float = 30) -> list[tuple[str, str]]:
    deadline = time.monotonic() + timeout
    found = _executions_of(c, flow_id)
    while not found or any(s != state for _, s in found):
        assert time.monotonic() < deadline, f"{flow_id}: {found}, expected all {state}"
        time.sleep(0.2)
        found = _executions_of(c, flow_id)
    return found


def _runs(execution: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {run["taskId"]: run for run in execution["taskRunList"]}


def test_subflow_and_for_each_item_children_run_to_success(tmp_path: Path) -> None:
    with cluster(tmp_path) as c:
        c.start_small(ONE, ECHO, PARENT, LOST)
        answer = httpx.post(
            f"{c.api}/executions/dist/parent?wait=true",
            files={"file": ("items.txt", LINES)},
            timeout=60,
        )
        assert answer.status_code == 200, answer.text
        done = answer.json()
        logs = httpx.get(f"{c.api}/logs/{done['id']}", timeout=10).json()
        assert done["state"]["current"] == "SUCCESS", [log["message"] for log in logs]
        runs = _runs(done)
        [(child_id, child_state)] = _executions_of(c, "one")
        assert child_state == "SUCCESS"
        assert runs["call"]["outputs"]["executionId"] == child_id
        assert runs["call"]["outputs"]["outputs"] == {"said": f"hello from {child_id}"}
        assert runs["each_items"]["outputs"]["numberOfBatches"] == 3
        assert runs["each_items"]["outputs"]["iterations"] == {
            "CREATED": 0,
            "RUNNING": 0,
            "SUCCESS": 3,
        }
        assert [s for _, s in _executions_of(c, "echo")] == ["SUCCESS"] * 3
        merged = LocalStorage(c.home / "storage").read(
            runs["each_merge"]["outputs"]["subflowOutputs"]
        )
        assert sorted(merged.decode().splitlines()) == [
            '{text:"line 0\\nline 1\\nline 2\\nline 3"}',
            '{text:"line 4\\nline 5\\nline 6\\nline 7"}',
            '{text:"line 8\\nline 9"}',
        ]
        refused = httpx.post(f"{c.api}/executions/dist/lost?wait=true", timeout=30).json()
        assert refused["state"]["current"] == "FAILED"
        logs = httpx.get(f"{c.api}/logs/{refused['id']}", timeout=10).json()
        assert [log["message"] for log in logs] == [
            "Unable to find flow 'dist'.'nowhere' with revision '0'"
        ]
        assert c.stop() == {}


def test_killing_a_parent_kills_its_sleeping_child(tmp_path: Path) -> None:
    with cluster(tmp_path) as c:
        c.start_small(NAP, SLEEPY_PARENT)
        started = httpx.post(f"{c.api}/executions/dist/sleepy", timeout=10)
        assert started.status_code == 200, started.text
        parent_id = started.json()["id"]
        [(child_id, _)] = _until(c, "nap", "RUNNING")
        time.sleep(0.5)  # the Sleep task is on the worker
        began = time.monotonic()
        killed = httpx.delete(f"{c.api}/executions/{parent_id}/kill", timeout=10)
        assert killed.status_code == 202, killed.text
        assert _until(c, "sleepy", "KILLED") == [(parent_id, "KILLED")]
        assert _until(c, "nap", "KILLED") == [(child_id, "KILLED")]
        assert time.monotonic() - began < 15
        parent = httpx.get(f"{c.api}/executions/{parent_id}", timeout=10).json()
        assert _runs(parent)["call"]["state"]["current"] == "KILLED"
        assert c.stop() == {}
