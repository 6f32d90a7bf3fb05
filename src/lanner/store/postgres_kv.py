"""The KV store in PostgreSQL, table `kv` (migration 0002): `SqlKV` over synchronous connections.

Expressions read the KV store while rendering, which cannot wait for an event loop, so it has
a small pool of synchronous psycopg connections of its own beside the store's async pool.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from lanner.exceptions import StoreError
from lanner.store.sql import Connection, Cursor
from lanner.store.sql_kv import SqlKV

__all__ = ["PostgresKV", "pyformat"]

# Writes take this transaction-scoped advisory lock: like SQLite's single writer, it makes
# `put(overwrite=False)`'s read-then-write atomic across processes. KV writes are rare.
_WRITE_LOCK = 0x6C616E6E65726B76  # "lannerkv"


@lru_cache(maxsize=256)
def pyformat(sql: str) -> str:
    """Turn `?` placeholders into psycopg's `%s` (a literal `%` becomes `%%`)."""
    return sql.replace("%", "%%").replace("?", "%s")


class _Qmark(Connection):
    """A psycopg connection that takes the `?` placeholders `SqlKV` writes."""

    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self._connection = connection

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Cursor:
        return self._connection.execute(pyformat(sql), parameters)


class PostgresKV(SqlKV):
    """The KV store of a `PostgresStore`; `close()` releases its connections."""

    def __init__(self, pool: ConnectionPool) -> None:
        """Use an open pool; `PostgresKV.open()` makes one."""
        self._pool = pool
        super().__init__(self._reading, self._writing)

    @classmethod
    def open(cls, url: str, shown: str, pool_size: int) -> PostgresKV:
        """Connect to the database at `url` (`shown` is the URL without its password), with
        up to `pool_size` connections."""
        pool: ConnectionPool = ConnectionPool(
            url, min_size=1, max_size=pool_size, open=False, name="lanner-kv"
        )
        try:
            pool.open(wait=True, timeout=30)
        except psycopg.Error as exc:
            pool.close()
            raise StoreError(f"Unable to open the database {shown}: {exc}") from exc
        return cls(pool)

    def close(self) -> None:
        self._pool.close()

    @contextmanager
    def _reading(self, what: str) -> Iterator[Connection]:
        with self._transaction(what) as db:
            yield db

    @contextmanager
    def _writing(self, what: str) -> Iterator[Connection]:
        with self._transaction(what) as db:
            db.execute("SELECT pg_advisory_xact_lock(?)", (_WRITE_LOCK,))
            yield db

    @contextmanager
    def _transaction(self, what: str) -> Iterator[Connection]:
        # The pool's block commits when it ends normally and rolls back otherwise.
        try:
            with self._pool.connection() as connection:
                yield _Qmark(connection)
        except psycopg.Error as exc:
            raise StoreError(f"Unable to {what}: {exc}") from exc
