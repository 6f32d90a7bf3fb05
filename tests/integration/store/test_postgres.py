"""PostgreSQL on the machine's server: reopening, killed writers, concurrent openers and
writers, schema migrations, locale-independent order."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from lanner.exceptions import KVConflictError, StoreError
from lanner.states import State
from lanner.store import PostgresStore
from lanner.store.schema import migrations
from tests import postgres
from tests.unit.store import records

ROOT = Path(__file__).resolve().parents[3]


def _query(url: str, sql: str) -> list[tuple[Any, ...]]:
    """Read the database with a connection of its own, as another process would."""
    with psycopg.connect(url) as db:
        return db.execute(sql.encode()).fetchall()


@pytest.fixture
def url(postgres_url: str) -> str:
    postgres.clear(postgres_url)
    return postgres_url


@pytest.fixture
def fresh_url(postgres_url: str) -> Iterator[str]:
    """A database of its own, with no schema yet (postgres_url: skip when unreachable)."""
    with postgres.database("lanner_fresh") as created:
        yield created


@pytest.fixture
async def store(url: str) -> AsyncIterator[PostgresStore]:
    opened = await PostgresStore.open(url)
    try:
        yield opened
    finally:
        await opened.close()


async def test_everything_is_there_after_reopening(url: str) -> None:
    execution = records.full_execution()
    lines = [records.log("one"), records.log("two")]
    store = await PostgresStore.open(url)
    flow = await store.save_flow("company.team", "hello", "id: hello\n")
    await store.save_execution(execution)
    await store.append_logs(lines)
    entry = store.kv.put("company.team", "key", {"a": [1, 2]})
    await store.close()

    reopened = await PostgresStore.open(url)
    try:
        assert await reopened.get_flow("company.team", "hello") == flow
        assert await reopened.get_execution(execution.id) == execution
        assert await reopened.get_logs(execution.id) == lines
        assert reopened.kv.get("company.team", "key") == entry
    finally:
        await reopened.close()


KILLED_WRITER = """
import asyncio, os, signal, sys
from lanner.store import PostgresStore
from tests.unit.store import records

async def main() -> None:
    store = await PostgresStore.open(sys.argv[1])
    await store.save_flow("company.team", "hello", "id: hello\\n")
    await store.save_execution(records.full_execution())
    await store.append_logs([records.log("last words")])
    store.kv.put("company.team", "key", "kept")
    os.kill(os.getpid(), signal.SIGKILL)

asyncio.run(main())
"""


async def test_a_killed_process_loses_nothing(store: PostgresStore, url: str) -> None:
    finished = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-c", KILLED_WRITER, url], cwd=ROOT, check=False
    )
    assert finished.returncode == -signal.SIGKILL

    assert await store.get_flow("company.team", "hello") is not None
    assert await store.get_execution("exec-1") == records.full_execution()
    assert [entry.message for entry in await store.get_logs("exec-1")] == ["last words"]
    kept = store.kv.get("company.team", "key")
    assert kept is not None
    assert kept.value == "kept"


async def test_another_store_sees_each_commit_at_once(store: PostgresStore, url: str) -> None:
    reader = await PostgresStore.open(url)
    try:
        execution = records.execution(task_runs=2)
        await store.save_execution(execution)
        assert await reader.get_execution(execution.id) == execution

        done = execution.with_state(State.SUCCESS)
        await store.save_execution(done, [])
        assert await reader.get_execution(execution.id) == done
    finally:
        await reader.close()


async def test_stores_saving_one_flow_together_number_every_revision(url: str) -> None:
    stores = [await PostgresStore.open(url) for _ in range(4)]
    try:
        saved = await asyncio.gather(
            *(
                store.save_flow("company.team", "hello", f"id: hello\n# {index}\n")
                for index, store in enumerate(stores * 5)
            )
        )
    finally:
        for store in stores:
            await store.close()

    assert sorted(record.revision for record in saved) == list(range(1, 21))


async def test_only_one_of_concurrent_puts_without_overwrite_wins(url: str) -> None:
    stores = [await PostgresStore.open(url) for _ in range(4)]

    def put(store: PostgresStore, index: int) -> str:
        try:
            store.kv.put("company.team", "once", index, overwrite=False)
        except KVConflictError:
            return "refused"
        return "stored"

    try:
        outcomes = await asyncio.gather(
            *(asyncio.to_thread(put, store, index) for index, store in enumerate(stores))
        )
    finally:
        for store in stores:
            await store.close()

    assert sorted(outcomes) == ["refused", "refused", "refused", "stored"]


def test_opening_records_the_migrations_once(fresh_url: str) -> None:
    for _ in range(2):
        asyncio.run(_open_and_close(fresh_url))

    assert _query(fresh_url, "SELECT version, name FROM schema_migrations ORDER BY version") == [
        (migration.version, migration.name) for migration in migrations("postgres")
    ]


OPENER = """
import asyncio, sys
from lanner.store import PostgresStore

async def main() -> None:
    await (await PostgresStore.open(sys.argv[1])).close()

