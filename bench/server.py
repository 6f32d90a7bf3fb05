"""Server benchmarks: Kestra's Benchmark 1 shape, and listing executions out of 100,000.

Usage: .venv/bin/python -m bench.server [--rates 250,1000,3000,6000] [--seconds 20]
       .venv/bin/python -m bench.server --listing

Benchmark 1: a flow with a Webhook trigger, then OutputValues and Log. A load generator in its
own process calls the webhook at a fixed rate (open loop: it never waits for the server before
sending the next call); latency is from sending the call to the execution's end date as stored.
Listing: 100,000 executions stored, then `GET /executions/search?size=50` timed 200 times.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import httpx

from lanner.clock import parse_instant

FLOW = """id: benchmark1
namespace: bench
triggers:
  - id: hook
    type: io.kestra.plugin.core.trigger.Webhook
    key: bench-key
tasks:
  - id: output
    type: io.kestra.plugin.core.output.OutputValues
    values:
      received: "{{ trigger.body }}"
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "{{ outputs.output.values.received }}"
"""
API = "/api/v1/main"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def lanner_server(home: Path) -> Iterator[str]:
    """Run `lanner server local` in its own process; yield its base URL."""
    port = free_port()
    env = {**os.environ, "LANNER_HOME": str(home)}
    process = subprocess.Popen(
        [sys.executable, "-m", "lanner", "server", "local", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/health", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)


async def drive(url: str, rate_per_minute: int, seconds: float) -> list[float]:
    """Call the webhook at a fixed rate; return each execution's latency in seconds."""
    interval = 60.0 / rate_per_minute
    count = int(seconds / interval)
    sent: dict[str, float] = {}
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
        hook = f"{API}/executions/webhook/bench/benchmark1/bench-key"

        async def call(i: int) -> None:
            started = time.time()
            response = await client.post(hook, json={"i": i})
            sent[response.json()["id"]] = started

        start = time.monotonic()
        calls = []
        for i in range(count):
            delay = start + i * interval - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            calls.append(asyncio.create_task(call(i)))
        await asyncio.gather(*calls)
        return await latencies(client, sent)


async def latencies(client: httpx.AsyncClient, sent: dict[str, float]) -> list[float]:
    """Wait for every execution to end; return end date minus send time."""
    result: list[float] = []
    for execution_id, started in sent.items():
        for _ in range(600):
            body = (await client.get(f"{API}/executions/{execution_id}")).json()
            end = body["state"].get("endDate")
            if end and body["state"]["current"] == "SUCCESS":
                result.append(parse_instant(end).timestamp() - started)
                break
            await asyncio.sleep(0.1)
        else:
            raise SystemExit(f"execution {execution_id} did not end in SUCCESS")
    return result


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


async def benchmark1(rates: list[int], seconds: float) -> None:
    for rate in rates:
        with tempfile.TemporaryDirectory() as home, lanner_server(Path(home)) as url:
            httpx.post(
                f"{url}{API}/flows", content=FLOW, headers={"Content-Type": "application/x-yaml"}
            ).raise_for_status()
            values = await drive(url, rate, seconds)
            print(
                f"Benchmark 1 at {rate:>5}/min for {seconds:.0f}s: {len(values)} executions, "
                f"median {statistics.median(values) * 1000:.0f} ms, "
                f"p95 {p95(values) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms",
                flush=True,
            )


async def listing(total: int = 100_000) -> None:
    from lanner.executions import Execution, TaskRun
    from lanner.states import State
    from lanner.store import open_store

    with tempfile.TemporaryDirectory() as home:
        store = await open_store(f"sqlite:///{Path(home) / 'lanner.db'}")
        try:
            for i in range(total):
                # Shaped like a Benchmark 1 execution: two task runs with outputs.
                execution = Execution.create("bench", f"flow{i % 20}", 1).with_state(State.RUNNING)
                for task_id in ("output", "log"):
                    run = TaskRun.create(execution, task_id).with_state(State.SUCCESS)
                    outputs = {"values": {"received": {"i": i}}} if task_id == "output" else None
                    execution = execution.with_task_run(replace(run, outputs=outputs))
                await store.save_execution(execution.with_state(State.SUCCESS))
        finally:
            await store.close()
        with lanner_server(Path(home)) as url, httpx.Client(base_url=url) as client:
            timings = []
            for _ in range(200):
                started = time.perf_counter()
                response = client.get(f"{API}/executions/search", params={"size": 50})
                timings.append(time.perf_counter() - started)
                response.raise_for_status()
            body = response.json()
            print(
                f"Listing 50 of {body['total']} executions: median "
                f"{statistics.median(timings) * 1000:.1f} ms, p95 {p95(timings) * 1000:.1f} ms"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rates", default="250,1000,3000,6000")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--listing", action="store_true", help="run the listing benchmark")
    args = parser.parse_args()
    if args.listing:
        asyncio.run(listing())
    else:
        rates = [int(rate) for rate in args.rates.split(",")]
        asyncio.run(benchmark1(rates, args.seconds))


if __name__ == "__main__":
    main()
