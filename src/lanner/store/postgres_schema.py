"""The PostgreSQL database's transactions and its schema migrations, applied when it opens.

Migrations are the numbered scripts of `migrations/postgres/` (the twins of `migrations/sqlite/`),
applied in order in one transaction under an advisory lock and recorded in `schema_migrations`.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from lanner.clock import format_instant, utcnow
from lanner.exceptions import StoreError
from lanner.store.schema import check_known, migrations

__all__ = ["Db", "JsonRows", "migrate", "redact", "statement", "transaction"]

Db = psycopg.AsyncConnection[Any]
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)

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


@asynccontextmanager
async def statement(pool: AsyncConnectionPool, what: str) -> AsyncIterator[Db]:
    """Run one statement in the block, on its own (autocommit); StoreError as `transaction`.

    A transaction's BEGIN and COMMIT are round trips of their own: for a single statement,
    which PostgreSQL runs atomically anyway, autocommit sends one instead of three.
    """
    # `transaction`'s commit at the end has nothing to do in autocommit: no round trip.
    async with transaction(pool, what) as db:
        await db.set_autocommit(True)  # no round trip either: psycopg only notes it
        try:
            yield db
        finally:
            if not db.closed:  # a broken connection is thrown away by the pool
                await db.set_autocommit(False)


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


@dataclass(frozen=True)
class JsonRows:
    """Rows of a table written by one statement, sent as one JSON array of objects.

    `executemany` sends one statement per row, which the server parses, plans and runs one at
    a time; arrays per column (`unnest`) cost more to send, psycopg escaping each element in
    Python. One JSON text is written by the C encoder and read by the server in one pass.
    """

    table: str
    names: tuple[str, ...]
    types: tuple[str, ...] = ()
    """The SQL types of `names`, for rows that are not all columns of `table` (a key to match
    against, say): they are then read by their own types rather than as rows of `table`."""

    def select(self, expressions: str | None = None, where: str | None = None) -> str:
        """Return a SELECT of the rows (`expressions` over the columns, those `where` keeps),
        in their order."""
        chosen = expressions or ", ".join(self.names)
        kept = f" WHERE {where}" if where else ""
        if self.types:
            typed = ", ".join(
                f"{name} {kind}" for name, kind in zip(self.names, self.types, strict=True)
            )
            rows = (
                f"ROWS FROM (json_to_recordset(%s::json) AS ({typed}))"
                f" WITH ORDINALITY AS r({', '.join(self.names)}, ordinality)"
            )
        else:
            rows = f"json_populate_recordset(NULL::{self.table}, %s::json) WITH ORDINALITY AS r"
        return f"SELECT {chosen} FROM {rows}{kept} ORDER BY r.ordinality"

    def encode(self, rows: Sequence[Sequence[Any]]) -> str:
        """Return the JSON parameter of `select` for rows in the order of `names`."""
        objects = [dict(zip(self.names, row, strict=True)) for row in rows]
        return _JSON.encode(objects)
