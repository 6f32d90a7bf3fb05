"""Stopping the engine loses nothing: running attempts finish, or run again after a restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from lanner.flowrepo import FlowRepository
from lanner.runner import Runner
from lanner.settings import Settings
from lanner.states import State
from lanner.store import open_store

BOTH = pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)

FLOW = """id: slow
namespace: company.team
tasks:
  - id: first
    type: io.kestra.plugin.core.log.Log
    message: first
  - id: wait
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT1S
  - id: last
    type: io.kestra.plugin.core.log.Log
    message: last
"""


async def _running_wait(runner: Runner, execution_id: str) -> None:
    """Wait until the Sleep task is running."""
    for _ in range(500):
        stored = await runner.store.get_execution(execution_id)
        if stored and any(
            r.task_id == "wait" and r.current is State.RUNNING for r in stored.task_runs
        ):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the Sleep task never started")


@BOTH
async def test_attempts_running_at_shutdown_run_again_after_a_restart(
    tmp_path: Path, database_url: str
) -> None:
    settings = Settings.load(home=tmp_path, environ={})
    url = database_url
    store = await open_store(url)
    stored = await FlowRepository(store).save(FLOW)
    runner = Runner(settings, store)
    await runner.start()
    execution = await runner.submit(stored.flow, stored.revision)
    await _running_wait(runner, execution.id)
    await runner.close(grace=0.05)  # too short for the Sleep: it is handed back
    handed_back = await store.get_execution(execution.id)
    assert handed_back is not None
    assert handed_back.current is State.RUNNING
    wait = next(run for run in handed_back.task_runs if run.task_id == "wait")
    assert wait.current is State.RUNNING
    await store.close()

    store = await open_store(url)
    async with Runner(settings, store) as restarted:
        done = await restarted.wait(execution.id, timeout=30)
    await store.close()
    assert done.current is State.SUCCESS
    states = {run.task_id: run.current for run in done.task_runs}
    assert states == {"first": State.SUCCESS, "wait": State.SUCCESS, "last": State.SUCCESS}
    wait = next(run for run in done.task_runs if run.task_id == "wait")
    assert len(wait.attempts) == 2  # the interrupted attempt, then the one that finished


@BOTH
async def test_attempts_that_finish_within_the_grace_period_are_recorded(
    tmp_path: Path, database_url: str
) -> None:
    settings = Settings.load(home=tmp_path, environ={})
    store = await open_store(database_url)
    stored = await FlowRepository(store).save(FLOW)
    runner = Runner(settings, store)
    await runner.start()
    execution = await runner.submit(stored.flow, stored.revision)
    await _running_wait(runner, execution.id)
    await runner.close(grace=5)
    after = await store.get_execution(execution.id)
    await store.close()
    assert after is not None
    wait = next(run for run in after.task_runs if run.task_id == "wait")
    assert wait.current is State.SUCCESS
    assert len(wait.attempts) == 1
