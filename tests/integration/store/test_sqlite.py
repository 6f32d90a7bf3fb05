"""SQLite on real files: durability, reopening, concurrent openers and schema migrations."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest

from lanner.exceptions import StoreError
from lanner.states import State
from lanner.store import SqliteStore
from lanner.store.schema import migrations
from tests.unit.store import records


def _query(file: Path, sql: str) -> list[tuple[object, ...]]:
    """Read the database with a connection of its own, as another process would."""
    with closing(sqlite3.connect(file)) as db:
        return db.execute(sql).fetchall()


def _open_and_close(file: Path) -> None:
    asyncio.run(SqliteStore.open(file).close())


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    return tmp_path / "home" / "lanner.db"


async def test_everything_is_there_after_reopening(db_file: Path) -> None:
    execution = records.full_execution()
    lines = [records.log("one"), records.log("two")]
    store = SqliteStore.open(db_file)
    flow = await store.save_flow("company.team", "hello", "id: hello\n")
    await store.save_execution(execution)
    await store.append_logs(lines)
    await store.close()

    reopened = SqliteStore.open(db_file)
    try:
        assert await reopened.get_flow("company.team", "hello") == flow
        assert await reopened.get_execution(execution.id) == execution
        assert await reopened.get_logs(execution.id) == lines
    finally:
        await reopened.close()


async def test_kv_entries_are_there_after_reopening(db_file: Path) -> None:
    store = SqliteStore.open(db_file)
    entry = store.kv.put("company.team", "key", {"a": [1, 2]}, ttl=timedelta(hours=1))
    await store.close()

    reopened = SqliteStore.open(db_file)
    try:
        assert reopened.kv.get("company.team", "key") == entry
    finally:
        await reopened.close()


KILLED_WRITER = """
import asyncio, os, signal, sys
from lanner.store import SqliteStore
from tests.unit.store import records

async def main() -> None:
    store = SqliteStore.open(sys.argv[1])
    await store.save_flow("company.team", "hello", "id: hello\\n")
    await store.save_execution(records.full_execution())
    await store.append_logs([records.log("last words")])
    os.kill(os.getpid(), signal.SIGKILL)

asyncio.run(main())
"""


async def test_a_killed_process_loses_nothing(db_file: Path) -> None:
    root = Path(__file__).resolve().parents[3]
    finished = subprocess.run(
        [sys.executable, "-c", KILLED_WRITER, str(db_file)], cwd=root, check=False
    )
    assert finished.returncode == -9

    store = SqliteStore.open(db_file)
    try:
        assert await store.get_flow("company.team", "hello") is not None
        assert await store.get_execution("exec-1") == records.full_execution()
        assert [entry.message for entry in await store.get_logs("exec-1")] == ["last words"]
    finally:
        await store.close()


async def test_another_connection_sees_each_commit_at_once(db_file: Path) -> None:
    writer = SqliteStore.open(db_file)
    reader = SqliteStore.open(db_file)
    try:
        execution = records.execution(task_runs=2)
        await writer.save_execution(execution)
        assert await reader.get_execution(execution.id) == execution

        done = execution.with_state(State.SUCCESS)
        await writer.save_execution(done, [])
        assert await reader.get_execution(execution.id) == done
    finally:
        await writer.close()
        await reader.close()


def test_the_database_is_in_wal_mode(db_file: Path) -> None:
    _open_and_close(db_file)

    assert _query(db_file, "PRAGMA journal_mode") == [("wal",)]


def test_opening_creates_missing_directories(tmp_path: Path) -> None:
    file = tmp_path / "a" / "b" / "c" / "lanner.db"

    _open_and_close(file)

    assert file.is_file()


def test_opening_records_the_migrations_once(db_file: Path) -> None:
    for _ in range(2):
        _open_and_close(db_file)

    assert _query(db_file, "SELECT version, name FROM schema_migrations") == [
        (1, "initial"),
        (2, "kv"),
        (3, "triggers"),
        (4, "metrics"),
        (5, "queue"),
        (6, "logs_by_position"),
    ]


async def test_an_older_database_gets_the_new_tables(db_file: Path) -> None:
    store = SqliteStore.open(db_file)
    flow = await store.save_flow("company.team", "hello", "id: hello\n")
    await store.close()
    # Take the database back to the first schema, as an older lanner left it.
    with closing(sqlite3.connect(db_file)) as db, db:
        db.execute("DROP TABLE kv")
        db.execute("DROP TABLE trigger_states")
        db.execute("DELETE FROM schema_migrations WHERE version > 1")

    reopened = SqliteStore.open(db_file)
    try:
        assert await reopened.get_flow("company.team", "hello") == flow
        assert reopened.kv.put("company.team", "key", 1).value == 1
        assert await reopened.list_trigger_states() == []
    finally:
        await reopened.close()


def test_a_newer_schema_is_refused(db_file: Path) -> None:
    _open_and_close(db_file)
    with closing(sqlite3.connect(db_file)) as db, db:
        db.execute("INSERT INTO schema_migrations VALUES (9999, 'future', 'x')")

    with pytest.raises(StoreError, match="schema version 9999"):
        SqliteStore.open(db_file)


def test_an_unreadable_file_is_a_store_error(tmp_path: Path) -> None:
    file = tmp_path / "lanner.db"
    file.write_bytes(b"this is not a database" * 100)

    with pytest.raises(StoreError, match="Unable to"):
        SqliteStore.open(file)


async def test_a_closed_store_raises_store_error(db_file: Path) -> None:
    store = SqliteStore.open(db_file)
    await store.close()
    await store.close()

    with pytest.raises(StoreError, match="closed"):
        await store.get_execution("x")


# -- several openers and writers at once ---------------------------------------------------


def _in_threads(count: int, work: Callable[[], None]) -> list[BaseException]:
    """Run `work()` in `count` threads released together; return what they raised."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run() -> None:
        barrier.wait()
        try:
            work()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


