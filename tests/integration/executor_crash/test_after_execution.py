"""An executor dies before queueing an afterExecution job: the job still reads the final state.

The task run was saved RUNNING; the next executor queues its job again, and the job must read
the execution's final state as `execution.state`, as the job the dead executor queued would.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from lanner.queue import JobTicket
from lanner.states import State
from tests.integration.executor_crash.support import flow, lanner

pytestmark = pytest.mark.timeout(120)

REPORTED = flow(
    "reported",
    """tasks:
  - id: fail
    type: io.kestra.plugin.core.execution.Fail
afterExecution:
  - id: seen
    type: io.kestra.plugin.core.debug.Return
    format: "{{ execution.state }}"
""",
)


def _queues_an_after_execution_job(what: str, execution_id: str, items: Sequence[Any]) -> bool:
    return what == "enqueue" and any(
        isinstance(ticket, JobTicket) and ticket.final_state is not None for ticket in items
    )


async def test_an_after_execution_job_queued_again_reads_the_final_state(
    postgres_url: str, tmp_path: Path
) -> None:
    async with lanner(postgres_url, tmp_path) as world:
        await world.save(REPORTED)
        started = await world.start("reported")
        await world.executor_dies(_queues_an_after_execution_job)
        world.executor()
        done = await world.ended(started.id)
    runs = {run.task_id: run for run in done.task_runs}
    assert done.current is State.FAILED
    assert runs["seen"].outputs == {"value": "FAILED"}
