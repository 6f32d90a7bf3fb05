"""Where lanner keeps flows, executions, task runs, logs and the KV store.

`open_store()` picks a backend; `open_configured_store()` opens the one settings name.
"""

from __future__ import annotations

import os
import re

from lanner.exceptions import StoreError
from lanner.settings import DEFAULT_DATABASE_POOL_SIZE, DEFAULT_KV_POOL_SIZE, Settings
from lanner.store.base import FlowRecord, LogTail, Page, Store
from lanner.store.kv import KVEntry, KVStore, KVType
from lanner.store.memory import MemoryStore
from lanner.store.postgres import PostgresStore
from lanner.store.sqlite import SqliteStore

__all__ = [
    "FlowRecord",
    "KVEntry",
    "KVStore",
    "KVType",
    "LogTail",
    "MemoryStore",
    "Page",
    "PostgresStore",
    "SqliteStore",
    "Store",
    "open_configured_store",
    "open_store",
]

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_POSTGRES_SCHEMES = ("postgresql://", "postgres://")


async def open_store(
    url_or_path: str | os.PathLike[str],
    *,
    pool_size: int = DEFAULT_DATABASE_POOL_SIZE,
    kv_pool_size: int = DEFAULT_KV_POOL_SIZE,
) -> Store:
    """Open the store a URL or path names, creating and migrating a database as needed.

    `sqlite:///relative/file.db`, `sqlite:////absolute/file.db` and a bare path open a
    SQLite file; `postgresql://user@host:port/database` (or `postgres://`, any libpq URL)
    a PostgreSQL database, whose store opens up to `pool_size` connections and its KV store
    up to `kv_pool_size` more; `memory://` gives an empty in-memory store.
    """
    target = os.fspath(url_or_path)
    if target == "memory://":
        return MemoryStore()
    if target.startswith("sqlite:///"):
        return SqliteStore.open(target.removeprefix("sqlite:///"))
    if target.startswith(_POSTGRES_SCHEMES):
        return await PostgresStore.open(target, pool_size=pool_size, kv_pool_size=kv_pool_size)
    if _SCHEME.match(target):
        raise StoreError(
            f"Unsupported database URL {target!r}: use sqlite:///PATH, a file path,"
            " postgresql://USER@HOST:PORT/DATABASE or memory://"
        )
    return SqliteStore.open(target)


async def open_configured_store(settings: Settings) -> Store:
    """Open the store of `settings.database_url`, with the pool sizes the settings give."""
    return await open_store(
        settings.database_url,
        pool_size=settings.database_pool_size,
        kv_pool_size=settings.kv_pool_size,
    )
