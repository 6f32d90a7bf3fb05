"""`lanner server` as a user starts it: a real process on 127.0.0.1, stopped with SIGTERM."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

__all__ = ["RunningServer", "free_port", "lanner_server"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class RunningServer:
    """A server process that answers on `url`; `stdout`/`stderr` are filled once it stopped."""

    url: str
    process: subprocess.Popen[str]
    stdout: str = ""
    stderr: str = ""


@contextmanager
def lanner_server(args: list[str], env: Mapping[str, str]) -> Iterator[RunningServer]:
    """Run `lanner server ARGS --port P` until it answers /health; stop it with SIGTERM after.

    The exit status and output are checked by the caller through the yielded record.
    """
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "lanner", "server", *args, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(env),
    )
    running = RunningServer(f"http://127.0.0.1:{port}", process)
    try:
        _wait_healthy(running)
        yield running
    finally:
        process.send_signal(signal.SIGTERM)
        running.stdout, running.stderr = process.communicate(timeout=30)


def _wait_healthy(server: RunningServer) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{server.url}/health", timeout=1).raise_for_status()
            return
        except httpx.TransportError:
            if time.monotonic() > deadline or server.process.poll() is not None:
                server.process.kill()
                _, stderr = server.process.communicate(timeout=30)
                raise AssertionError(f"the server did not start: {stderr}") from None
            time.sleep(0.1)
