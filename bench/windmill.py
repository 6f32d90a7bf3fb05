"""The Windmill benchmark shape: one flow of 40 sequential lightweight tasks.

Usage: .venv/bin/python -m bench.windmill [--repeat N] [--tasks N]

(a) 40 sequential `Return` tasks; (b) 40 sequential Python `Script` tasks, each computing
fibo(10) and printing it. Both run through the real engine on SQLite (the same Runner that
`lanner run` uses); the time is wall time from submit to the end of the execution. (b) is
compared with a plain loop of 40 `python -c` runs of the same code by the same interpreter
in the same run: starting a process is the floor no engine goes under.

Scripts run with this interpreter (`LANNER_PYTHON`, unless it is set already).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.engine import run_flow, sequential_flow

FIBO = "def fibo(n):\n    return n if n <= 1 else fibo(n - 1) + fibo(n - 2)\n\nprint(fibo(10))\n"


def python_flow(count: int) -> str:
    script = "".join(f"      {line}\n" for line in FIBO.splitlines())
    tasks = "".join(
        f"  - id: t{i}\n    type: io.kestra.plugin.scripts.python.Script\n    script: |\n{script}"
        for i in range(count)
    )
    return f"id: light_python\nnamespace: bench\ntasks:\n{tasks}"


def plain_loop(python: str, count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        subprocess.run([python, "-c", FIBO], check=True, capture_output=True)
    return time.perf_counter() - started


def summary(name: str, times: list[float], target: float) -> str:
    runs = ", ".join(f"{t:.3f}" for t in times)
    return f"{name}: median {statistics.median(times):.3f} s (runs: {runs}) — target < {target} s"


async def main(repeat: int, count: int) -> None:
    python = os.environ.setdefault("LANNER_PYTHON", sys.executable)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        returns = [await run_flow(base / f"r{i}", sequential_flow(count)) for i in range(repeat)]
        print(summary(f"(a) {count} Return tasks", returns, 0.15))
        scripts, plains = [], []
        for i in range(repeat):
            scripts.append(await run_flow(base / f"p{i}", python_flow(count)))
            plains.append(plain_loop(python, count))
        print(summary(f"(b) {count} Python Script tasks, fibo(10)", scripts, 4.0))
        print(summary(f"    plain loop of {count} `python -c` runs", plains, 4.0))
        ratios = [s / p for s, p in zip(scripts, plains, strict=True)]
        print(f"    ratio lanner / plain loop: median {statistics.median(ratios):.2f}")
        print(f"    interpreter: {python}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--tasks", type=int, default=40)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.repeat, arguments.tasks))
