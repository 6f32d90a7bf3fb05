"""The KV store in a SQL database, table `kv` (migration 0002 of each dialect).

Its statements are synchronous, which is what lets `kv()` read while rendering. It runs in
transactions its owner opens: SQLite's store shares its own connection, PostgreSQL's gives it
a pool of synchronous connections (`postgres_kv`). The SQL is the same on both.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from lanner.clock import utcnow
from lanner.store import codec
from lanner.store.kv import (
    KVEntry,
    KVStore,
    decode_entry,
    encode_value,
    expiration,
    refuse_overwrite,
    validate_key,
)
from lanner.store.sql import Transaction

__all__ = ["SqlKV"]

_COLUMNS = "key, type, value, creation_date, update_date, expiration_date"
_LIVE = "namespace = ? AND (expiration_date IS NULL OR expiration_date > ?)"
_GET = f"SELECT {_COLUMNS} FROM kv WHERE {_LIVE} AND key = ?"
_LIST = f"SELECT {_COLUMNS} FROM kv WHERE {_LIVE} ORDER BY key"
_UPSERT = """
INSERT INTO kv (namespace, key, type, value, creation_date, update_date, expiration_date)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (namespace, key) DO UPDATE SET
    type = excluded.type, value = excluded.value, creation_date = excluded.creation_date,
    update_date = excluded.update_date, expiration_date = excluded.expiration_date
"""


class SqlKV(KVStore):
    """The KV store of a SQL store, in the transactions `read` and `write` open."""

    def __init__(self, read: Transaction, write: Transaction) -> None:
        self._read = read
        self._write = write

    def get(self, namespace: str, key: str) -> KVEntry | None:
        validate_key(key)
        now = codec.to_micros(utcnow())
        with self._read(f"read the KV entry '{key}' of {namespace}") as db:
            row = db.execute(_GET, (namespace, now, key)).fetchone()
        return _entry(namespace, row) if row is not None else None

    def put(
        self,
        namespace: str,
        key: str,
        value: Any,
        *,
        ttl: timedelta | None = None,
        overwrite: bool = True,
    ) -> KVEntry:
        validate_key(key)
        kind, text = encode_value(value)
        now = utcnow()
        expires = expiration(now, ttl)
        micros = codec.to_micros(now)
        with self._write(f"write the KV entry '{key}' of {namespace}") as db:
            row = db.execute(_GET, (namespace, micros, key)).fetchone()
            if row is not None and not overwrite:
                raise refuse_overwrite(key)
            created = row[3] if row is not None else micros
            ends = codec.to_micros(expires) if expires is not None else None
            db.execute(_UPSERT, (namespace, key, kind.value, text, created, micros, ends))
        return decode_entry(namespace, key, kind, text, (codec.from_micros(created), now, expires))

    def delete(self, namespace: str, key: str) -> bool:
        validate_key(key)
        now = codec.to_micros(utcnow())
        with self._write(f"delete the KV entry '{key}' of {namespace}") as db:
            live = db.execute(_GET, (namespace, now, key)).fetchone() is not None
            db.execute("DELETE FROM kv WHERE namespace = ? AND key = ?", (namespace, key))
        return live

    def list(self, namespace: str) -> list[KVEntry]:
        now = codec.to_micros(utcnow())
        with self._read(f"list the KV entries of {namespace}") as db:
            rows = db.execute(_LIST, (namespace, now)).fetchall()
        return [_entry(namespace, row) for row in rows]


def _entry(namespace: str, row: Sequence[Any]) -> KVEntry:
    key, kind, text, created, updated, expires = row
    dates = (codec.from_micros(created), codec.from_micros(updated), _optional_date(expires))
    return decode_entry(namespace, key, kind, text, dates)


def _optional_date(micros: int | None) -> datetime | None:
    return codec.from_micros(micros) if micros is not None else None
