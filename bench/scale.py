"""Scale-out benchmark: the same work on 1, 2 and 4 worker processes over PostgreSQL.

Usage: .venv/bin/python -m bench.scale [--executions N] [--requests N] [--workers 1,2,4]
       [--concurrency C] [--cases benchmark1,http] [--repeat R]

(1) Kestra's Benchmark 1 shape: N executions (default 100) of a flow with a Return, a Log and a
    ForEach of 3 Returns, submitted through the REST API of a webserver process; one executor.
(2) One execution of a ForEach of 2000 HTTP GETs (concurrencyLimit 0) to a local server that
    answers after 50 ms.
Each case runs on a fresh database with 1, 2 and 4 `lanner server worker --concurrency C`
processes; the figures are medians of wall times, their ratio to one worker, and for the HTTP
case the floor the workers' slots allow (requests x 50 ms / (workers x C)). C is 8 by default,
Kestra's default of four worker threads per core on a two-core machine. Every process shares
one machine here: the line "CPUs busy" says how close a run came to being bound by its CPUs
rather than by the waiting it is meant to measure.
The line "CPU per task run" splits the CPU time of the run (user and kernel, from /proc) by
process: the worker processes together, the executor, the webserver and every PostgreSQL
server process of the machine, divided by the task runs of the case; "rest of the machine" is
what the CPUs spent besides them (the test server, this script, the kernel's own work).
The PostgreSQL server is LANNER_TEST_POSTGRES_URL (default postgres@127.0.0.1:5432).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psycopg
from tests.integration.cluster import Cluster, cluster, count_states

from bench.localserver import local_server

BENCHMARK_1 = """id: bench1
namespace: bench
tasks:
  - id: ret
    type: io.kestra.plugin.core.debug.Return
    format: "{{ execution.id }}"
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "{{ outputs.ret.value }}"
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: [1, 2, 3]
    tasks:
      - id: inner
        type: io.kestra.plugin.core.debug.Return
        format: "{{ taskrun.value }}"
"""


def http_flow(url: str, requests: int) -> str:
    values = ", ".join(str(i) for i in range(requests))
    return f"""id: bench_http
namespace: bench
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: [{values}]
    concurrencyLimit: 0
    tasks:
      - id: get
        type: io.kestra.plugin.core.http.Request
        uri: {url}/{{{{ taskrun.value }}}}
"""


def run_case(
    workers: int,
    source: str,
    flow_id: str,
    executions: int,
    concurrency: int,
    task_runs: int,
    runs: Path,
) -> float:
    """Start a deployment, submit `executions` of a flow, return seconds until all ended.

    Also prints how busy the machine's CPUs were meanwhile (every process, PostgreSQL and the
    test server included): at 100% the case measures the CPU, not the waiting; and the CPU
    each kind of process spent per task run (`task_runs` in all).
    """
    # `runs` is removed at the end of the benchmark, not each run's folder at the end of the
    # run: removing thousands of files makes the next run's file creations slower on some file
    # systems (ext4 without a journal looks past recently removed inodes).
    home = Path(tempfile.mkdtemp(dir=runs))
    with cluster(home, lease=30.0) as c:
        c.start("webserver", "webserver")
        c.wait_for_api()
        c.start("executor", "executor")
        for index in range(workers):
            c.start(f"worker{index}", "worker", "--concurrency", str(concurrency))
        headers = {"Content-Type": "application/x-yaml"}
        httpx.post(f"{c.api}/flows", content=source, headers=headers, timeout=30)
        started = time.perf_counter()
        cpu_before = _cpu_times()
        spent_before = _spent_by_role(c)
        with httpx.Client(timeout=60) as client:
            for _ in range(executions):
                client.post(f"{c.api}/executions/bench/{flow_id}").raise_for_status()
        _wait(c, executions)
        elapsed = time.perf_counter() - started
        busy, total = (
            after - before for after, before in zip(_cpu_times(), cpu_before, strict=True)
        )
        spent = {
            role: seconds - spent_before.get(role, 0.0)
            for role, seconds in _spent_by_role(c).items()
        }
        print(f"  {workers} worker(s): CPUs busy {100 * busy / max(total, 1):.0f}% of the time")
        # What the machine spent besides lanner's processes and PostgreSQL: the test server,
        # this script, the kernel's own work (loopback TCP) and anything else running.
        spent["rest of the machine"] = max(0.0, busy / _TICKS - sum(spent.values()))
        print(
            "    CPU per task run: "
            + ", ".join(f"{role} {1000 * sec / task_runs:.2f} ms" for role, sec in spent.items())
        )
        c.stop()
        return elapsed


def _cpu_times() -> tuple[int, int]:
    """Return (busy, total) clock ticks of every CPU since boot, from /proc/stat."""
    with open("/proc/stat") as stat:
        ticks = [int(field) for field in stat.readline().split()[1:]]
    idle = ticks[3] + ticks[4]  # idle and iowait
    return sum(ticks) - idle, sum(ticks)


_TICKS = os.sysconf("SC_CLK_TCK")


def _process_seconds(pid: int) -> float:
    """Return the CPU seconds (user and kernel) a process spent so far; 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _postgres_pids() -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as comm:
                    if comm.read().startswith("postgres"):
                        found.append(int(entry))
            except OSError:
                continue
    return found


