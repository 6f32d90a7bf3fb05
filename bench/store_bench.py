"""Store benchmarks: the cost of the engine's hot-path writes on SQLite or PostgreSQL.

Usage: .venv/bin/python -m bench.store_bench [--repeat N] [--database-url postgresql://...]

(a) save_execution with 1 changed task run, on an execution that already has 200 task runs
    (each with attempts, a state trail and a 1 KB output): what the engine pays per state change.
(b) append_logs of 1 entry.
(c) for scale: get_execution of that 200-task-run execution.
Each figure is per call, on a database file in a temporary directory, or with
`--database-url` on that database (it must be empty: use a scratch database).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from lanner.executions import Attempt, Execution, Level, LogEntry, TaskRun
from lanner.states import State, StateHistory, StateTrail
from lanner.store import SqliteStore, Store, open_store

TASK_RUNS = 200
START = datetime(2026, 1, 1, tzinfo=UTC)


def trail(*states: State) -> StateTrail:
    step = timedelta(milliseconds=3, microseconds=17)
    return StateTrail(tuple(StateHistory(s, START + step * i) for i, s in enumerate(states)))


def big_execution() -> Execution:
    execution = Execution.create("bench.store", "wide", 1)
    done = trail(State.CREATED, State.RUNNING, State.SUCCESS)
    runs = tuple(
        replace(
            TaskRun.create(execution, f"t{i}"),
            state=done,
            attempts=(Attempt(trail(State.RUNNING, State.SUCCESS)),),
            outputs={"code": 200, "body": "x" * 1000, "headers": {"content-type": ["json"]}},
        )
        for i in range(TASK_RUNS)
    )
    return replace(execution, state=trail(State.CREATED, State.RUNNING), task_runs=runs)


def one_log(execution: Execution, index: int) -> LogEntry:
    return LogEntry(
        namespace=execution.namespace,
        flow_id=execution.flow_id,
        execution_id=execution.id,
        timestamp=START + timedelta(microseconds=index),
        level=Level.INFO,
        message=f"Request {index} answered 200 in 12 ms",
        task_id="t199",
        task_run_id=execution.task_runs[-1].id,
        attempt_number=1,
    )


async def per_call(calls: int, call: Callable[[int], Awaitable[object]]) -> list[float]:
    """Return the duration of each call, in microseconds."""
    durations = []
    for index in range(calls):
        began = time.perf_counter_ns()
        await call(index)
        durations.append((time.perf_counter_ns() - began) / 1000)
    return durations


def report(name: str, durations: list[float]) -> None:
    ordered = sorted(durations)
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    print(
        f"{name:<48} median {statistics.median(ordered):8.1f} µs"
        f"   p99 {p99:8.1f} µs   ({len(ordered)} calls)"
    )


async def bench(store: Store, calls: int) -> None:
    execution = big_execution()
    await store.save_execution(execution)
    last = execution.task_runs[-1]
    # Two versions of the last task run, alternated, so every save really changes a row.
    variants = [
        replace(last, state=trail(State.CREATED, State.RUNNING), attempts=()),
        replace(last, state=trail(State.CREATED, State.RUNNING, State.SUCCESS)),
    ]
    saves = [(execution.with_task_run(run), [run]) for run in variants]

    async def save(index: int) -> None:
        updated, changed = saves[index % 2]
        await store.save_execution(updated, changed)

    async def log(index: int) -> None:
        await store.append_logs([one_log(execution, index)])

    async def read(index: int) -> None:
        await store.get_execution(execution.id)

    report(f"save_execution, 1 of {TASK_RUNS} task runs changed", await per_call(calls, save))
    report("append_logs, 1 entry", await per_call(calls, log))
    report(f"get_execution, {TASK_RUNS} task runs", await per_call(max(calls // 20, 10), read))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=5000, help="calls per measure")
    parser.add_argument("--database-url", help="a scratch database (default: a SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        if args.database_url:
            store = await open_store(args.database_url)
        else:
            store = SqliteStore.open(Path(home) / "lanner.db")
        try:
            await bench(store, args.repeat)
        finally:
            await store.close()


if __name__ == "__main__":
    asyncio.run(main())
