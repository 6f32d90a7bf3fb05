"""A busy worker gathers the results that end close together into one report; a worker's last
running job reports at once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path

from lanner.executions import LogEntry
from lanner.jobs import WorkerResult
from lanner.queue import EventKind, ExecutorEvent, JobTicket, MemoryQueue
from lanner.queue_executor import QueueExecutor
from lanner.queue_worker import QueueWorker
from lanner.settings import Settings
from lanner.states import State
from lanner.storage import LocalStorage
from lanner.store import MemoryStore
from tests.unit.queue.stored import stored_execution

# Five sleeps ending 10 ms apart, all at once: results that end while others still run.
STAGGERED = """id: staggered
namespace: company.team
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: [100, 110, 120, 130, 140]
    concurrencyLimit: 0
    tasks:
      - id: nap
        type: io.kestra.plugin.core.flow.Sleep
        duration: "PT0.{{ taskrun.value }}S"
"""

# Tasks one after another: each job is the worker's only one when it ends.
SEQUENTIAL = """id: sequential
namespace: company.team
tasks:
  - id: one
    type: io.kestra.plugin.core.debug.Return
    format: "1"
  - id: two
    type: io.kestra.plugin.core.debug.Return
    format: "2"
  - id: three
    type: io.kestra.plugin.core.debug.Return
    format: "3"
"""


class RecordingQueue(MemoryQueue):
    """A memory queue that notes when each report came and how many results it carried."""

    def __init__(self) -> None:
        super().__init__()
        self.reports: list[tuple[float, int]] = []

    async def finish_all(
        self,
        worker_id: str,
        results: Sequence[tuple[JobTicket, WorkerResult]],
        logged: Sequence[str] = (),
        logs: Sequence[LogEntry] = (),
        with_metrics: bool = False,
    ) -> list[bool]:
        if results:
            self.reports.append((time.monotonic(), len(results)))
        return await super().finish_all(worker_id, results, logged, logs, with_metrics)


async def _run(source: str, flow_id: str, tmp_path: Path, interval: float) -> RecordingQueue:
    """Run one execution of `source` to its end with a worker reporting every `interval`."""
    store, queue = MemoryStore(), RecordingQueue()
    settings = Settings.load(home=tmp_path, environ={})
    storage = LocalStorage(tmp_path / "storage")
    execution = await stored_execution(store, storage, settings, flow_id, source)
    await queue.send([ExecutorEvent(EventKind.ADVANCE, execution.id)])
    worker = QueueWorker(
        settings, store, queue, storage, concurrency=8, lease=30, report_interval=interval
    )
    tasks = [
        asyncio.create_task(QueueExecutor(settings, store, queue, storage).run()),
        asyncio.create_task(worker.run()),
    ]
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            stored = await store.get_execution(execution.id)
            assert stored is not None
            if stored.state.current.is_terminated():
                assert stored.state.current is State.SUCCESS
                return queue
            await asyncio.sleep(0.02)
        raise AssertionError(f"{flow_id} did not end")
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await queue.close()
        await store.close()


async def test_results_ending_while_others_run_share_one_report(tmp_path: Path) -> None:
    queue = await _run(STAGGERED, "staggered", tmp_path, interval=0.5)

    # The first result goes at once; the four that end within the next 40 ms wait for it.
    assert [count for _, count in queue.reports] == [1, 4]
    first, second = (moment for moment, _ in queue.reports)
    assert second - first >= 0.45


async def test_a_workers_only_running_job_reports_at_once(tmp_path: Path) -> None:
    started = time.monotonic()
    queue = await _run(SEQUENTIAL, "sequential", tmp_path, interval=5.0)

    assert [count for _, count in queue.reports] == [1, 1, 1]
    # Paced, the second and third reports would each wait 5 s after the one before.
    assert queue.reports[-1][0] - started < 2.5
