"""Killing an execution stops its script's processes: the real engine, SQLite, real `sleep`."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from lanner.executions import LogEntry
from lanner.flowrepo import FlowRepository
from lanner.runner import Runner
from lanner.settings import Settings
from lanner.states import State
from lanner.store import open_store
from tests.unit.tasks.scripts.test_process import gone_within, members_within

FLOW = """id: sleepy
namespace: company.team
tasks:
  - id: sleep
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner:
      type: io.kestra.plugin.core.runner.Process
    commands:
      - echo "pid $$"
      - sleep 60
"""


async def test_killing_an_execution_ends_its_sleep_within_two_seconds(tmp_path: Path) -> None:
    settings = Settings.load(home=tmp_path, environ={})
    store = await open_store(f"sqlite:///{tmp_path / 'lanner.db'}")
    stored = await FlowRepository(store).save(FLOW)
    pids: list[int] = []
    started = asyncio.Event()

    def on_log(entry: LogEntry) -> None:
        if entry.message.startswith("pid "):
            pids.append(int(entry.message.split()[1]))
            started.set()

    try:
        async with Runner(settings, store) as runner:
            runner.add_log_listener(on_log)
            execution = await runner.submit(stored.flow, stored.revision)
            await asyncio.wait_for(started.wait(), 10)
            assert await members_within(pids[0], 2, 5.0)  # sh and sleep
            killed_at = time.monotonic()
            await runner.kill(execution.id)
            done = await runner.wait(execution.id, timeout=10)
            assert await gone_within(pids[0], 2.0 - (time.monotonic() - killed_at))
        assert done.current is State.KILLED
        assert done.task_runs[0].current is State.KILLED
    finally:
        await store.close()
