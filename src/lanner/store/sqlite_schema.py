"""The SQLite database's setup when it opens: pragmas, WAL, and the schema migrations.

Migrations are the numbered scripts of `migrations/sqlite/`, applied in order under one write
lock and recorded in `schema_migrations`.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from lanner.clock import format_instant, utcnow
from lanner.exceptions import StoreError
from lanner.store.schema import Migration, check_known, migrations

__all__ = ["configure", "migrate", "transaction"]

BUSY_TIMEOUT_MS = 10_000

_CREATE_MIGRATIONS = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
)
"""


@contextmanager
def transaction(db: sqlite3.Connection, begin: str, what: str) -> Iterator[sqlite3.Connection]:
    """Run the block in a transaction; translate SQLite's errors into StoreError."""
    try:
        db.execute(begin)
        yield db
        db.execute("COMMIT")
    except sqlite3.Error as exc:
        _rollback(db)
        raise StoreError(f"Unable to {what}: {exc}") from exc
    except BaseException:
        _rollback(db)
        raise


def _rollback(db: sqlite3.Connection) -> None:
    # The connection may be closed or the transaction already gone with the error.
    with suppress(sqlite3.Error):
        if db.in_transaction:
            db.execute("ROLLBACK")


def configure(db: sqlite3.Connection) -> None:
    try:
        # busy_timeout first: switching to WAL needs a lock another opener may hold.
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _enable_wal(db)
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA foreign_keys = ON")
    except sqlite3.Error as exc:
        raise StoreError(f"Unable to configure the database: {exc}") from exc


def _enable_wal(db: sqlite3.Connection) -> None:
    """Switch to WAL, retrying while another opener holds the lock the switch needs.

    SQLite answers "database is locked" at once here when another connection is switching
    the same new file, without waiting for busy_timeout, so the wait is ours to do.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def migrate(db: sqlite3.Connection, file: Path) -> None:
    """Apply pending migrations under one write lock.

    Processes opening a new database at once take turns, so each migration runs once.
    """
    found = migrations("sqlite")
    with transaction(db, "BEGIN IMMEDIATE", f"migrate the database {file}"):
        db.execute(_CREATE_MIGRATIONS)
        applied = {version for (version,) in db.execute("SELECT version FROM schema_migrations")}
        check_known(applied, found, str(file))
        for migration in found:
            if migration.version not in applied:
                _apply(db, migration)


def _apply(db: sqlite3.Connection, migration: Migration) -> None:
    # Not executescript(): it commits first, which would release the migration lock.
    for statement in _statements(migration.script):
        db.execute(statement)
    db.execute(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
        (migration.version, migration.name, format_instant(utcnow())),
    )


def _statements(script: str) -> Iterator[str]:
    """Split a script into statements; SQLite's own tokenizer decides where each one ends."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending
            pending = ""
    if pending.strip():
        yield pending
