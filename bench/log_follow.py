"""Following an execution's logs on the engine-less webserver, while its lines are stored.

Usage: .venv/bin/python -m bench.log_follow [--lines N] [--database-url postgresql://...]

A QueueEngine (what `lanner server webserver` runs) follows one execution while its lines are
appended one at a time, each followed by its "logs stored" notice, as a worker sends them; the
writer lets the follower run after each line. The figure is the wall time from the first append
until the follower was told the last line, and the same time for appending alone, with nobody
following. SQLite with the in-memory queue by default; with `--database-url` (an empty scratch
database) PostgreSQL with its queue.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from lanner.executions import Execution, Level, LogEntry
from lanner.queue import MemoryQueue, PostgresQueue, Queue
from lanner.queue_engine import QueueEngine
from lanner.settings import Settings
from lanner.states import State
from lanner.storage import LocalStorage
from lanner.store import Store, open_store

START = datetime(2026, 1, 1, tzinfo=UTC)


def line(execution: Execution, index: int) -> LogEntry:
    return LogEntry(
        namespace=execution.namespace,
        flow_id=execution.flow_id,
        execution_id=execution.id,
        timestamp=START,
        level=Level.INFO,
        message=f"line {index}: " + "x" * 80,
        task_id="chatty",
        task_run_id="run-1",
        attempt_number=1,
    )


async def append(store: Store, queue: Queue, execution: Execution, lines: int) -> None:
    for index in range(lines):
        await store.append_logs([line(execution, index)])
        await queue.logged([execution.id])
        await asyncio.sleep(0)  # a worker's other work lets the follower's read run


async def measure(home: Path, url: str, lines: int, follow: bool) -> float:
    settings = Settings.load(home=home, database_url=url, environ={})
    store = await open_store(url)
    queue: Queue = await PostgresQueue.open(url) if url.startswith("postgres") else MemoryQueue()
    engine = QueueEngine(settings, store, LocalStorage(home / "storage"), queue)
    execution = Execution.create("bench.logs", "chatty", 1).with_state(State.RUNNING)
    await store.save_execution(execution)
    told: list[LogEntry] = []
    engine.follows = lambda execution_id: follow and execution_id == execution.id
    engine.add_log_listener(told.append)
    try:
        started = time.perf_counter()
        await append(store, queue, execution, lines)
        while follow and len(told) < lines:
            await asyncio.sleep(0.001)
        elapsed = time.perf_counter() - started
        if len(told) != (lines if follow else 0):
            raise AssertionError(f"told {len(told)} lines of {lines}")
        await store.delete_logs(execution.id)
        return elapsed
    finally:
        await engine.aclose()
        await queue.close()
        await store.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000, help="lines to append and follow")
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: SQLite)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        url = args.database_url or f"sqlite:///{home / 'lanner.db'}"
        alone = await measure(home, url, args.lines, follow=False)
        followed = await measure(home, url, args.lines, follow=True)
    print(f"append {args.lines} lines, nobody following   {alone:8.2f} s")
    print(f"append {args.lines} lines, one follower told  {followed:8.2f} s")
    print(f"following costs                            {followed - alone:8.2f} s")


if __name__ == "__main__":
    asyncio.run(main())
