"""CPU of a worker's calls to the PostgreSQL queue, per job.

Usage: .venv/bin/python -m bench.queue_calls [--jobs N] [--rounds R]

On a fresh database of the machine's PostgreSQL (LANNER_TEST_POSTGRES_URL, default
postgres@127.0.0.1:5432), N times: queue one job, take it (`PostgresQueue.take`), then report
its result with one log line (`PostgresQueue.finish_all`), as a worker that finishes one job at
a time does. Printed per round: the process CPU milliseconds of each call (`process_time`: the
server is other processes, so only the client's side counts), and their medians.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from tests import postgres

from lanner.clock import utcnow
from lanner.executions import Level, LogEntry
from lanner.jobs import WorkerResult
from lanner.queue import JobTicket, PostgresQueue
from lanner.states import State
from lanner.store import PostgresStore


async def one_round(queue: PostgresQueue, round_: int, jobs: int) -> tuple[float, float]:
    """Take and report `jobs` jobs one by one; return the CPU ms per take and per report."""
    taking = reporting = 0.0
    for index in range(jobs):
        run = f"run-{round_}-{index}"
        await queue.enqueue([JobTicket("ex1", run, 1, 1, None)])
        started = time.process_time()
        [ticket] = await queue.take("w1", 1)
        taken = time.process_time()
        now = utcnow()
        line = LogEntry("ns", "f", "ex1", now, Level.INFO, "hello", "t", run, 1)
        result = WorkerResult("ex1", run, State.SUCCESS, now, now, {"n": 1})
        await queue.finish_all("w1", [(ticket, result)], logs=[line])
        taking += taken - started
        reporting += time.process_time() - taken
    async with queue.claim("ex1"):
        pass  # consumes the round's result events
    return 1000 * taking / jobs, 1000 * reporting / jobs


async def main(url: str, jobs: int, rounds: int) -> None:
    await (await PostgresStore.open(url)).close()  # the store's migrations make the tables
    queue = await PostgresQueue.open(url, lease=30)
    takes: list[float] = []
    reports: list[float] = []
    try:
        for round_ in range(1, rounds + 1):
            take, report = await one_round(queue, round_, jobs)
            takes.append(take)
            reports.append(report)
            print(f"round {round_}: take {take:.3f} ms, finish_all {report:.3f} ms", flush=True)
    finally:
        await queue.close()
    print(
        f"median of {rounds} rounds of {jobs} jobs: take {statistics.median(takes):.3f} ms,"
        f" finish_all {statistics.median(reports):.3f} ms CPU per call"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with postgres.database("lanner_bench_queue") as database_url:
        asyncio.run(main(database_url, args.jobs, args.rounds))
