"""Turn a submitted input value into the Python value its declared type stands for.

Values come as strings from the CLI (`-i name=value`) and from multipart forms, and as native
values from JSON API callers and YAML `defaults`; every coercer accepts both. Failures raise
`CoercionError`, whose text is the `<reason>` part of Kestra's input error message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import yaml

from lanner.durations import format_duration, parse_duration

__all__ = [
    "TYPE_NAMES",
    "CoercionError",
    "StoreUpload",
    "Upload",
    "as_utc",
    "coerce_value",
    "display_value",
]

TYPE_NAMES: tuple[str, ...] = (
    "STRING",
    "INT",
    "FLOAT",
    "BOOLEAN",
    "BOOL",
    "DATETIME",
    "DATE",
    "TIME",
    "DURATION",
    "FILE",
    "JSON",
    "YAML",
    "URI",
    "SECRET",
    "ARRAY",
    "SELECT",
    "ENUM",
    "MULTISELECT",
    "EMAIL",
)

# A scheme of lower-case letters, `://`, then a host part: `http:/bla` and `http://` fail.
_URI = re.compile(r"[a-z]+://[^\s/?#]+(?:[/?#]\S*)?")
_INTEGER = re.compile(r"[-+]?\d+")
_DECIMAL = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


class CoercionError(ValueError):
    """A value that cannot be read as its declared type; the text is the reason."""

    @property
    def reason(self) -> str:
        return str(self)


@dataclass(frozen=True)
class Upload:
    """A file sent for a FILE input (a multipart part, or a file the CLI read)."""

    filename: str
    data: bytes


StoreUpload = Callable[[Upload], str]
"""Store an uploaded file and return its `kestra://` URI."""


def coerce_value(
    type_name: str,
    value: Any,
    *,
    item_type: str | None = None,
    store: StoreUpload | None = None,
) -> Any:
    """Return `value` read as `type_name`; `item_type` types the elements of a list type.

    `store` saves FILE uploads; without it a FILE value must already be a `kestra://` URI.
    Raises CoercionError with Kestra's reason text, ValueError for an unknown type name.
    """
    if type_name in ("ARRAY", "MULTISELECT"):
        return _to_list(type_name, value, item_type, store)
    if type_name == "FILE":
        return _to_file(value, store)
    convert = _SCALARS.get(type_name)
    if convert is None:
        raise ValueError(f"Invalid type: {type_name}")
    try:
        return convert(value)
    except CoercionError:
        raise
    except (ValueError, TypeError, yaml.YAMLError) as exc:
        raise CoercionError(_expected(type_name, value)) from exc


def _expected(type_name: str, value: Any) -> str:
    return f"Expected `{type_name}` but received `{display_value(value)}`"


def _to_string(value: Any) -> str:
    return value if isinstance(value, str) else display_value(value)


def _to_int(value: Any) -> int:
    # bool is an int in Python but never a number for Kestra.
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value):
        return int(value)
    raise ValueError(value)


def _to_float(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and _DECIMAL.fullmatch(value.strip()):
        return float(value)
    raise ValueError(value)


def _to_bool(value: Any) -> bool:
    # Java's Boolean.valueOf: only "true", in any case, is true; nothing fails.
    if isinstance(value, bool):
        return value
    return _to_string(value).lower() == "true"


def _to_datetime(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise TypeError(value)
    return as_utc(value)


def as_utc(moment: datetime) -> datetime:
    """Return `moment` in UTC; a naive moment is taken to be in UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _to_date(value: Any) -> date:
    if isinstance(value, str):
        value = date.fromisoformat(value)
    # A datetime is a date in Python; Kestra's LocalDate refuses a time part.
    if not isinstance(value, date) or isinstance(value, datetime):
        raise TypeError(value)
    return value


def _to_time(value: Any) -> time:
    if isinstance(value, str):
        value = time.fromisoformat(value)
    # Kestra's LocalTime has no offset; naive and aware times cannot be compared either.
    if not isinstance(value, time) or value.tzinfo is not None:
        raise TypeError(value)
    return value


def _to_duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, str):
        return parse_duration(value)
    raise TypeError(value)


def _to_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _to_yaml(value: Any) -> Any:
    return yaml.safe_load(value) if isinstance(value, str) else value


def _to_uri(value: Any) -> str:
    if isinstance(value, str) and _URI.fullmatch(value):
        return value
    raise ValueError(value)


_SCALARS: Mapping[str, Callable[[Any], Any]] = {
    "STRING": _to_string,
    "SECRET": _to_string,
    "EMAIL": _to_string,
    "SELECT": _to_string,
    "ENUM": _to_string,
    "INT": _to_int,
    "FLOAT": _to_float,
    "BOOLEAN": _to_bool,
    "BOOL": _to_bool,
    "DATETIME": _to_datetime,
    "DATE": _to_date,
    "TIME": _to_time,
    "DURATION": _to_duration,
    "JSON": _to_json,
    "YAML": _to_yaml,
    "URI": _to_uri,
}


def _to_file(value: Any, store: StoreUpload | None) -> str:
    if isinstance(value, str) and value.startswith("kestra://"):
        return value
    if isinstance(value, Upload):
        if store is None:
            raise CoercionError(f"the file `{value.filename}` cannot be uploaded here")
        return store(value)
    raise CoercionError(_expected("FILE", value))


def _to_list(
    type_name: str, value: Any, item_type: str | None, store: StoreUpload | None
) -> list[Any]:
    items = _as_list(type_name, value)
    if item_type is None:
        return items
    return [_to_item(item_type, item, store) for item in items]


def _as_list(type_name: str, value: Any) -> list[Any]:
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError as exc:
            raise CoercionError(_expected(type_name, value)) from exc
        if isinstance(parsed, list):
            return parsed
    raise CoercionError(_expected(type_name, value))


def _to_item(item_type: str, item: Any, store: StoreUpload | None) -> Any:
    try:
        return coerce_value(item_type, item, store=store)
    except CoercionError as exc:
        reason = f"Unable to parse array element as `{item_type}` on `{display_value(item)}`"
        raise CoercionError(reason) from exc


def display_value(value: Any) -> str:
    """Print `value` the way Kestra's messages print Java values (`null`, `true`, `[A, B]`)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        return "[" + ", ".join(display_value(item) for item in value) + "]"
    if isinstance(value, Mapping):
        pairs = (f"{display_value(k)}={display_value(v)}" for k, v in value.items())
        return "{" + ", ".join(pairs) + "}"
    return _display_scalar(value)


def _display_scalar(value: Any) -> str:
    if isinstance(value, datetime):
        return _display_instant(value)
    if isinstance(value, time):
        return _display_time(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, Upload):
        return value.filename
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return str(value)


def _display_instant(moment: datetime) -> str:
    """Print as Java's `Instant.toString`: UTC, seconds always, fraction in groups of three."""
    moment = as_utc(moment)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + _fraction(moment.microsecond) + "Z"


def _display_time(moment: time) -> str:
    """Print as Java's `LocalTime.toString`, which leaves out zero seconds (`18:27`)."""
    text = moment.strftime("%H:%M")
    if moment.second or moment.microsecond:
        text += moment.strftime(":%S") + _fraction(moment.microsecond)
    return text


def _fraction(microsecond: int) -> str:
    if microsecond == 0:
        return ""
    if microsecond % 1000 == 0:
        return f".{microsecond // 1000:03d}"
    return f".{microsecond:06d}"