ALL_VERSIONS = [(migration.version,) for migration in migrations("sqlite")]


def test_threads_opening_a_new_database_together(db_file: Path) -> None:
    errors = _in_threads(8, lambda: _open_and_close(db_file))

    assert errors == []
    assert _query(db_file, "SELECT version FROM schema_migrations") == ALL_VERSIONS


OPENER = """
import sys
from lanner.store import SqliteStore
import asyncio
asyncio.run(SqliteStore.open(sys.argv[1]).close())
"""


def test_processes_opening_a_new_database_together(db_file: Path) -> None:
    openers = [
        subprocess.Popen([sys.executable, "-c", OPENER, str(db_file)], stderr=subprocess.PIPE)
        for _ in range(6)
    ]
    failures = []
    for opener in openers:
        _, stderr = opener.communicate(timeout=60)
        if opener.returncode != 0:
            failures.append(stderr.decode())

    assert failures == []
    assert _query(db_file, "SELECT version FROM schema_migrations") == ALL_VERSIONS


def test_stores_in_several_threads_write_together(db_file: Path) -> None:
    def write() -> None:
        async def append() -> None:
            store = SqliteStore.open(db_file)
            try:
                for index in range(100):
                    await store.append_logs([records.log(f"{threading.get_ident()} {index}")])
            finally:
                await store.close()

        asyncio.run(append())

    assert _in_threads(4, write) == []
    assert _query(db_file, "SELECT COUNT(*) FROM logs") == [(400,)]


def test_task_run_rows_follow_their_execution(db_file: Path) -> None:
    async def scenario() -> None:
        store = SqliteStore.open(db_file)
        try:
            await store.save_execution(records.execution(task_runs=3, labels={"a": "b"}))
            await store.delete_execution("exec-1")
        finally:
            await store.close()

    asyncio.run(scenario())

    assert _query(db_file, "SELECT COUNT(*) FROM task_runs") == [(0,)]
    assert _query(db_file, "SELECT COUNT(*) FROM execution_labels") == [(0,)]


def test_label_rows_follow_the_labels(db_file: Path) -> None:
    async def scenario() -> None:
        store = SqliteStore.open(db_file)
        try:
            labelled = records.execution(labels={"a": "1", "b": "2"})
            for _ in range(3):
                await store.save_execution(labelled)
            assert _query(db_file, "SELECT COUNT(*) FROM execution_labels") == [(2,)]
            await store.save_execution(records.execution(labels={"b": "3"}))
        finally:
            await store.close()

    asyncio.run(scenario())

    assert _query(db_file, "SELECT key, value FROM execution_labels") == [("b", "3")]
