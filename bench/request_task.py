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
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Cpu:
    """Process CPU seconds: `total` (time.process_time), of which `system` in the kernel."""

    total: float
    system: float

    def per(self, count: int) -> Cpu:
        """The same in milliseconds per item."""
        return Cpu(self.total * 1000 / count, self.system * 1000 / count)


async def _cpu(work: Awaitable[None]) -> Cpu:
    # The kernel's share (file system calls: a folder and a file per HAR) is shown apart: it
    # varies the most on a shared machine.
    started, times = time.process_time(), os.times()
    await work
    return Cpu(time.process_time() - started, os.times().system - times.system)


async def task_runs(home: Path, url: str, count: int) -> Cpu:
    """Run `count` Request task runs through a Worker; return the CPU they took."""
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
        return await _cpu(_limited(count, one))


async def plain_httpx(url: str, count: int) -> Cpu:
    """Do the same GETs with a bare AsyncClient; return the CPU they took."""
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(limits=limits) as client:

        async def one(i: int) -> None:
            response = await client.get(f"{url}/item/{i}")
            response.read()

        await one(-1)
        return await _cpu(_limited(count, one))


async def main(count: int, repeat: int, with_httpx: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp, local_server(delay=0) as url:
        await plain_httpx(url, 100)  # warm up the server
        lanner_ms: list[float] = []
        plain_ms: list[float] = []
        for i in range(repeat):
            lanner = (await task_runs(Path(tmp) / f"round{i}", url, count)).per(count)
            line = f"round {i}: task run {lanner.total:.3f} ms CPU ({lanner.system:.3f} system)"
            lanner_ms.append(lanner.total)
            if with_httpx:
                plain = (await plain_httpx(url, count)).per(count)
                plain_ms.append(plain.total)
                line += (
                    f", plain GET {plain.total:.3f} ms CPU ({plain.system:.3f} system), "
                    f"ratio {lanner.total / plain.total:.2f}"
                )
            print(line, flush=True)
        summary = f"median over {repeat} rounds of {count}: task run "
        summary += f"{statistics.median(lanner_ms):.3f} ms CPU"
        if with_httpx:
            ratios = [a / b for a, b in zip(lanner_ms, plain_ms, strict=True)]
            summary += (
                f", plain GET {statistics.median(plain_ms):.3f} ms CPU, "
                f"ratio {statistics.median(ratios):.2f}"
            )
        print(summary)


async def profiled(count: int, target: str) -> None:
    with tempfile.TemporaryDirectory() as tmp, local_server(delay=0) as url:
        await task_runs(Path(tmp) / "warm", url, 50)
        profiler = cProfile.Profile()
        profiler.enable()
        cpu = (await task_runs(Path(tmp) / "profiled", url, count)).per(count)
        profiler.disable()
        profiler.dump_stats(target)
        print(f"{cpu.total:.3f} ms CPU per task run (under cProfile) -> {target}")


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
