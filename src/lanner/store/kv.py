"""The KV store: typed values kept per namespace, each under a key, with an optional expiry.

Flows read it while rendering (`kv()`), so its methods are synchronous: a template cannot wait.
Every backend keeps a value as JSON text beside its type, so a date comes back a date and a
duration a duration, and the memory store refuses exactly the values SQLite refuses.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

from lanner.clock import format_instant, parse_instant
from lanner.durations import format_duration, parse_duration
from lanner.exceptions import KVConflictError, KVKeyError, StoreError

__all__ = [
    "KVEntry",
    "KVStore",
    "KVType",
    "decode_entry",
    "decode_value",
    "encode_value",
    "expiration",
    "infer_type",
    "is_expired",
    "json_value",
    "refuse_overwrite",
    "validate_key",
]

_KEY = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9._-]*")


class KVType(StrEnum):
    """The type of a stored value, as Kestra names it."""

    STRING = "STRING"
    NUMBER = "NUMBER"
    BOOLEAN = "BOOLEAN"
    DATETIME = "DATETIME"
    DATE = "DATE"
    DURATION = "DURATION"
    JSON = "JSON"


@dataclass(frozen=True)
class KVEntry:
    """One value of the KV store with its metadata; dates are aware UTC instants."""

    namespace: str
    key: str
    value: Any
    type: KVType
    creation_date: datetime
    update_date: datetime
    expiration_date: datetime | None


class KVStore(Protocol):
    """Keep typed values per namespace and key.

    Expired entries are absent: `get` and `list` skip them, `delete` reports them missing, and
    `put` with `overwrite=False` may replace them. Every method validates the key (Kestra's
    rule, `validate_key`); a value that cannot be kept, a bad key or a refused overwrite raise
    a `StoreError`.
    """

    def get(self, namespace: str, key: str) -> KVEntry | None:
        """Return the entry under `key`, or None when there is none or it expired."""
        ...

    def put(
        self,
        namespace: str,
        key: str,
        value: Any,
        *,
        ttl: timedelta | None = None,
        overwrite: bool = True,
    ) -> KVEntry:
        """Store `value` (its type inferred) and return the stored entry.

        Replacing an entry keeps its creation date. `ttl` makes the entry expire that long
        after now; without it the entry never expires. With `overwrite=False` a live entry
        is left alone and `KVConflictError` raised.
        """
        ...

    def delete(self, namespace: str, key: str) -> bool:
        """Delete an entry; say whether a live one existed."""
        ...

    def list(self, namespace: str) -> list[KVEntry]:
        """Return the live entries of one namespace (not its children), by key."""
        ...


def validate_key(key: str) -> str:
    """Return `key` when Kestra accepts it, else raise KVKeyError."""
    if not isinstance(key, str) or _KEY.fullmatch(key) is None:
        raise KVKeyError(
            f"Invalid key '{key}': a key must start with an alphanumeric character (uppercase"
            " or lowercase) and can contain alphanumeric characters (uppercase or lowercase),"
            " dots (.), underscores (_), and hyphens (-) only."
        )
    return key


def refuse_overwrite(key: str) -> KVConflictError:
    """Return the error of a `put` that may not replace a live entry (Kestra's text)."""
    return KVConflictError(
        f"Cannot set value for key '{key}'. Key already exists and `overwrite` is set to `false`."
    )


def infer_type(value: Any) -> KVType:
    """Return the type Kestra gives a value; anything else (maps, lists, null) is JSON."""
    # bool before numbers: True is an int to Python.
    if isinstance(value, bool):
        return KVType.BOOLEAN
    if isinstance(value, str):
        return KVType.STRING
    if isinstance(value, int | float | Decimal):
        return KVType.NUMBER
    if isinstance(value, datetime):
        return KVType.DATETIME
    if isinstance(value, date):
        return KVType.DATE
    if isinstance(value, timedelta):
        return KVType.DURATION
    return KVType.JSON


def encode_value(value: Any) -> tuple[KVType, str]:
    """Return a value's type and the JSON text it is kept as; StoreError if it cannot be."""
    kind = infer_type(value)
    if kind is KVType.DATETIME:
        return kind, json.dumps(format_instant(_aware(value)))
    if kind is KVType.DATE:
        return kind, json.dumps(value.isoformat())
    if kind is KVType.DURATION:
        return kind, json.dumps(format_duration(value))
    try:
        return kind, _ENCODER.encode(value)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"Unable to store a {kind.value} value in the KV store: {exc}") from exc


def decode_value(kind: KVType | str, text: str) -> Any:
    """Turn stored JSON text back into a value of its type."""
    kind = KVType(kind)
    raw = json.loads(text)
    if kind is KVType.DATETIME:
        return parse_instant(raw)
    if kind is KVType.DATE:
        return date.fromisoformat(raw)
    if kind is KVType.DURATION:
        return parse_duration(raw)
    return raw


def decode_entry(
    namespace: str,
    key: str,
    kind: KVType | str,
    text: str,
    dates: tuple[datetime, datetime, datetime | None],
) -> KVEntry:
    """Build an entry from what a backend keeps: type, JSON text and (created, updated, expires)."""
    created, updated, expires = dates
    kind = KVType(kind)
    return KVEntry(namespace, key, decode_value(kind, text), kind, created, updated, expires)


def json_value(value: Any) -> Any:
    """Return a value as Kestra's JSON shows it: dates and durations become ISO-8601 text."""
    return json.loads(encode_value(value)[1])


def expiration(now: datetime, ttl: timedelta | None) -> datetime | None:
    return now + ttl if ttl is not None else None


def is_expired(expiration_date: datetime | None, now: datetime) -> bool:
    return expiration_date is not None and expiration_date <= now


def _aware(moment: datetime) -> datetime:
    """Read a naive datetime as UTC, as the rest of the store does."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _json_default(value: Any) -> Any:
    """Write what JSON has no type for inside maps and lists: dates and durations as text."""
    if isinstance(value, datetime):
        return format_instant(_aware(value))
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a finite number")
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, set | frozenset):
        return list(value)
    raise TypeError(f"{type(value).__name__} cannot be written as JSON")


# NaN and infinities are refused: they are not JSON, and no Kestra client could read them back.
_ENCODER = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), default=_json_default, allow_nan=False
)
