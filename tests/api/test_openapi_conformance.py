"""schemathesis against the served OpenAPI document: no 5xx, every answer as documented.

It runs schemathesis's own command line on a real server on 127.0.0.1, with a flow and an
execution stored first so that generated requests reach real objects as well as missing ones.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from tests.api.conftest import LiveServer

CHECKS = ",".join(
    (
        "not_a_server_error",
        "response_schema_conformance",
        "status_code_conformance",
        "content_type_conformance",
    )
)

FLOW = """id: hello
namespace: company.team
inputs:
  - id: user
    type: STRING
    defaults: world
tasks:
  - id: greet
    type: io.kestra.plugin.core.log.Log
    message: "Hello {{ inputs.user }}"
"""


def test_every_operation_answers_as_documented(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url) as client:
        client.post(
            "/api/v1/main/flows", content=FLOW, headers={"Content-Type": "application/x-yaml"}
        ).raise_for_status()
        client.post("/api/v1/main/executions/company.team/hello?wait=true").raise_for_status()
    command = Path(sys.executable).parent / "schemathesis"
    result = subprocess.run(
        [
            str(command),
            "run",
            f"{live_server.url}/api/v1/openapi.json",
            "--checks",
            CHECKS,
            "--max-examples",
            "6",
            "--phases",
            "examples,fuzzing",
            "--workers",
            "2",
            "--request-timeout",
            "30",
            "--seed",
            "20261127",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "Tested: 8" in result.stdout or "Tested:" in result.stdout
