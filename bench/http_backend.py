"""CPU cost of a request with httpx's own network backend and with lanner's asyncio backend.

Usage: .venv/bin/python -m bench.http_backend [--requests N] [--concurrency C] [--rounds R]

A plain loop of GETs (2000, 8 at a time, keep-alive) against a local server that answers each
one after 50 ms, in three ways, interleaved round by round:
  httpx          httpx.AsyncClient() as it comes (httpcore on anyio)
  httpx+asyncio  the same client with lanner.http_network.NetworkTransport: only the backend
                 differs
  ClientPool     the client lanner's HTTP tasks use (sharded pools on the asyncio backend)
Printed: process CPU time per request (the server runs in another process) and its ratio to
plain httpx, the median of the rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable, Coroutine
from typing import Any

import httpx

from bench.localserver import local_server
from lanner.http_network import NetworkTransport
from lanner.httpclient import ClientPool

ClientRun = Callable[[str, int, int], Coroutine[Any, Any, float]]


async def _loop(client: httpx.AsyncClient, url: str, requests: int, concurrency: int) -> float:
    """Send the GETs; return the CPU milliseconds per request."""
    slots = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with slots:
            response = await client.get(f"{url}/{i}")
            response.json()

    started = time.process_time()
    await asyncio.gather(*(one(i) for i in range(requests)))
    return 1000 * (time.process_time() - started) / requests


async def plain_httpx(url: str, requests: int, concurrency: int) -> float:
    async with httpx.AsyncClient() as client:
        return await _loop(client, url, requests, concurrency)


async def httpx_asyncio(url: str, requests: int, concurrency: int) -> float:
    transport = NetworkTransport(
        ssl_context=httpx.create_ssl_context(trust_env=False),
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
    )
    async with httpx.AsyncClient(transport=transport) as client:
        return await _loop(client, url, requests, concurrency)


async def client_pool(url: str, requests: int, concurrency: int) -> float:
    async with ClientPool() as pool:
        return await _loop(pool.get(), url, requests, concurrency)


VARIANTS: dict[str, ClientRun] = {
    "httpx": plain_httpx,
    "httpx+asyncio": httpx_asyncio,
    "ClientPool": client_pool,
}


def main(requests: int, concurrency: int, rounds: int) -> None:
    results: dict[str, list[float]] = {name: [] for name in VARIANTS}
    with local_server(delay=0.05) as url:
        for round_ in range(1, rounds + 1):
            for name, run in VARIANTS.items():
                cpu = asyncio.run(run(url, requests, concurrency))
                results[name].append(cpu)
                print(f"round {round_} {name:>14}: {cpu:.3f} ms CPU/request", flush=True)
    base = statistics.median(results["httpx"])
    print(f"median of {rounds} rounds, {requests} GETs {concurrency} at a time:")
    for name, values in results.items():
        cpu = statistics.median(values)
        print(f"  {name:>14}: {cpu:.3f} ms CPU/request  ({cpu / base:.2f}x httpx)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    main(args.requests, args.concurrency, args.rounds)
