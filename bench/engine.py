"""Engine benchmarks of the foundation: per-task overhead, and a ForEach of HTTP GETs.

Usage: .venv/bin/python -m bench.engine [--repeat N]

(a) 100 sequential Return tasks on SQLite: wall time from submit to end, divided by 100.
(b) ForEach of 200 GETs (concurrencyLimit 20) against a local server, divided by a plain httpx
    asyncio loop doing the same 200 requests 20 at a time, measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from bench.localserver import local_server
from lanner.flow_parser import parse_flow
from lanner.runner import Runner
from lanner.settings import Settings
from lanner.states import State
from lanner.store import open_store

SEQUENTIAL_TASKS = 100
REQUESTS = 200
CONCURRENCY = 20


def sequential_flow(count: int) -> str:
    tasks = "\n".join(
        f"  - id: t{i}\n    type: io.kestra.plugin.core.debug.Return\n"
        '    format: "{{ task.id }}"'
        for i in range(count)
    )
    return f"id: sequential\nnamespace: bench\ntasks:\n{tasks}\n"


def foreach_flow(url: str) -> str:
    values = ", ".join(f'"{i}"' for i in range(REQUESTS))
    return f"""id: foreach_http
namespace: bench
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: [{values}]
    concurrencyLimit: {CONCURRENCY}
    tasks:
      - id: get
        type: io.kestra.plugin.core.http.Request
        uri: "{url}/item/{{{{ taskrun.value }}}}"
"""


async def run_flow(home: Path, source: str) -> float:
    settings = Settings.load(home=home)
    home.mkdir(parents=True, exist_ok=True)
    store = await open_store(settings.database_url)
    try:
        flow = parse_flow(source)
        record = await store.save_flow(flow.namespace, flow.id, source)
        async with Runner(settings, store) as runner:
            started = time.perf_counter()
            execution = await runner.submit(flow, record.revision)
            done = await runner.wait(execution.id)
            elapsed = time.perf_counter() - started
        if done.current is not State.SUCCESS:
            raise SystemExit(f"benchmark flow ended {done.current.value}")
        return elapsed
    finally:
        await store.close()


async def plain_httpx(url: str) -> float:
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(limits=limits) as client:
        slots = asyncio.Semaphore(CONCURRENCY)

        async def one(i: int) -> None:
            async with slots:
                response = await client.get(f"{url}/item/{i}")
                response.read()

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(REQUESTS)))
        return time.perf_counter() - started


async def main(repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        overheads = []
        for i in range(repeat):
            elapsed = await run_flow(base / f"seq{i}", sequential_flow(SEQUENTIAL_TASKS))
            overheads.append(elapsed / SEQUENTIAL_TASKS * 1000)
        print(
            f"(a) {SEQUENTIAL_TASKS} sequential Return tasks on SQLite: "
            f"median {statistics.median(overheads):.2f} ms/task "
            f"(runs: {', '.join(f'{o:.2f}' for o in overheads)}) — target <= 3 ms"
        )
        with local_server() as url:
            await plain_httpx(url)  # warm up the server
            ratios = []
            for i in range(repeat):
                engine = await run_flow(base / f"http{i}", foreach_flow(url))
                plain = await plain_httpx(url)
                ratios.append(engine / plain)
                print(f"    run {i}: lanner {engine:.3f}s, plain httpx {plain:.3f}s")
            print(
                f"(b) ForEach of {REQUESTS} GETs, {CONCURRENCY} at a time: median ratio "
                f"{statistics.median(ratios):.2f} (lanner / plain httpx) — target <= 2.0"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    asyncio.run(main(parser.parse_args().repeat))
