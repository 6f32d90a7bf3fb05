"""An executor dies around a CREATE_NEW_EXECUTION retry: the new execution starts once.

The retry's execution is saved, then the execution that failed, then the claim sends the new
one's first event and commits. Its id is derived from the failed execution and the attempt
number, so deciding the retry again names the same execution.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from lanner.executions import Execution
from lanner.executor import next_attempt_id
from lanner.queue import EventKind
from lanner.states import State
from tests.integration.executor_crash.support import Lanner, flow, lanner

pytestmark = pytest.mark.timeout(120)

AGAIN = flow(
    "again",
    """tasks:
  - id: fail
    type: io.kestra.plugin.core.execution.Fail
    retry:
      type: constant
      interval: PT0.1S
      maxAttempt: 2
      behavior: CREATE_NEW_EXECUTION
""",
)


async def _ended(world: Lanner) -> list[Execution]:
    """Wait for every execution of the flow to end; return them, oldest first."""
    return [await world.ended(execution.id) for execution in await world.executions("again")]


async def test_a_retry_whose_first_event_was_lost_starts_once(
    postgres_url: str, tmp_path: Path
) -> None:
    async with lanner(postgres_url, tmp_path) as world:
        await world.save(AGAIN)
        first = await world.start("again")

        def starts_the_retry(what: str, execution_id: str, items: Sequence[Any]) -> bool:
            return what == "send" and any(
                event.kind is EventKind.ADVANCE and event.execution_id != first.id
                for event in items
            )

        await world.executor_dies(starts_the_retry)
        saved = await world.executions("again")
        assert [e.current for e in saved] == [State.RETRIED, State.CREATED]
        world.executor()
        executions = await _ended(world)
    assert [e.id for e in executions] == [first.id, saved[1].id]
    assert [(e.current, e.attempt_number) for e in executions] == [
        (State.RETRIED, 1),
        (State.FAILED, 2),
    ]


async def test_a_retry_decided_again_is_the_same_execution(
    postgres_url: str, tmp_path: Path
) -> None:
    async with lanner(postgres_url, tmp_path) as world:
        await world.save(AGAIN)
        first = await world.start("again")

        def saves_the_failed_one(what: str, execution_id: str, items: Sequence[Any]) -> bool:
            # The retry's execution is saved already: deciding again must not make another.
            return what == "save" and execution_id == first.id and items[0].final_state is not None

        await world.executor_dies(saves_the_failed_one)
        [stored_first, retry] = await world.executions("again")
        assert stored_first.current is State.RUNNING
        assert retry.id == next_attempt_id(first)
        world.executor()
        executions = await _ended(world)
    assert [e.id for e in executions] == [first.id, retry.id]
    assert [e.current for e in executions] == [State.RETRIED, State.FAILED]
