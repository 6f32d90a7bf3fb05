"""`lanner server local` as a user starts it: a real process on 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from lanner.server import is_loopback
from tests.integration.servers import lanner_server


def test_loopback_addresses_are_recognised() -> None:
    assert is_loopback("127.0.0.1")
    assert is_loopback("::1")
    assert is_loopback("localhost")
    assert not is_loopback("0.0.0.0")
    assert not is_loopback("192.0.2.1")


def test_refuses_to_listen_beyond_loopback_without_users(tmp_path: Path) -> None:
    env = {**os.environ, "LANNER_HOME": str(tmp_path)}
    env.pop("LANNER_USERS", None)
    result = subprocess.run(
        [sys.executable, "-m", "lanner", "server", "local", "--host", "0.0.0.0", "--port", "1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "Refusing to listen on 0.0.0.0 without authentication" in result.stderr


def test_serves_the_api_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    env = {**os.environ, "LANNER_HOME": str(tmp_path)}
    with lanner_server(["local"], env) as server:
        health = httpx.get(f"{server.url}/health", timeout=5)
        assert health.json() == {"status": "UP"}
        configs = httpx.get(f"{server.url}/api/v1/main/configs", timeout=5)
        assert configs.json()["edition"] == "OSS"
    assert server.process.returncode == 0, server.stderr
    assert f"lanner is listening on {server.url}/" in server.stdout
    assert (tmp_path / "lanner.db").is_file()


def test_a_wrong_storage_is_one_line_before_anything_starts(tmp_path: Path) -> None:
    env = {**os.environ, "LANNER_HOME": str(tmp_path), "LANNER_STORAGE": "nosuch://bucket/x"}
    env["LANNER_STORAGE_OPTIONS"] = '{"secret": "do-not-print"}'
    result = subprocess.run(
        [sys.executable, "-m", "lanner", "server", "local", "--port", "1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert (
        result.stderr == "lanner server: storage 'nosuch://bucket/x': Protocol not known: nosuch\n"
    )
