"""The PostgreSQL database's transactions and its schema migrations, applied when it opens.

Migrations are the numbered scripts of `migrations/postgres/` (the twins of `migrations/sqlite/`),
applied in order in one transaction under an advisory lock and recorded in `schema_migrations`.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from lanner.clock import format_instant, utcnow
from lanner.exceptions import StoreError
from lanner.store.schema import check_known, migrations

__all__ = ["Db", "columns", "migrate", "redact", "transaction", "unnest_rows"]

Db = psycopg.AsyncConnection[Any]

CONNECT_TIMEOUT_S = 10
# The key of the pg_advisory_xact_lock that openers of one database take turns on.
_MIGRATION_LOCK = 0x6C616E6E65726D67  # "lannermg"
_CREATE_MIGRATIONS = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
)
"""
_RECORD = "INSERT INTO schema_migrations (version, name, applied_at) VALUES (%s, %s, %s)"
_PASSWORD = re.compile(r"(://[^/@:]*):[^/@]*@")


def redact(url: str) -> str:
    """Return a database URL without its password, to show in messages."""
    return _PASSWORD.sub(r"\1:***@", url)


@asynccontextmanager
async def transaction(
    pool: AsyncConnectionPool, what: str, *, snapshot: bool = False
) -> AsyncIterator[Db]:
    """Run the block in a transaction; translate psycopg's errors into StoreError.

    With `snapshot`, the block's SELECTs (a count, a page, its task runs) see one snapshot of
    the database, as a SQLite read transaction does.
    """
    # The pool's block commits when it ends normally and rolls back otherwise.
    try:
        async with pool.connection() as db:
            if snapshot:
                await db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield db
    except psycopg.Error as exc:
        raise StoreError(f"Unable to {what}: {exc}") from exc


async def migrate(url: str) -> None:
    """Apply pending migrations in one transaction, holding the migration lock.

    Processes opening a new database at once wait for each other, so each migration runs
    once; PostgreSQL's DDL is transactional, so a failed migration leaves nothing behind.
    """
    known = migrations("postgres")
    shown = redact(url)
    try:
        connection = await psycopg.AsyncConnection.connect(url, connect_timeout=CONNECT_TIMEOUT_S)
        async with connection as db, db.transaction():
            await db.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            await db.execute(_CREATE_MIGRATIONS)
            found = await db.execute("SELECT version FROM schema_migrations")
            applied = {version for (version,) in await found.fetchall()}
            check_known(applied, known, shown)
            for migration in known:
                if migration.version not in applied:
                    await db.execute(migration.script)
                    stamp = format_instant(utcnow())
                    await db.execute(_RECORD, (migration.version, migration.name, stamp))
    except psycopg.Error as exc:
        raise StoreError(f"Unable to open the database {shown}: {exc}") from exc


def unnest_rows(types: Sequence[str]) -> str:
    """Return a SELECT of rows given as one array per column, in the arrays' order.

    With `columns`, one statement writes any number of rows: `executemany` sends one each,
    which the server parses, plans and executes one at a time.
    """
    arrays = ", ".join(f"%s::{kind}[]" for kind in types)
    names = ", ".join(f"c{index}" for index in range(len(types)))
    return f"SELECT {names} FROM unnest({arrays}) WITH ORDINALITY AS r({names}, n) ORDER BY n"


def columns(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    """Turn rows into one list per column (the parameters of `unnest_rows`)."""
    if not rows:
        return [[] for _ in range(width)]
    return [list(column) for column in zip(*rows, strict=True)]
