"""The processes of a scaled-out lanner that serve no API: executor, worker and scheduler.

Each opens the PostgreSQL store and queue, runs until SIGINT/SIGTERM, then stops gracefully,
and prints one line once it is ready (scripts and tests wait for it).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

import psycopg

from lanner.exceptions import LannerError
from lanner.flow_triggers import FlowTriggers
from lanner.flowrepo import FlowRepository
from lanner.queue import Notice, PostgresQueue
from lanner.queue_engine import QueueEngine
from lanner.queue_executor import QueueExecutor
from lanner.queue_pool import HEARD_NOTICES, queue_pool_size
from lanner.queue_worker import QueueWorker, run_worker
from lanner.scheduler import Scheduler
from lanner.settings import Settings
from lanner.startup import settle
from lanner.storage import open_storage
from lanner.store import Store, open_configured_store

__all__ = ["check_distributed", "run_role"]

_POSTGRES = ("postgresql://", "postgres://")
# The key of the session advisory lock that elects the one active scheduler.
_SCHEDULER_LOCK = 0x6C616E6E65727363  # "lannersc"
WORKER_GRACE_S = 10.0


def check_distributed(settings: Settings, role: str) -> None:
    """Refuse a database that other processes cannot share."""
    if not settings.database_url.startswith(_POSTGRES):
        raise LannerError(
            f"lanner server {role} needs a PostgreSQL database shared by every process:"
            " give --database-url postgresql://USER@HOST:PORT/DATABASE (or LANNER_DATABASE_URL)"
        )


def run_role(role: str, settings: Settings, concurrency: int) -> None:
    """Run the executor, worker or scheduler role until a stop signal."""
    check_distributed(settings, role)
    roles: dict[str, Callable[[Settings, Store, PostgresQueue, asyncio.Event], Awaitable[None]]]
    connections = queue_pool_size(settings, role)
    roles = {
        "executor": _executor,
        "worker": lambda s, st, q, stop: _worker(s, st, q, stop, concurrency),
        "scheduler": _scheduler,
    }
    settle()
    asyncio.run(_main(settings, roles[role], connections, HEARD_NOTICES[role]))


async def _main(
    settings: Settings,
    role: Callable[[Settings, Store, PostgresQueue, asyncio.Event], Awaitable[None]],
    connections: int,
    hears: Sequence[Notice],
) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for stop in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(stop, stopping.set)
    async with _opened(settings, connections, hears) as (store, queue):
        await role(settings, store, queue, stopping)


@contextlib.asynccontextmanager
async def _opened(
    settings: Settings, connections: int, hears: Sequence[Notice]
) -> AsyncIterator[tuple[Store, PostgresQueue]]:
    store = await open_configured_store(settings)
    try:
        queue = await PostgresQueue.open(
            settings.database_url, settings.worker_lease, connections=connections, hears=hears
        )
        try:
            yield store, queue
        finally:
            await queue.close()
    finally:
        await store.close()


async def _executor(
    settings: Settings, store: Store, queue: PostgresQueue, stopping: asyncio.Event
) -> None:
    executor = QueueExecutor(settings, store, queue, open_storage(settings))
    running = asyncio.create_task(executor.run(), name="lanner-queue-executor")
    print("lanner executor is running", flush=True)
    await _until(stopping, running)


async def _worker(
    settings: Settings,
    store: Store,
    queue: PostgresQueue,
    stopping: asyncio.Event,
    concurrency: int,
) -> None:
    storage = open_storage(settings)
    worker = QueueWorker(
        settings, store, queue, storage, concurrency=concurrency, lease=settings.worker_lease
    )
    print(f"lanner worker {worker.id} is running {concurrency} jobs at most", flush=True)
    await run_worker(worker, stopping, WORKER_GRACE_S)


async def _scheduler(
    settings: Settings, store: Store, queue: PostgresQueue, stopping: asyncio.Event
) -> None:
    async with await psycopg.AsyncConnection.connect(
        settings.database_url, autocommit=True
    ) as election:
        print("lanner scheduler is standing by", flush=True)
        elected = asyncio.create_task(_elect(election))
        await _until(stopping, elected)
        if not elected.cancelled():
            await _schedule(settings, store, queue, stopping)


async def _elect(election: psycopg.AsyncConnection[object]) -> None:
    """Wait until this process holds the scheduler lock (held until its connection closes)."""
    await election.execute("SELECT pg_advisory_lock(%s)", (_SCHEDULER_LOCK,))


async def _schedule(
    settings: Settings, store: Store, queue: PostgresQueue, stopping: asyncio.Event
) -> None:
    storage = open_storage(settings)
    engine = QueueEngine(settings, store, storage, queue)
    engine.tell_all = True
    flows = FlowRepository(store)
    scheduler = Scheduler(store, flows, engine, settings)
    flow_triggers = FlowTriggers(store, flows, engine, settings)
    await scheduler.start()
    await flow_triggers.start()
    print("lanner scheduler is active", flush=True)
    try:
        await stopping.wait()
    finally:
        await scheduler.close()
        await flow_triggers.close()
        await engine.aclose()


async def _until(stopping: asyncio.Event, running: asyncio.Task[None]) -> None:
    """Wait for a stop signal or the task's end; on a stop signal, cancel the task."""
    waiting = asyncio.create_task(stopping.wait())
    await asyncio.wait([running, waiting], return_when=asyncio.FIRST_COMPLETED)
    waiting.cancel()
    if not running.done():
        running.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await running
