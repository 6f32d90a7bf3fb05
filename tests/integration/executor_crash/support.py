"""An executor that dies at a chosen point of a claim, and the lanner it leaves behind.

The executor under test runs over a store and a queue that raise `Crash` at the point a test
picks (a queue write inside a claim, a save to the store): the claim's transaction rolls back
and `QueueExecutor.run` ends with the exception, as if its process had been killed there.
Everything else is real and started here: PostgreSQL, a worker, and healthy executors.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lanner.executions import Execution, LogEntry, TaskRun
from lanner.flowrepo import FlowRepository
from lanner.metrics import MetricEntry
from lanner.queue import Claim, ExecutorEvent, JobTicket, PostgresQueue
from lanner.queue_engine import QueueEngine
from lanner.queue_executor import QueueExecutor
from lanner.queue_worker import QueueWorker, run_worker
from lanner.settings import Settings
from lanner.states import State
from lanner.storage import LocalStorage
from lanner.store import PostgresStore
from tests import postgres

WAIT_S = 30.0

When = Callable[[str, str, Sequence[Any]], bool]
"""`when(what, execution_id, items)`: whether to die at this point. `what` is "claim" (items:
the claimed events), "send" (events), "enqueue" (tickets) or "save" (the execution saved)."""


class Crash(Exception):
    """The executor died here."""


@dataclass
class Death:
    """Where an executor dies: the first point `when` picks. Dead, it writes nothing more."""

    when: When
    died: bool = False

    def check(self, what: str, execution_id: str, items: Sequence[Any]) -> None:
        if self.died or self.when(what, execution_id, items):
            self.died = True
            raise Crash(f"executor died at {what} for {execution_id}")


class DyingQueue(PostgresQueue):
    """A queue whose claims raise `Crash` where `death` says, before the claim commits."""

    death: Death

    @asynccontextmanager
    async def claim(self, execution_id: str) -> AsyncIterator[Claim | None]:
        async with super().claim(execution_id) as claim:
            if claim is None:
                yield None
                return
            self.death.check("claim", execution_id, claim.events)
            yield _DyingClaim(claim, execution_id, self.death)


@dataclass
class _DyingClaim:
    claim: Claim
    execution_id: str
    death: Death
    events: Sequence[ExecutorEvent] = field(init=False)

    def __post_init__(self) -> None:
        self.events = self.claim.events

    async def send(self, events: Sequence[ExecutorEvent]) -> None:
        self.death.check("send", self.execution_id, events)
        await self.claim.send(events)

    async def enqueue(self, tickets: Sequence[JobTicket]) -> None:
        self.death.check("enqueue", self.execution_id, tickets)
        await self.claim.enqueue(tickets)

    async def cancel(self, task_run_ids: Sequence[str]) -> None:
        await self.claim.cancel(task_run_ids)

    async def changed(self, executions: Sequence[tuple[str, State]]) -> None:
        await self.claim.changed(executions)

    async def logged(self, execution_ids: Sequence[str]) -> None:
        await self.claim.logged(execution_ids)


class DyingStore(PostgresStore):
    """A store that raises `Crash` instead of saving the execution `death` picks."""

    death: Death

    async def save_execution(
        self, execution: Execution, task_runs: Sequence[TaskRun] | None = None
    ) -> str | None:
        self.death.check("save", execution.id, [execution])
        return await super().save_execution(execution, task_runs)

    async def save_step(
        self,
        execution: Execution,
        task_runs: Sequence[TaskRun] | None,
        logs: Sequence[LogEntry],
        metrics: Sequence[MetricEntry],
    ) -> str | None:
        self.death.check("save", execution.id, [execution])
        return await super().save_step(execution, task_runs, logs, metrics)


@dataclass
class Lanner:
    """A store, a queue, a worker and the executors a test starts, over one database."""

    url: str
    settings: Settings
    storage: LocalStorage
    store: PostgresStore
    queue: PostgresQueue
    engine: QueueEngine
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _closing: list[Any] = field(default_factory=list)

    async def save(self, *sources: str) -> None:
        for source in sources:
            await FlowRepository(self.store).save(source)

    async def start(self, flow_id: str, inputs: dict[str, Any] | None = None) -> Execution:
        stored = await FlowRepository(self.store).get("company.team", flow_id)
        return await self.engine.submit(stored.flow, stored.revision, inputs or {})

    async def executor_dies(self, when: When) -> None:
        """Run an executor until it dies where `when` says; fail if it never does."""
        death = Death(when)
        queue = await DyingQueue.open(self.url, lease=self.settings.worker_lease)
        store = await DyingStore.open(self.url)
        assert isinstance(queue, DyingQueue)
        assert isinstance(store, DyingStore)
        queue.death = store.death = death
        self._closing += [queue, store]
        executor = QueueExecutor(self.settings, store, queue, self.storage)
        try:
            await asyncio.wait_for(executor.run(), WAIT_S)
        except Crash:
            return
        except TimeoutError:
            pass
        raise AssertionError(f"the executor never reached the point it should die at ({when})")

    def executor(self) -> None:
        """Start a healthy executor, with a queue and store of its own, for the rest of the test."""

        async def run() -> None:
            queue = await PostgresQueue.open(self.url, lease=self.settings.worker_lease)
            store = await PostgresStore.open(self.url)
            self._closing += [queue, store]
            await QueueExecutor(self.settings, store, queue, self.storage).run()

        self._tasks.append(asyncio.create_task(run(), name="healthy-executor"))

    async def ended(self, execution_id: str) -> Execution:
        """Wait until an execution is terminated; fail, saying its state, if it never is."""
        deadline = time.monotonic() + WAIT_S
        while True:
            found = await self.store.get_execution(execution_id)
            assert found is not None, f"execution {execution_id} is not in the store"
            if found.current.is_terminated():
                return found
            if time.monotonic() > deadline:
                runs = {run.task_id: run.current.value for run in found.task_runs}
                raise AssertionError(
                    f"execution {execution_id} never ended: {found.current.value}, {runs}"
                )
            for task in self._tasks:
                if task.done() and task.exception() is not None:
                    raise AssertionError(f"{task.get_name()} failed") from task.exception()
            await asyncio.sleep(0.05)

    async def executions(self, flow_id: str) -> list[Execution]:
        """Return the executions of a flow, oldest first."""
        page = await self.store.search_executions(flow_id=flow_id, size=100, sort_desc=False)
        return page.results


@asynccontextmanager
async def lanner(url: str, home: Path) -> AsyncIterator[Lanner]:
    """Yield a lanner over an emptied database, with one worker running its jobs."""
    postgres.clear(url)
    settings = Settings.load(home=home, environ={})
    storage = LocalStorage(home / "storage")
    store = await PostgresStore.open(url)
    queue = await PostgresQueue.open(url, lease=settings.worker_lease)
    engine = QueueEngine(settings, store, storage, queue)
    world = Lanner(url, settings, storage, store, queue, engine)
    worker = QueueWorker(
        settings, store, queue, storage, concurrency=8, lease=settings.worker_lease
    )
    stopping = asyncio.Event()
    working = asyncio.create_task(run_worker(worker, stopping, 1.0), name="worker")
    try:
        yield world
    finally:
        stopping.set()
        await working
        for task in world._tasks:
            task.cancel()
        await asyncio.gather(*world._tasks, return_exceptions=True)
        await engine.aclose()
        for opened in [*world._closing, queue, store]:
            await opened.close()


def flow(flow_id: str, body: str) -> str:
    """Return a flow of namespace `company.team` with this YAML body."""
    return f"id: {flow_id}\nnamespace: company.team\n{body}"
