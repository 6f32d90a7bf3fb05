"""`lanner server standalone` on PostgreSQL: two servers share one database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests import postgres
from tests.integration.servers import lanner_server

API = "/api/v1/main"
FLOW = """id: hello
namespace: company.team
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: hello from {{ flow.id }}
"""


@pytest.fixture
def url(postgres_url: str) -> str:
    postgres.clear(postgres_url)
    return postgres_url


def _environment(**extra: str) -> dict[str, str]:
    env = {**os.environ, **extra}
    if "LANNER_DATABASE_URL" not in extra:
        env.pop("LANNER_DATABASE_URL", None)
    return env


def test_two_servers_share_flows_executions_and_logs(url: str, tmp_path: Path) -> None:
    storage = str(tmp_path / "storage")
    by_flag = ["standalone", "--database-url", url, "--storage", storage]
    by_environment = ["standalone", "--storage", storage]
    env = _environment(LANNER_HOME=str(tmp_path / "home"))

    with (
        lanner_server(by_flag, env) as first,
        lanner_server(by_environment, {**env, "LANNER_DATABASE_URL": url}) as second,
    ):
        created = httpx.post(
            f"{first.url}{API}/flows",
            content=FLOW,
            headers={"Content-Type": "application/x-yaml"},
            timeout=10,
        )
        assert created.status_code == 200, created.text
        started = httpx.post(
            f"{second.url}{API}/executions/company.team/hello", params={"wait": "true"}, timeout=30
        )
        assert started.status_code == 200, started.text
        execution_id = started.json()["id"]

        seen = httpx.get(f"{first.url}{API}/executions/{execution_id}", timeout=10).json()
        logs = httpx.get(f"{first.url}{API}/logs/{execution_id}", timeout=10).json()

    assert first.process.returncode == 0, first.stderr
    assert second.process.returncode == 0, second.stderr
    assert seen["state"]["current"] == "SUCCESS"
    assert [line["message"] for line in logs] == ["hello from hello"]
    assert (tmp_path / "home" / "lanner.db").exists() is False


def test_standalone_without_a_database_says_what_it_needs(tmp_path: Path) -> None:
    finished = subprocess.run(
        [sys.executable, "-m", "lanner", "server", "standalone", "--storage", str(tmp_path)],
        capture_output=True,
        text=True,
        env=_environment(),
        timeout=60,
        check=False,
    )

    assert finished.returncode == 2
    assert "standalone needs a database: pass --database-url or set LANNER_DATABASE_URL" in (
        finished.stderr
    )


def test_an_unreachable_database_is_reported_without_its_password(tmp_path: Path) -> None:
    url = "postgresql://lanner:s3cret@127.0.0.1:1/lanner"
    finished = subprocess.run(
        [
            sys.executable,
            "-m",
            "lanner",
            "server",
            "standalone",
            "--database-url",
            url,
            "--storage",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        env=_environment(),
        timeout=60,
        check=False,
    )

    assert finished.returncode == 2
    assert finished.stderr.startswith(
        "lanner server: Unable to open the database postgresql://lanner:***@127.0.0.1:1/lanner:"
    )
    assert "Connection refused" in finished.stderr
    assert "s3cret" not in finished.stderr
