"""Loops that replace their task runs (WaitFor) give the same execution in a scaled-out lanner
as in one process: the task runs of a previous iteration leave the stored execution."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from lanner.flow_parser import parse_flow
from lanner.runner import Runner
from lanner.settings import Settings
from lanner.store import MemoryStore
from tests.integration.cluster import cluster

pytestmark = pytest.mark.timeout(180)

WAIT = """id: wait
namespace: dist
tasks:
  - id: loop
    type: io.kestra.plugin.core.flow.WaitFor
    condition: "{{ outputs.count.value | number >= 3 }}"
    checkFrequency:
      interval: PT0.1S
    tasks:
      - id: count
        type: io.kestra.plugin.core.debug.Return
        format: "{{ taskrun.iteration ?? 0 }}"
"""


def _ended(url: str) -> dict[str, Any]:
    """Read an execution until it ends (`?wait=true` answers at the loop's first pause)."""
    deadline = time.monotonic() + 60
    while True:
        execution: dict[str, Any] = httpx.get(url, timeout=10).json()
        if execution["state"]["current"] in ("SUCCESS", "FAILED", "WARNING", "KILLED"):
            return execution
        assert time.monotonic() < deadline, execution["state"]["current"]
        time.sleep(0.1)


def _shape(execution: dict[str, Any]) -> list[tuple[str, str]]:
    return [(run["taskId"], run["state"]["current"]) for run in execution["taskRunList"]]


async def test_a_wait_for_loop_stores_only_its_last_iteration(tmp_path: Path) -> None:
    settings = Settings.load(home=tmp_path / "one", environ={})
    async with Runner(settings, MemoryStore()) as runner:
        started = await runner.submit(parse_flow(WAIT), 1)
        alone = (await runner.wait(started.id, timeout=30)).to_json()
    assert alone["state"]["current"] == "SUCCESS"

    with cluster(tmp_path) as c:
        c.start_small(WAIT, concurrency=4)
        answer = httpx.post(f"{c.api}/executions/dist/wait", timeout=10)
        assert answer.status_code == 200, answer.text
        stored = _ended(f"{c.api}/executions/{answer.json()['id']}")
        assert c.stop() == {}

    assert stored["state"]["current"] == "SUCCESS"
    assert _shape(stored) == _shape(alone)
    loop = next(run for run in stored["taskRunList"] if run["taskId"] == "loop")
    assert loop["outputs"] == next(
        run["outputs"] for run in alone["taskRunList"] if run["taskId"] == "loop"
    )
