"""A step of an execution on PostgreSQL: one statement, and its log lines keep their order."""

from __future__ import annotations

import asyncio

import psycopg

from lanner.states import State
from lanner.store import PostgresStore
from tests.unit.store import records


async def test_a_step_numbers_its_lines_only_once_it_holds_the_executions_log_lock(
    postgres_url: str,
) -> None:
    store = await PostgresStore.open(postgres_url)
    try:
        original = records.execution("step-after-the-lock", task_runs=2)
        await store.save_execution(original)
        changed = original.task_runs[0].with_state(State.RUNNING)
        line = records.log("after", execution_id=original.id)
        async with await psycopg.AsyncConnection.connect(postgres_url) as appender:
            # Another appender of this execution's lines, not yet committed.
            await appender.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 2))", (original.id,)
            )
            step = asyncio.create_task(
                store.save_step(original.with_task_run(changed), [changed], [line], [])
            )
            await asyncio.sleep(0.3)
            assert not step.done()
            assert await store.get_logs(original.id) == []
            await appender.commit()
            stamp = await asyncio.wait_for(step, 5)
        assert stamp == await store.execution_stamp(original.id)
        assert [entry.message for entry in await store.get_logs(original.id)] == ["after"]
        stored = await store.get_execution(original.id)
        assert stored is not None
        assert stored.task_runs[0].current is State.RUNNING
    finally:
        await store.close()


async def test_a_step_with_nothing_but_its_row_saves_it(postgres_url: str) -> None:
    store = await PostgresStore.open(postgres_url)
    try:
        original = records.execution("step-alone", task_runs=1)
        await store.save_execution(original)
        ended = original.with_state(State.SUCCESS)

        stamp = await store.save_step(ended, [], [], [])

        assert stamp is not None
        assert stamp == await store.execution_stamp(original.id)
        assert await store.get_execution(original.id) == ended
    finally:
        await store.close()