def _spent_by_role(c: Cluster) -> dict[str, float]:
    """CPU seconds so far of the workers together, the executor, the webserver, PostgreSQL."""
    spent = {"workers": 0.0, "executor": 0.0, "webserver": 0.0}
    for name, process in c.processes.items():
        role = "workers" if name.startswith("worker") else name
        spent[role] = spent.get(role, 0.0) + _process_seconds(process.pid)
    spent["PostgreSQL"] = sum(_process_seconds(pid) for pid in _postgres_pids())
    return spent


def _wait(c: Cluster, executions: int) -> None:
    """Return once `executions` ended, looking every 20 ms (on one connection, so that the
    looking costs the database little): the wall times are this fine."""
    with psycopg.connect(c.database_url, autocommit=True) as db:
        while True:
            states = count_states(db)
            ended = sum(n for s, n in states.items() if s in ("SUCCESS", "FAILED", "KILLED"))
            if ended >= executions:
                if states.get("SUCCESS", 0) != executions:
                    raise RuntimeError(f"executions did not all succeed: {states}")
                return
            time.sleep(0.02)


def report(
    name: str,
    case: Callable[[int], float],
    counts: list[int],
    repeat: int,
    floor: Callable[[int], float] | None = None,
) -> None:
    """Run each worker count `repeat` times, in rounds; print the medians and their ratios.

    Rounds (1, 2, 4 workers, then again) rather than one count at a time: a slow spell of a
    shared machine then weighs on every count alike.
    """
    runs: dict[int, list[float]] = {workers: [] for workers in counts}
    for _ in range(repeat):
        for workers in counts:
            runs[workers].append(case(workers))
    timings = {workers: statistics.median(seconds) for workers, seconds in runs.items()}
    base = timings[counts[0]]
    for workers, seconds in timings.items():
        limit = f"  floor {floor(workers):6.2f} s" if floor is not None else ""
        each = ", ".join(f"{value:.2f}" for value in runs[workers])
        print(
            f"{name}: {workers} worker(s) median {seconds:7.2f} s ({each})"
            f"  speed-up x{base / seconds:.2f}{limit}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executions", type=int, default=100)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--concurrency", type=int, default=8, help="task runs per worker")
    parser.add_argument("--cases", default="benchmark1,http", help="benchmark1, http or both")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each worker count")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    runs = Path(tempfile.mkdtemp(prefix="lanner-bench-scale-"))
    try:
        _run_cases(args, counts, runs)
    finally:
        shutil.rmtree(runs, ignore_errors=True)


def _run_cases(args: argparse.Namespace, counts: list[int], runs: Path) -> None:
    cases = set(args.cases.split(","))
    if "benchmark1" in cases:
        report(
            f"benchmark 1 ({args.executions} executions)",
            lambda w: run_case(
                w,
                BENCHMARK_1,
                "bench1",
                args.executions,
                args.concurrency,
                6 * args.executions,
                runs,
            ),
            counts,
            args.repeat,
        )
    if "http" in cases:
        with local_server(delay=0.05) as url:
            flow = http_flow(url, args.requests)
            report(
                f"ForEach of {args.requests} GETs (50 ms)",
                lambda w: run_case(
                    w, flow, "bench_http", 1, args.concurrency, args.requests + 1, runs
                ),
                counts,
                args.repeat,
                lambda w: args.requests * 0.05 / (w * args.concurrency),
            )


if __name__ == "__main__":
    main()
