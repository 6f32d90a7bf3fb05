"""HTTP task benchmarks: a wide ForEach of GETs, and a 1 GiB streamed Download.

Usage: .venv/bin/python -m bench.http_bench [--repeat N] [--size-mib M]

(a) A ForEach of 1000 `Request` GETs with `concurrencyLimit: 50`, run by the full engine on
    SQLite against a local keep-alive server, divided by a plain httpx asyncio loop doing the
    same 1000 requests 50 at a time, in the same run.
(b) A `Download` of a 1 GiB response streamed by a local server, run by the full engine in a
    child process, against a child process streaming the same response to a file with plain
    httpx: wall time of each and the peak RSS of the engine's process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench.engine import run_flow
from bench.localserver import local_server

REQUESTS = 1000
CONCURRENCY = 50
BLOCK = b"x" * (1024 * 1024)


def foreach_flow(url: str) -> str:
    values = ", ".join(f'"{i}"' for i in range(REQUESTS))
    return f"""id: foreach_http_wide
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


async def fan_out(base: Path, repeat: int) -> None:
    with local_server() as url:
        await plain_httpx(url)  # warm up the server
        ratios = []
        for i in range(repeat):
            engine = await run_flow(base / f"wide{i}", foreach_flow(url))
            plain = await plain_httpx(url)
            ratios.append(engine / plain)
            print(f"    run {i}: lanner {engine:.3f}s, plain httpx {plain:.3f}s")
        print(
            f"(a) ForEach of {REQUESTS} GETs, {CONCURRENCY} at a time: median ratio "
            f"{statistics.median(ratios):.2f} (lanner / plain httpx) — target <= 1.5"
        )


# -- (b) the big download ----------------------------------------------------------------------


def _stream_server(sock: socket.socket, size: int) -> None:
    """Answer every request with `size` bytes, in 1 MiB blocks, on keep-alive connections."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                head = f"HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n"
                writer.write(head.encode() + b"Content-Type: application/octet-stream\r\n\r\n")
                sent = 0
                while sent < size:
                    block = BLOCK[: min(len(BLOCK), size - sent)]
                    writer.write(block)
                    sent += len(block)
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, sock=sock)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


@contextmanager
def stream_server(size: int) -> Iterator[str]:
    sock = socket.create_server(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    process = multiprocessing.get_context("fork").Process(
        target=_stream_server, args=(sock, size), daemon=True
    )
    process.start()
    sock.close()
    try:
        yield f"http://127.0.0.1:{port}/big.bin"
    finally:
        process.terminate()
        process.join(5)


def download_flow(url: str) -> str:
    return f"""id: big_download
namespace: bench
tasks:
  - id: fetch
    type: io.kestra.plugin.core.http.Download
    uri: "{url}"
"""


async def child_lanner(url: str, home: str) -> float:
    return await run_flow(Path(home), download_flow(url))


async def child_httpx(url: str, home: str) -> float:
    target = Path(home) / "plain.bin"
    async with httpx.AsyncClient() as client:
        started = time.perf_counter()
        async with client.stream("GET", url) as response:
            with target.open("wb") as handle:
                async for chunk in response.aiter_bytes():
                    handle.write(chunk)
        return time.perf_counter() - started


def run_child(kind: str, url: str, home: Path) -> tuple[float, float]:
    """Run one download in a fresh process; return its seconds and peak RSS in MiB."""
    command = [sys.executable, "-m", "bench.http_bench", "--child", kind, url, str(home)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result = json.loads(output.strip().splitlines()[-1])
    return float(result["seconds"]), float(result["rss_mib"])


def big_download(base: Path, repeat: int, size: int) -> None:
    with stream_server(size) as url:
        ratios, peaks = [], []
        for i in range(repeat):
            engine, rss = run_child("lanner", url, base / f"dl{i}")
            plain, plain_rss = run_child("httpx", url, base / f"plain{i}")
            ratios.append(engine / plain)
            peaks.append(rss)
            mib = size / 1024**2
            print(
                f"    run {i}: lanner {engine:.2f}s ({mib / engine:.0f} MiB/s, peak RSS "
                f"{rss:.0f} MiB), plain httpx {plain:.2f}s ({mib / plain:.0f} MiB/s, "
                f"peak RSS {plain_rss:.0f} MiB)"
            )
            for leftover in (base / f"dl{i}", base / f"plain{i}"):
                subprocess.run(["rm", "-rf", str(leftover)], check=True)
        print(
            f"(b) Download of {size / 1024**3:.2f} GiB: median time ratio "
            f"{statistics.median(ratios):.2f} (target <= 1.5), highest peak RSS "
            f"{max(peaks):.0f} MiB (target < 150 MiB)"
        )


def child_main(kind: str, url: str, home: str) -> None:
    Path(home).mkdir(parents=True, exist_ok=True)
    runner = child_lanner if kind == "lanner" else child_httpx
    seconds = asyncio.run(runner(url, home))
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "rss_mib": rss_mib}))


async def main(repeat: int, size: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        await fan_out(Path(tmp), repeat)
        big_download(Path(tmp), repeat, size)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--child", nargs=3, metavar=("KIND", "URL", "HOME"))
    args = parser.parse_args()
    if args.child:
        child_main(*args.child)
    else:
        asyncio.run(main(args.repeat, args.size_mib * 1024**2))
