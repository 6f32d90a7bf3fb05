"""Where lanner keeps flows, executions, task runs, logs and the KV store.

`open_store()` picks a backend.
"""

from __future__ import annotations

import os
import re

from lanner.exceptions import StoreError
from lanner.store.base import FlowRecord, Page, Store
from lanner.store.kv import KVEntry, KVStore, KVType
from lanner.store.memory import MemoryStore
from lanner.store.postgres import PostgresStore
from lanner.store.sqlite import SqliteStore

__all__ = [
    "FlowRecord",
    "KVEntry",
    "KVStore",
    "KVType",
    "MemoryStore",
    "Page",
    "PostgresStore",
    "SqliteStore",
    "Store",
    "open_store",
]

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_POSTGRES_SCHEMES = ("postgresql://", "postgres://")


async def open_store(url_or_path: str | os.PathLike[str]) -> Store:
    """Open the store a URL or path names, creating and migrating a database as needed.

    `sqlite:///relative/file.db`, `sqlite:////absolute/file.db` and a bare path open a
    SQLite file; `postgresql://user@host:port/database` (or `postgres://`, any libpq URL)
    a PostgreSQL database; `memory://` gives an empty in-memory store.
    """
    target = os.fspath(url_or_path)
    if target == "memory://":
        return MemoryStore()
    if target.startswith("sqlite:///"):
        return SqliteStore.open(target.removeprefix("sqlite:///"))
    if target.startswith(_POSTGRES_SCHEMES):
        return await PostgresStore.open(target)
    if _SCHEME.match(target):
        raise StoreError(
            f"Unsupported database URL {target!r}: use sqlite:///PATH, a file path,"
            " postgresql://USER@HOST:PORT/DATABASE or memory://"
        )
    return SqliteStore.open(target)
