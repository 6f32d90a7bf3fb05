"""Compare two trees of lanner on one benchmark, alternating runs in fresh processes.

Usage: .venv/bin/python -m bench.compare BASE {windmill,fanout} [--repeat N]

BASE is another tree holding `src/` and `bench/` (say `git archive <commit> src bench | tar -x
-C /tmp/base`); the other tree is this one. Each run is a fresh interpreter importing lanner
from its tree, and the two trees take turns, so that the machine's load weighs on both alike.

* `windmill`: wall time of 40 sequential `Return` tasks, as in `bench.windmill` (a).
* `fanout`: the ForEach of 1000 GETs of `bench.http_bench` (a), divided by the plain httpx
  loop run right after it in the same process.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]

_WINDMILL = """
import asyncio, tempfile
from pathlib import Path
from bench.engine import run_flow, sequential_flow

async def main():
    with tempfile.TemporaryDirectory() as tmp:
        await run_flow(Path(tmp) / "warm", sequential_flow(40))
        print(await run_flow(Path(tmp) / "run", sequential_flow(40)))

asyncio.run(main())
"""

_FANOUT = """
import asyncio, tempfile
from pathlib import Path
import bench.http_bench as http
from bench.engine import run_flow
from bench.localserver import local_server

async def main():
    with tempfile.TemporaryDirectory() as tmp, local_server() as url:
        await http.plain_httpx(url)  # warm up the server
        engine = await run_flow(Path(tmp) / "run", http.foreach_flow(url))
        print(engine / await http.plain_httpx(url))

asyncio.run(main())
"""


def run_once(tree: Path, code: str) -> float:
    """Run `code` in a fresh interpreter importing lanner from `tree`; return what it prints."""
    env = {"PYTHONPATH": f"{tree / 'src'}:{tree}", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tree, capture_output=True, text=True, check=True
    )
    return float(done.stdout.split()[-1])


def main(base: Path, kind: str, repeat: int) -> None:
    code = _WINDMILL if kind == "windmill" else _FANOUT
    trees = {"before": base.resolve(), "after": HERE}
    results: dict[str, list[float]] = {name: [] for name in trees}
    for i in range(repeat):
        for name, tree in trees.items():
            results[name].append(run_once(tree, code))
            print(f"    run {i} {name}: {results[name][-1]:.3f}", flush=True)
    unit = "s" if kind == "windmill" else "(ratio to plain httpx)"
    for name, values in results.items():
        print(
            f"{kind} {name}: median {statistics.median(values):.3f} {unit} "
            f"({min(values):.3f}-{max(values):.3f} over {repeat} runs)"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("base", type=Path)
    parser.add_argument("kind", choices=["windmill", "fanout"])
    parser.add_argument("--repeat", type=int, default=5)
    arguments = parser.parse_args()
    main(arguments.base, arguments.kind, arguments.repeat)
