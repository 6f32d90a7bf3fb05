"""What a stopped engine left behind is taken up by the next one on the same SQLite file:
paused and queued executions, and the timers of Pause delays and retry backoffs."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from lanner.executions import Execution
from lanner.flowrepo import FlowRepository
from lanner.runner import Runner
from lanner.settings import Settings
from lanner.states import State
from lanner.store import Store, open_store


class Engine:
    """Runners opened one after another on the same home directory."""

    def __init__(self, home: Path) -> None:
        self.settings = Settings.load(home=home, environ={})
        self.url = f"sqlite:///{home / 'lanner.db'}"

    async def first(
        self, source: str, until: Callable[[Store, str], Awaitable[bool]], count: int = 1
    ) -> list[str]:
        """Submit `count` executions of a flow, wait for `until`, then stop the engine."""
        store = await open_store(self.url)
        stored = await FlowRepository(store).save(source)
        runner = Runner(self.settings, store)
        await runner.start()
        ids = [(await runner.submit(stored.flow, stored.revision)).id for _ in range(count)]
        for _ in range(1000):
            if await until(store, ids[-1]):
                break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError("the condition before the stop never held")
        await runner.close(grace=0.05)
        await store.close()
        return ids

    async def second(
        self, ids: list[str], action: Callable[[Runner], Awaitable[None]] | None = None
    ) -> list[Execution]:
        """Start a new engine, optionally act on it, and wait for the executions to end."""
        store = await open_store(self.url)
        try:
            async with Runner(self.settings, store) as runner:
                if action is not None:
                    await action(runner)
                return [await runner.wait(id_, timeout=30) for id_ in ids]
        finally:
            await store.close()


def in_state(state: State) -> Callable[[Store, str], Awaitable[bool]]:
    async def check(store: Store, execution_id: str) -> bool:
        stored = await store.get_execution(execution_id)
        return stored is not None and stored.current is state

    return check


PAUSE = """id: approve
namespace: company.team
tasks:
  - id: hold
    type: io.kestra.plugin.core.flow.Pause
  - id: after
    type: io.kestra.plugin.core.debug.Return
    format: resumed
"""


async def test_a_paused_execution_can_be_resumed_after_a_restart(tmp_path: Path) -> None:
    engine = Engine(tmp_path)
    ids = await engine.first(PAUSE, in_state(State.PAUSED))

    async def resume(runner: Runner) -> None:
        await runner.resume(ids[0])

    [done] = await engine.second(ids, resume)
    assert done.current is State.SUCCESS
    after = next(run for run in done.task_runs if run.task_id == "after")
    assert after.outputs == {"value": "resumed"}


PAUSE_DELAY = """id: later
namespace: company.team
tasks:
  - id: hold
    type: io.kestra.plugin.core.flow.Pause
    delay: PT0.5S
  - id: after
    type: io.kestra.plugin.core.debug.Return
    format: resumed
"""


async def test_a_pause_delay_fires_after_a_restart(tmp_path: Path) -> None:
    engine = Engine(tmp_path)
    ids = await engine.first(PAUSE_DELAY, in_state(State.PAUSED))
    [done] = await engine.second(ids)
    assert done.current is State.SUCCESS
    assert [run.task_id for run in done.task_runs] == ["hold", "after"]


RETRY = """id: flaky
namespace: company.team
tasks:
  - id: fail
    type: io.kestra.plugin.core.execution.Fail
    retry:
      type: constant
      interval: PT0.3S
      maxAttempt: 3
