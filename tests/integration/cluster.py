"""A scaled-out lanner for tests: webserver, executor, scheduler and worker processes.

Every role is a real `lanner server ROLE` subprocess over one PostgreSQL database made for the
test; processes can be killed (SIGKILL) and started again like on a real machine.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests import postgres
from tests.integration.servers import free_port

READY = {
    "webserver": "lanner is listening",
    "executor": "lanner executor is running",
    "worker": "lanner worker",
    "scheduler": "lanner scheduler",
}

NAP = """id: nap
namespace: dist
tasks:
  - id: sleep
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT60S
"""
"""A flow whose one task sleeps a minute on a worker: something to kill."""


@dataclass
class Cluster:
    """The processes of one deployment, and how to reach its API and database."""

    database_url: str
    home: Path
    port: int
    lease: float
    processes: dict[str, subprocess.Popen[str]] = field(default_factory=dict)

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1/main"

    def start(self, name: str, role: str, *extra: str) -> None:
        """Start a role as process `name` and wait until it says it is ready."""
        command = [sys.executable, "-m", "lanner", "server", role, *extra]
        if os.environ.get("LANNER_PROFILE_ROLE") == role:
            command[1:1] = ["-m", "cProfile", "-o", str(self.home / f"{name}.prof")]
        if role == "webserver":
            command += ["--port", str(self.port)]
        env = {
            **os.environ,
            "LANNER_DATABASE_URL": self.database_url,
            "LANNER_HOME": str(self.home),
            "LANNER_WORKER_LEASE": str(self.lease),
        }
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        self.processes[name] = process
        assert process.stdout is not None
        line = process.stdout.readline()
        if READY[role] not in line:
            process.kill()
            _, stderr = process.communicate(timeout=10)
            raise AssertionError(f"{name} did not start: {line!r} {stderr}")

    def kill(self, name: str) -> None:
        """SIGKILL a process, as a crash or a lost machine would stop it."""
        process = self.processes.pop(name)
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=10)

    def stop(self) -> dict[str, str]:
        """SIGTERM every process; return the stderr of those that did not exit cleanly."""
        for process in self.processes.values():
            process.send_signal(signal.SIGTERM)
        failures = {}
        for name, process in self.processes.items():
            try:
                _, stderr = process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                _, stderr = process.communicate()
            if process.returncode != 0:
                failures[name] = stderr
        self.processes.clear()
        return failures

    def start_small(self, *flows: str, concurrency: int = 8) -> None:
        """Start a webserver, an executor and a worker, then create `flows` (YAML)."""
        self.start("webserver", "webserver")
        self.wait_for_api()
        self.start("executor", "executor")
        self.start("worker", "worker", "--concurrency", str(concurrency))
        headers = {"Content-Type": "application/x-yaml"}
        for source in flows:
            created = httpx.post(f"{self.api}/flows", content=source, headers=headers, timeout=10)
            assert created.status_code == 200, created.text

    def wait_for_api(self) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=1)
                return
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def states(self) -> dict[str, int]:
        """Count the executions of each state, straight from the database."""
        with psycopg.connect(self.database_url) as db:
            return count_states(db)


def count_states(db: psycopg.Connection[Any]) -> dict[str, int]:
    """Count the executions of each state in the database `db` is connected to."""
    rows = db.execute("SELECT state, count(*) FROM executions GROUP BY state").fetchall()
    return dict(rows)


@contextmanager
def cluster(tmp_path: Path, lease: float = 2.0) -> Iterator[Cluster]:
    """Yield an empty deployment's database and home; every process is stopped at the end."""
    reason = postgres.unreachable_reason()
    if reason is not None:
        if postgres.REQUIRED:
            pytest.fail(reason)
        pytest.skip(reason)
    with postgres.database("lanner_cluster") as url:
        made = Cluster(url, tmp_path / "home", free_port(), lease)
        try:
            yield made
        finally:
            for process in made.processes.values():
                process.kill()
                process.communicate(timeout=10)
