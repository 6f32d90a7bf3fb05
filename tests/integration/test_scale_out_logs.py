"""Following logs through the engine-less webserver while workers log side by side, every
process running with small PostgreSQL pools."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from lanner.queue_pool import least_queue_pool_size
from tests.integration.cluster import cluster

pytestmark = pytest.mark.timeout(180)

LINES = 40
CHATTY = f"""id: chatty
namespace: dist
tasks:
  - id: warm_up
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT1S
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: {json.dumps(list(range(LINES)))}
    concurrencyLimit: 0
    tasks:
      - id: line
        type: io.kestra.plugin.core.log.Log
        message: "line {{{{ taskrun.value }}}}"
"""


def _follow(api: str, execution_id: str) -> list[dict[str, Any]]:
    """Read the server-sent events of the execution's logs until the stream ends."""
    seen = []
    with httpx.stream("GET", f"{api}/logs/{execution_id}/follow", timeout=60) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("data: "):
                seen.append(json.loads(line[6:]))
    return seen


def test_a_follower_gets_each_line_of_parallel_tasks_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANNER_DATABASE_POOL_SIZE", "2")
    monkeypatch.setenv("LANNER_DATABASE_KV_POOL_SIZE", "1")
    monkeypatch.setenv("LANNER_QUEUE_POOL_SIZE", str(least_queue_pool_size("executor")))
    with cluster(tmp_path) as c:
        c.start_small(CHATTY, concurrency=16)
        c.start("second-worker", "worker", "--concurrency", "16")
        started = httpx.post(f"{c.api}/executions/dist/chatty", timeout=10)
        assert started.status_code == 200, started.text
        execution_id = started.json()["id"]

        followed = _follow(c.api, execution_id)
        stored = httpx.get(f"{c.api}/logs/{execution_id}", timeout=10).json()
        ended = httpx.get(f"{c.api}/executions/{execution_id}", timeout=10).json()
        failures = c.stop()

    assert failures == {}
    assert ended["state"]["current"] == "SUCCESS"
    lines = sorted(entry["message"] for entry in stored if entry.get("taskId") == "line")
    assert lines == sorted(f"line {i}" for i in range(LINES))
    assert followed == stored