"""


async def test_a_retry_backoff_fires_after_a_restart(tmp_path: Path) -> None:
    async def retrying(store: Store, execution_id: str) -> bool:
        stored = await store.get_execution(execution_id)
        return stored is not None and any(run.current is State.RETRYING for run in stored.task_runs)

    engine = Engine(tmp_path)
    ids = await engine.first(RETRY, retrying)
    [done] = await engine.second(ids)
    assert done.current is State.FAILED
    assert len(done.task_runs[0].attempts) == 3


QUEUE = """id: one_at_a_time
namespace: company.team
concurrency:
  limit: 1
  behavior: QUEUE
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT0.3S
"""


async def test_a_queued_execution_starts_after_a_restart(tmp_path: Path) -> None:
    engine = Engine(tmp_path)
    ids = await engine.first(QUEUE, in_state(State.QUEUED), count=2)
    first, second = await engine.second(ids)
    assert first.current is State.SUCCESS
    assert second.current is State.SUCCESS
    assert State.QUEUED in [history.state for history in second.state.histories]


def task_running(task_id: str) -> Callable[[Store, str], Awaitable[bool]]:
    async def check(store: Store, execution_id: str) -> bool:
        stored = await store.get_execution(execution_id)
        return stored is not None and any(
            run.task_id == task_id and run.current is State.RUNNING for run in stored.task_runs
        )

    return check


RETRY_AS_NEW = """id: again
namespace: company.team
tasks:
  - id: fail
    type: io.kestra.plugin.core.execution.Fail
    retry:
      type: constant
      interval: PT0.1S
      maxAttempt: 2
      behavior: CREATE_NEW_EXECUTION
afterExecution:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT0.5S
  - id: seen
    type: io.kestra.plugin.core.debug.Return
    format: "{{ execution.state }}"
"""


async def test_the_final_state_is_decided_once_across_a_restart(tmp_path: Path) -> None:
    engine = Engine(tmp_path)
    # Stopped while the afterExecution tasks run: the final state (RETRIED, which started a
    # new execution) was decided before; deciding it again would start another one.
    ids = await engine.first(RETRY_AS_NEW, task_running("nap"))
    states: list[str] = []

    async def every_execution_ends(runner: Runner) -> None:
        await runner.wait(ids[0], timeout=30)
        for _ in range(300):
            page = await runner.store.search_executions(flow_id="again", size=10)
            if len(page.results) > 1 and all(e.current.is_terminated() for e in page.results):
                states.extend(sorted(item.current.value for item in page.results))
                return
            await asyncio.sleep(0.05)

    [done] = await engine.second(ids, every_execution_ends)
    assert done.current is State.RETRIED
    seen = next(run for run in done.task_runs if run.task_id == "seen")
    assert seen.outputs == {"value": "RETRIED"}
    assert states == ["FAILED", "RETRIED"]


LOOP = """id: loop
namespace: company.team
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: "{{ kv('items') }}"
    tasks:
      - id: nap
        type: io.kestra.plugin.core.flow.Sleep
        duration: PT0.3S
      - id: seen
        type: io.kestra.plugin.core.debug.Return
        format: "{{ taskrun.value }}"
"""


async def test_loop_values_are_rendered_once_across_a_restart(tmp_path: Path) -> None:
    engine = Engine(tmp_path)
    store = await open_store(engine.url)
    store.kv.put("company.team", "items", ["a", "b"])
    await store.close()
    ids = await engine.first(LOOP, task_running("nap"))
    store = await open_store(engine.url)
    store.kv.put("company.team", "items", ["x"])  # what a new rendering would give
    await store.close()
    [done] = await engine.second(ids)
    assert done.current is State.SUCCESS
    seen = sorted(run.outputs["value"] for run in done.task_runs if run.outputs)
    assert seen == ["a", "b"]


WAIT_FOR = """id: poll
namespace: company.team
tasks:
  - id: loop
    type: io.kestra.plugin.core.flow.WaitFor
    condition: "{{ outputs.count.values.count == '3' }}"
    checkFrequency:
      interval: PT0.4S
    tasks:
      - id: count
        type: io.kestra.plugin.core.output.OutputValues
        values:
          count: "{{ outputs.loop.iterationCount }}"
"""


async def test_a_waitfor_interval_fires_after_a_restart(tmp_path: Path) -> None:
    engine = Engine(tmp_path)
    ids = await engine.first(WAIT_FOR, in_state(State.PAUSED))
    [done] = await engine.second(ids)
    assert done.current is State.SUCCESS
    # The store holds the last iteration only: earlier ones were removed from it.
    assert [(run.task_id, run.iteration) for run in done.task_runs] == [
        ("loop", 3),
        ("count", 3),
    ]
    assert done.task_runs[1].outputs == {"values": {"count": "3"}}
