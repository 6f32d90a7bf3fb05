"""`lanner server local` as a user starts it: a real process on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from lanner.server import is_loopback


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


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
    port = free_port()
    env = {**os.environ, "LANNER_HOME": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "lanner", "server", "local", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        assert health.json() == {"status": "UP"}
        configs = httpx.get(f"http://127.0.0.1:{port}/api/v1/main/configs", timeout=5)
        assert configs.json()["edition"] == "OSS"
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert f"lanner is listening on http://127.0.0.1:{port}/" in stdout
    assert (tmp_path / "lanner.db").is_file()
