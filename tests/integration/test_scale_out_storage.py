"""A scaled-out lanner on S3: the worker process writes a file, the webserver serves it.

Real `lanner server` processes over PostgreSQL, with the internal storage in a bucket of the
tests' S3 server, named by `LANNER_STORAGE` and `LANNER_STORAGE_OPTIONS` as a deployment
names it. No process shares a directory with another: only the bucket.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import s3
from tests.httpservers import SAMPLE_CSV, MockApp, serve
from tests.integration.cluster import cluster

pytestmark = pytest.mark.timeout(180)

FLOW = """id: fetch
namespace: dist
inputs:
  - id: server
    type: STRING
tasks:
  - id: dl
    type: io.kestra.plugin.core.http.Download
    uri: "{{ inputs.server }}/sample.csv"
  - id: show
    type: io.kestra.plugin.core.log.Log
    message: "read back: {{ read(outputs.dl.uri) }}"
"""


def test_files_written_by_a_worker_are_served_by_the_webserver(
    tmp_path: Path, s3_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = s3.new_bucket(s3_endpoint)
    monkeypatch.setenv("LANNER_STORAGE", f"s3://{bucket}/cluster")
    monkeypatch.setenv("LANNER_STORAGE_OPTIONS", json.dumps(s3.s3_options(s3_endpoint)))
    http = serve(MockApp())
    try:
        with cluster(tmp_path) as c:
            c.start_small(FLOW)
            created = httpx.post(
                f"{c.api}/executions/dist/fetch", files={"server": (None, http.url)}, timeout=10
            )
            assert created.status_code == 200, created.text
            execution = _wait_for_end(f"{c.api}/executions/{created.json()['id']}")

            assert execution["state"]["current"] == "SUCCESS", execution
            uri = next(r for r in execution["taskRunList"] if r["taskId"] == "dl")["outputs"]["uri"]
            served = httpx.get(
                f"{c.api}/executions/{execution['id']}/file", params={"path": uri}, timeout=10
            )
            assert served.status_code == 200
            assert served.content == SAMPLE_CSV.encode()
            logs = httpx.get(f"{c.api}/logs/{execution['id']}", timeout=10).json()
            assert f"read back: {SAMPLE_CSV}" in [line["message"] for line in logs]
            assert s3.object_content(s3_endpoint, bucket, "cluster/" + uri[len("kestra:///") :])
            assert not (c.home / "storage").exists()
            assert c.stop() == {}
    finally:
        http.close()


def _wait_for_end(url: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        execution: dict[str, Any] = httpx.get(url, timeout=10).json()
        if execution["state"]["current"] in ("SUCCESS", "FAILED", "KILLED"):
            return execution
        assert time.monotonic() < deadline, f"still {execution['state']['current']}"
        time.sleep(0.2)