asyncio.run(main())
"""


def test_processes_opening_a_new_database_together(fresh_url: str) -> None:
    openers = [
        subprocess.Popen(
            [sys.executable, "-c", OPENER, fresh_url], cwd=ROOT, stderr=subprocess.PIPE
        )
        for _ in range(6)
    ]
    failures = []
    for opener in openers:
        _, stderr = opener.communicate(timeout=60)
        if opener.returncode != 0:
            failures.append(stderr.decode())

    assert failures == []
    versions = _query(fresh_url, "SELECT version FROM schema_migrations ORDER BY version")
    assert versions == [(migration.version,) for migration in migrations("postgres")]


async def test_stores_opening_a_new_database_together(fresh_url: str) -> None:
    stores = await asyncio.gather(*(PostgresStore.open(fresh_url) for _ in range(4)))
    for store in stores:
        await store.close()

    assert len(_query(fresh_url, "SELECT version FROM schema_migrations")) == len(
        migrations("postgres")
    )


async def test_an_older_database_gets_the_new_tables(url: str) -> None:
    store = await PostgresStore.open(url)
    flow = await store.save_flow("company.team", "hello", "id: hello\n")
    await store.close()
    # Take the database back to the first schema, as an older lanner left it.
    with psycopg.connect(url) as db:
        db.execute("DROP TABLE kv")
        db.execute("DROP TABLE trigger_states")
        db.execute("DELETE FROM schema_migrations WHERE version > 1")

    reopened = await PostgresStore.open(url)
    try:
        assert await reopened.get_flow("company.team", "hello") == flow
        assert reopened.kv.put("company.team", "key", 1).value == 1
        assert await reopened.list_trigger_states() == []
    finally:
        await reopened.close()


async def test_a_newer_schema_is_refused(fresh_url: str) -> None:
    await _open_and_close(fresh_url)
    with psycopg.connect(fresh_url) as db:
        db.execute("INSERT INTO schema_migrations VALUES (9999, 'future', 'x')")

    with pytest.raises(StoreError, match="schema version 9999"):
        await PostgresStore.open(fresh_url)


async def test_a_failed_migration_leaves_nothing_behind(fresh_url: str) -> None:
    with psycopg.connect(fresh_url) as db:
        db.execute("CREATE TABLE logs (unrelated INTEGER)")  # 0001 creates logs after flows

    with pytest.raises(StoreError, match='relation "logs" already exists'):
        await PostgresStore.open(fresh_url)

    tables = "SELECT to_regclass('flows') IS NULL, to_regclass('schema_migrations') IS NULL"
    assert _query(fresh_url, tables) == [(True, True)]


async def test_a_closed_store_raises_store_error(url: str) -> None:
    store = await PostgresStore.open(url)
    await store.close()
    await store.close()

    with pytest.raises(StoreError, match="closed"):
        await store.get_execution("x")
    with pytest.raises(StoreError, match="closed"):
        store.kv.get("company.team", "key")


async def test_task_run_and_label_rows_follow_their_execution(
    store: PostgresStore, url: str
) -> None:
    await store.save_execution(records.execution(task_runs=3, labels={"a": "1", "b": "2"}))
    assert _query(url, "SELECT COUNT(*) FROM execution_labels") == [(2,)]
    await store.save_execution(records.execution(task_runs=3, labels={"b": "3"}))
    assert _query(url, "SELECT key, value FROM execution_labels") == [("b", "3")]

    await store.delete_execution("exec-1")

    assert _query(url, "SELECT COUNT(*) FROM task_runs") == [(0,)]
    assert _query(url, "SELECT COUNT(*) FROM execution_labels") == [(0,)]


async def test_a_nul_character_in_a_log_line_does_not_break_searches(
    store: PostgresStore,
) -> None:
    await store.append_logs([records.log("before\x00after"), records.log("plain words")])

    found = await store.search_logs(query="WORDS")
    everything = await store.search_logs(query="after")

    assert [entry.message for entry in found.results] == ["plain words"]
    assert [entry.message for entry in everything.results] == ["before\x00after"]
    assert await store.delete_flow_logs("company.team", "hello", trigger_id="t") == 0


async def test_order_is_byte_order_whatever_the_database_locale(postgres_url: str) -> None:
    # An ICU English collation sorts "a" before "B"; byte order (SQLite's) puts "B" first.
    options = "LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8' TEMPLATE template0"
    with postgres.database("lanner_icu", options) as icu_url:
        store = await PostgresStore.open(icu_url)
        try:
            for namespace in ("company.a", "company.B", "company_x", "company.c"):
                await store.save_flow(namespace, "flow", "id: flow\n")
            page = await store.search_flows(namespace="company")
        finally:
            await store.close()

    assert [record.namespace for record in page.results] == ["company.B", "company.a", "company.c"]


async def _open_and_close(url: str) -> None:
    await (await PostgresStore.open(url)).close()


def test_the_tests_skip_or_fail_clearly_when_the_server_is_away() -> None:
    env = {**os.environ, "LANNER_TEST_POSTGRES_URL": "postgresql://postgres@127.0.0.1:1/postgres"}
    env.pop("LANNER_TEST_POSTGRES", None)
    probe = "from tests import postgres; print(postgres.unreachable_reason())"

    shown = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )

    assert shown.stdout.startswith(
        "PostgreSQL is not reachable at postgresql://postgres@127.0.0.1:1"
    )
    assert "set LANNER_TEST_POSTGRES_URL" in shown.stdout
