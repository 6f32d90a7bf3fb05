"""CPU of one Request task run in the worker, against a plain httpx loop doing the same GETs.

Usage: .venv/bin/python -m bench.request_task [--count N] [--repeat R] [--profile FILE]

N (default 2000) `io.kestra.plugin.core.http.Request` GETs, 8 at a time, each run as the
worker runs a job (`Worker.run`: its RunContext, the task's `run`, the HAR file written to a
local storage in a temporary folder, outputs and metrics), against `bench.localserver` with no
delay. In the same round, a plain httpx AsyncClient loop does the same N GETs 8 at a time.
Reported per round: process CPU milliseconds per task run (`time.process_time`, the server is
another process so it is not counted), the same for a plain GET, and their ratio. Rounds
alternate lanner and httpx, so both see the same load on a shared machine.

`--profile FILE` runs one round of task runs only, under cProfile, and writes its stats;
`--tasks-only` skips the httpx loop, to run the task runs alone under an outside profiler
(`py-spy record --gil -f raw -- python -m bench.request_task --tasks-only`).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from bench.localserver import local_server
from lanner.executions import Execution, LogEntry, TaskRun
from lanner.flows import Flow
from lanner.httpclient import ClientPool
from lanner.jobs import WorkerJob
from lanner.settings import Settings
from lanner.states import State
from lanner.storage import LocalStorage
from lanner.tasks.base import RunnableTask
from lanner.worker import Worker

CONCURRENCY = 8
REQUEST = "io.kestra.plugin.core.http.Request"


def _flow(url: str) -> Flow:
    return Flow.model_validate(
        {
            "id": "requests",
            "namespace": "bench",
            "tasks": [{"id": "get", "type": REQUEST, "uri": f"{url}/item/{{{{ taskrun.value }}}}"}],
        }
    )


def _discard(entry: LogEntry) -> None:
    pass


async def _limited(count: int, one: Callable[[int], Awaitable[None]]) -> None:
    """Run `one(i)` for every i, CONCURRENCY at a time."""
    slots = asyncio.Semaphore(CONCURRENCY)

    async def limited(i: int) -> None:
        async with slots:
            await one(i)

    await asyncio.gather(*(limited(i) for i in range(count)))


async def task_runs(home: Path, url: str, count: int) -> float:
    """Run `count` Request task runs through a Worker; return the CPU seconds they took."""
    flow = _flow(url)
    task = flow.tasks[0]
    assert isinstance(task, RunnableTask)
    execution = Execution.create(flow.namespace, flow.id, 1)
    settings = Settings.load(home=home, environ={})
    async with ClientPool() as pool:
        worker = Worker(
            settings, LocalStorage(home / "storage"), _discard, lambda job: flow, http=pool
        )

        async def one(i: int) -> None:
            run = TaskRun.create(execution, task.id, value=str(i))
            result = await worker.run(WorkerJob(execution, run, task))
            if result.state is not State.SUCCESS:
                raise RuntimeError(f"task run {i} ended {result.state}")

        await one(-1)  # opens the pool's client and its first connection
        started = time.process_time()
        await _limited(count, one)
        return time.process_time() - started


async def plain_httpx(url: str, count: int) -> float:
    """Do the same GETs with a bare AsyncClient; return the CPU seconds they took."""
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(limits=limits) as client:

        async def one(i: int) -> None:
            response = await client.get(f"{url}/item/{i}")
            response.read()

        await one(-1)
        started = time.process_time()
        await _limited(count, one)
        return time.process_time() - started


async def main(count: int, repeat: int, with_httpx: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp, local_server(delay=0) as url:
        await plain_httpx(url, 100)  # warm up the server
        if not with_httpx:
            for i in range(repeat):
                lanner = await task_runs(Path(tmp) / f"round{i}", url, count) * 1000 / count
                print(f"round {i}: task run {lanner:.3f} ms CPU", flush=True)
            return
        lanner_ms: list[float] = []
        plain_ms: list[float] = []
        for i in range(repeat):
            lanner = await task_runs(Path(tmp) / f"round{i}", url, count) * 1000 / count
            plain = await plain_httpx(url, count) * 1000 / count
            lanner_ms.append(lanner)
            plain_ms.append(plain)
            print(
                f"round {i}: task run {lanner:.3f} ms CPU, plain GET {plain:.3f} ms CPU, "
                f"ratio {lanner / plain:.2f}",
                flush=True,
            )
        ratios = [a / b for a, b in zip(lanner_ms, plain_ms, strict=True)]
        print(
            f"median over {repeat} rounds of {count}: task run "
            f"{statistics.median(lanner_ms):.3f} ms CPU, plain GET "
            f"{statistics.median(plain_ms):.3f} ms CPU, ratio {statistics.median(ratios):.2f}"
        )


async def profiled(count: int, target: str) -> None:
    with tempfile.TemporaryDirectory() as tmp, local_server(delay=0) as url:
        await task_runs(Path(tmp) / "warm", url, 50)
        profiler = cProfile.Profile()
        profiler.enable()
        seconds = await task_runs(Path(tmp) / "profiled", url, count)
        profiler.disable()
        profiler.dump_stats(target)
        print(f"{seconds * 1000 / count:.3f} ms CPU per task run (under cProfile) -> {target}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", metavar="FILE")
    parser.add_argument("--tasks-only", action="store_true")
    args = parser.parse_args()
    if args.profile:
        asyncio.run(profiled(args.count, args.profile))
    else:
        asyncio.run(main(args.count, args.repeat, not args.tasks_only))
