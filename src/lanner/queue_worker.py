"""The worker process: take jobs from the queue, run them with the Worker, report results.

Log lines go to the store in batches, always before the result that follows them. Results are
reported together too, by one reporter: those that end while a report is being written go in
the next one, so a busy worker writes one transaction per batch of results rather than one per
result, and a job's slot is free as soon as its result is handed over. A worker killed before
reporting a result loses it like a job in progress: the lease runs out and the job runs
again. While jobs run, heartbeats extend their leases; when idle, the process only waits for a
notice. On stop, running jobs get a grace period, then are cancelled and handed back to run
again elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import socket
from collections import deque
from collections.abc import Mapping

from lanner.clock import utcnow
from lanner.context import error_logs_function
from lanner.executions import LogEntry
from lanner.expressions import Function
from lanner.flows import Flow
from lanner.job_loader import JobLoader, LoadedJob
from lanner.jobs import WorkerJob, WorkerResult
from lanner.queue import JobTicket, Queue
from lanner.settings import Settings
from lanner.states import State
from lanner.storage import Storage
from lanner.store import Store
from lanner.worker import Worker

__all__ = ["REPORT_INTERVAL_S", "QueueWorker"]

_LOG_FLUSH_S = 0.25
_REPORT_RETRY_S = 1.0
# While other jobs still run, a worker sends at most one report in this time: results that end
# meanwhile go together, one statement and one wake-up of the executors for many rather than
# one each. A worker's last running job reports at once: a flow whose tasks run one after
# another is not slowed.
REPORT_INTERVAL_S = 0.05
_MAX_PREFETCH = 64
_LOG = logging.getLogger(__name__)


class QueueWorker:
    """Run queued jobs, `concurrency` at a time, until stopped."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        queue: Queue,
        storage: Storage,
        *,
        concurrency: int,
        lease: float,
        report_interval: float = REPORT_INTERVAL_S,
    ) -> None:
        self.store = store
        self.queue = queue
        self.concurrency = concurrency
        self.lease = lease
        self.report_interval = report_interval
        self.id = f"{socket.gethostname()}-{secrets.token_hex(4)}"
        self.loader = JobLoader(store)
        self.worker = Worker(
            settings,
            storage,
            self._on_log,
            self._flow_of,
            extra_functions=self._functions_of,
            kv=store.kv,
        )
        self._running: dict[str, tuple[JobTicket, asyncio.Task[None]]] = {}
        # Jobs leased ahead of a free slot: a job that ends starts the next one at once, and
        # jobs are taken a batch at a time rather than one transaction per ended job. Their
        # leases are extended like those of running jobs.
        self.prefetch = min(concurrency, _MAX_PREFETCH)
        self._ready: deque[JobTicket] = deque()
        self._loaded: dict[str, LoadedJob] = {}
        self._handing_back: set[str] = set()
        self._freed = asyncio.Event()
        self._busy = asyncio.Event()
        self._pending_logs: list[LogEntry] = []
        # Lines logged, and lines taken to be stored, since the start: see _flush_periodically.
        self._lines_logged = 0
        self._lines_taken = 0
        self._flush_lock = asyncio.Lock()
        self._reports: list[tuple[JobTicket, WorkerResult]] = []
        self._reports_waiting = asyncio.Event()
        self._report_lock = asyncio.Lock()
        # One transaction per report rather than two, when the queue can also store log lines;
        # it stores the results' metrics too, which the executor then never handles.
        self._logs_with_results = queue.shares_database(store)
        queue.on_cancel(self._cancel)

    def holding(self) -> tuple[int, int]:
        """Return how many jobs run, and how many are leased ahead of a free slot."""
        return len(self._running), len(self._ready)

    async def run(self) -> None:
        """Take and run jobs until cancelled (see `stop` for a graceful end)."""
        helpers = [
            asyncio.create_task(self._heartbeats(), name="lanner-heartbeats"),
            asyncio.create_task(self._flush_periodically(), name="lanner-worker-logs"),
            asyncio.create_task(self._report_continually(), name="lanner-worker-reports"),
        ]
        try:
            await self._take_jobs()
        finally:
            for helper in helpers:
                helper.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)

    async def _take_jobs(self) -> None:
        while True:
            self._start_ready()
            room = self.concurrency + self.prefetch - len(self._running) - len(self._ready)
            if room > 0 and len(self._ready) <= self.prefetch // 2:
                tickets = await self.queue.take(self.id, room)
                self._ready.extend(tickets)
                self._start_ready()
                if tickets:
                    continue
                if len(self._running) < self.concurrency:
                    await self.queue.wait_for_jobs(None)  # a slot is free and nothing queued
                    continue
            await self._freed.wait()
            self._freed.clear()

    def _start_ready(self) -> None:
        while self._ready and len(self._running) < self.concurrency:
            self._start(self._ready.popleft())

    async def stop(self, grace: float) -> None:
        """Let running jobs finish for `grace` seconds, then hand the others back."""
        waiting, self._ready = list(self._ready), deque()
        await self.queue.hand_back(self.id, waiting)  # not started: another worker takes them
        running = [task for _, task in self._running.values()]
        if running:
            await asyncio.wait(running, timeout=grace)
        left = list(self._running.values())
        for ticket, task in left:
            self._handing_back.add(ticket.task_run_id)
            task.cancel()
        await asyncio.gather(*(task for _, task in left), return_exceptions=True)
        await self._send_reports()
        await self._flush_logs()
        await self.queue.hand_back(self.id, [ticket for ticket, _ in left])
        await self.worker.aclose()

    def _start(self, ticket: JobTicket) -> None:
        task = asyncio.create_task(self._work(ticket), name=f"task-run-{ticket.task_run_id}")
        self._running[ticket.task_run_id] = (ticket, task)
        self._busy.set()
        task.add_done_callback(lambda _: self._done(ticket))

    def _done(self, ticket: JobTicket) -> None:
        self._running.pop(ticket.task_run_id, None)
        self._loaded.pop(ticket.task_run_id, None)
        self._freed.set()
        if not self._running:
            self._busy.clear()

    async def _work(self, ticket: JobTicket) -> None:
        try:
            result = await self._run(ticket)
        except asyncio.CancelledError:
            if ticket.task_run_id in self._handing_back:
                return
            result = _killed(ticket)
        if ticket.task_run_id in self._handing_back:
            return
        if result is None:
            await self.queue.drop(self.id, ticket)
            return
        self._report(ticket, result)

    async def _run(self, ticket: JobTicket) -> WorkerResult | None:
        loaded = await self.loader.load(ticket)
        if loaded is None:
            return None
        self._loaded[ticket.task_run_id] = loaded
        return await self.worker.run(loaded.job)

    def _cancel(self, task_run_id: str) -> None:
        running = self._running.get(task_run_id)
        if running is not None:
            running[1].cancel()
        for ticket in [t for t in self._ready if t.task_run_id == task_run_id]:
            # Leased but not started: it ends KILLED, as a running one would.
            self._ready.remove(ticket)
            self._report(ticket, _killed(ticket))

    def _flow_of(self, job: WorkerJob) -> Flow:
        return self._loaded[job.task_run.id].flow

    def _functions_of(self, job: WorkerJob) -> Mapping[str, Function]:
        errors = self._loaded[job.task_run.id].errors
        return {"errorLogs": error_logs_function(job.execution, errors)}

    # -- leases and logs --------------------------------------------------------------------

    async def _heartbeats(self) -> None:
        while True:
            await self._busy.wait()
            await asyncio.sleep(self.lease / 3)
            if self._running:
                await self.queue.heartbeat(self.id)

    def _on_log(self, entry: LogEntry) -> None:
        self._pending_logs.append(entry)
        self._lines_logged += 1

    async def _flush_periodically(self) -> None:
        """Store lines still pending `_LOG_FLUSH_S` after they were logged.

        Reports store the pending lines too: while results keep coming, they carry every line
        and this loop has nothing left to do.
        """
        while True:
            await self._busy.wait()
            logged_before = self._lines_logged
            await asyncio.sleep(_LOG_FLUSH_S)
            if self._lines_taken < logged_before:
                await self._flush_logs()

    def _report(self, ticket: JobTicket, result: WorkerResult) -> None:
        """Hand a result to the reporter; the job's slot is free for the next job at once."""
        self._reports.append((ticket, result))
        self._reports_waiting.set()

    async def _report_continually(self) -> None:
        loop = asyncio.get_running_loop()
        last_report = -self.report_interval
        while True:
            await self._reports_waiting.wait()
            await asyncio.sleep(0)  # the job that reported leaves `_running` first
            pause = last_report + self.report_interval - loop.time()
            if self._running and pause > 0:
                await asyncio.sleep(pause)
            self._reports_waiting.clear()
            last_report = loop.time()
            try:
                await self._send_reports()
            except Exception:  # the database is unreachable: try again, results are kept
                _LOG.exception("reporting %d job results failed; retrying", len(self._reports))
                await asyncio.sleep(_REPORT_RETRY_S)
                self._reports_waiting.set()

    async def _send_reports(self) -> None:
        """Store pending log lines, then report every waiting result in one transaction.

        Reporting a result again is harmless: a job no longer held is not reported twice.
        """
        async with self._report_lock:
            reports, self._reports = self._reports, []
            if not reports:
                return
            try:
                if self._logs_with_results:
                    await self._finish_with_logs(reports)
                else:
                    logged = await self._store_logs()
                    await self.queue.finish_all(self.id, reports, logged)
            except BaseException:
                self._reports[:0] = reports
                raise

    async def _finish_with_logs(self, reports: list[tuple[JobTicket, WorkerResult]]) -> None:
        """Report results, store their metrics and the pending log lines, in one transaction."""
        async with self._flush_lock:
            entries = self._take_logs()
            try:
                await self.queue.finish_all(self.id, reports, logs=entries, with_metrics=True)
            except BaseException:
                self._give_back_logs(entries)
                raise

    async def _flush_logs(self) -> None:
        """Store pending log lines and tell followers."""
        await self.queue.logged(await self._store_logs())

    async def _store_logs(self) -> list[str]:
        """Store pending log lines; return the executions they belong to."""
        # One store at a time keeps the lines in the order they were logged.
        async with self._flush_lock:
            if not self._pending_logs:
                return []
            entries = self._take_logs()
            try:
                await self.store.append_logs(entries)
            except BaseException:
                self._give_back_logs(entries)
                raise
            return sorted({entry.execution_id for entry in entries})

    def _take_logs(self) -> list[LogEntry]:
        entries, self._pending_logs = self._pending_logs, []
        self._lines_taken += len(entries)
        return entries

    def _give_back_logs(self, entries: list[LogEntry]) -> None:
        """Put lines that could not be stored back first in line, to be stored next time."""
        self._pending_logs[:0] = entries
        self._lines_taken -= len(entries)


def _killed(ticket: JobTicket) -> WorkerResult:
    """Return the result of a job stopped by a kill: KILLED, now."""
    now = utcnow()
    return WorkerResult(ticket.execution_id, ticket.task_run_id, State.KILLED, now, now)


async def run_worker(worker: QueueWorker, stopping: asyncio.Event, grace: float) -> None:
    """Run a worker until `stopping` is set, then stop it gracefully."""
    running = asyncio.create_task(worker.run(), name="lanner-worker")
    await stopping.wait()
    running.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await running
    await worker.stop(grace)
