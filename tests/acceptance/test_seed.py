"""The seed page's two flows, as published, run with `lanner run` against a local server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.httpservers import PRODUCTS_CSV, MockApp, Server, serve

SEED = Path(__file__).resolve().parents[3] / "shared" / "seed"

pytestmark = pytest.mark.skipif(not SEED.is_dir(), reason="the shared seed is not beside the repo")


@pytest.fixture(scope="module")
def app() -> MockApp:
    return MockApp()


@pytest.fixture(scope="module")
def server(app: MockApp) -> Iterator[Server]:
    running = serve(app)
    yield running
    running.close()


def seed_flow(name: str, server: Server, path: str, tmp_path: Path) -> Path:
    """Copy a seed flow with only its `uri` pointed at the local server."""
    lines = (SEED / name).read_text(encoding="utf-8").splitlines()
    replaced = [
        f"    uri: {server.url}{path}" if line.strip().startswith("uri:") else line
        for line in lines
    ]
    assert replaced != lines, "the seed flow has no uri line"
    target = tmp_path / name
    target.write_text("\n".join(replaced) + "\n", encoding="utf-8")
    return target


def lanner(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LANNER_HOME": str(tmp_path / "home")}
    return subprocess.run(
        [sys.executable, "-m", "lanner", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_get_logs_the_csv_body_exactly(server: Server, tmp_path: Path) -> None:
    flow = seed_flow("flows_http_get.yml", server, "/products.csv", tmp_path)
    result = lanner(tmp_path, "run", str(flow), "--output", "json")
    assert result.returncode == 0, result.stderr
    execution = json.loads(result.stdout)
    assert execution["state"]["current"] == "SUCCESS"
    send_data, print_status = execution["taskRunList"]
    assert send_data["outputs"]["code"] == 200
    assert send_data["outputs"]["body"] == PRODUCTS_CSV
    logged = [line for line in result.stderr.splitlines() if " print_status " in line]
    assert logged, result.stderr
    first = logged[0].split(" print_status ", 1)[1]
    assert first == PRODUCTS_CSV.splitlines()[0]
    assert PRODUCTS_CSV.rstrip("\n") in result.stderr
    assert print_status["state"]["current"] == "SUCCESS"


@pytest.mark.parametrize(
    ("args", "sent"),
    [
        ((), {"name": "Bob", "job": "Developer"}),
        (("-i", 'payload={"name":"Alice"}'), {"name": "Alice"}),
    ],
    ids=["default-input", "input-from-command-line"],
)
def test_post_sends_the_json_input_and_logs_the_echo(
    app: MockApp, server: Server, tmp_path: Path, args: tuple[str, ...], sent: dict[str, str]
) -> None:
    flow = seed_flow("flows_http_post.yml", server, "/api/users", tmp_path)
    result = lanner(tmp_path, "run", str(flow), *args)
    assert result.returncode == 0, result.stderr
    request = app.last()
    assert request.method == "POST"
    assert request.body == json.dumps(sent, separators=(",", ":")).encode()
    assert request.headers["Content-Type"] == "application/json; charset=UTF-8"
    echoed = {**sent, "id": "1", "createdAt": "2024-01-01T00:00:00.000Z"}
    assert f"print_status {json.dumps(echoed, separators=(',', ':'))}" in result.stdout
    assert "SUCCESS" in result.stdout
