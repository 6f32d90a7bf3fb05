"""How Kestra writes values: the text form of `{{ }}` and compact JSON.

Kestra prints with Java's `toString` and Jackson, so floats look like Java doubles (`1.0`,
`1.0E7`), booleans are lower-case, maps and lists are compact JSON, and dates use `java.time`
forms. Jackson is configured with `NON_NULL`, so map entries whose value is null are left out of
JSON text unless asked for (`toJson(includeNulls=true)`).

The `Java*` number subclasses only remember which Java type a value came from (the `number` filter
can yield a `Float`, a `Long` or a `BigInteger`); they behave as plain Python numbers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any


class JavaFloat(float):
    """A float that Java would hold as `java.lang.Float`."""


class JavaLong(int):
    """An integer that Java would hold as `java.lang.Long` even when it is small."""


class JavaBigInteger(int):
    """An integer that Java would hold as `java.math.BigInteger`."""


def is_number(value: object) -> bool:
    """Return whether `value` is a number for Pebble (booleans are not)."""
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def java_double(value: float) -> str:
    """Format a float like Java's `Double.toString` (`1.0`, `42.42`, `1.0E7`, `1.0E-4`)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    magnitude = abs(value)
    if 1e-3 <= magnitude < 1e7:
        text = repr(value)
        return text if "." in text else text + ".0"
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    shown = "".join(map(str, digits)).rstrip("0") or "0"
    power = len(digits) + int(exponent) - 1
    mantissa = shown[0] + "." + (shown[1:] or "0")
    return ("-" if sign else "") + f"{mantissa}E{power}"


def _fraction(micros: int) -> str:
    """Java prints nanoseconds in groups of three digits, omitting a zero fraction."""
    if micros == 0:
        return ""
    if micros % 1000 == 0:
        return f".{micros // 1000:03d}"
    return f".{micros:06d}"


def _offset(value: datetime) -> str:
    delta = value.utcoffset() or timedelta(0)
    if delta == timedelta(0):
        return "Z"
    seconds = int(delta.total_seconds())
    sign = "+" if seconds >= 0 else "-"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{sign}{hours:02d}:{minutes:02d}"
    return text + (f":{secs:02d}" if secs else "")


def local_time_text(value: time | datetime) -> str:
    """Java's `LocalTime.toString`: seconds omitted when they and the fraction are zero."""
    text = f"{value.hour:02d}:{value.minute:02d}"
    if value.second or value.microsecond:
        text += f":{value.second:02d}{_fraction(value.microsecond)}"
    return text


def datetime_text(value: datetime) -> str:
    """Write a datetime the way Java's `toString` writes the matching `java.time` type.

    Aware UTC values are instants (`2019-10-06T18:27:49Z`); other aware values are offset
    date-times (`2013-09-08T16:19+02:00`), with the zone id appended for named zones; naive
    values are local date-times.
    """
    day = value.date().isoformat()
    if value.tzinfo is None:
        return f"{day}T{local_time_text(value)}"
    if value.tzinfo is UTC:
        clock = f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
        return f"{day}T{clock}{_fraction(value.microsecond)}Z"
    text = f"{day}T{local_time_text(value)}{_offset(value)}"
    key = getattr(value.tzinfo, "key", None)
    return f"{text}[{key}]" if key else text


def to_text(value: Any) -> str:
    """Return Kestra's text form of `value` (what `{{ value }}` prints)."""
    kind = type(value)
    if kind is str:
        return value  # type: ignore[no-any-return]
    if value is None:
        return ""
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if isinstance(value, float):
        return java_double(value)
    if isinstance(value, Mapping | list | tuple):
        return to_json(value, include_nulls=False)
    return _scalar_text(value)


def _scalar_text(value: Any) -> str:
    if isinstance(value, str | int):
        return str(int(value)) if isinstance(value, int) else str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return datetime_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return local_time_text(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, set | frozenset):
        return to_json(sorted(value, key=repr), include_nulls=False)
    return str(value)


def _json_default(value: Any) -> Any:
    """Convert what the json module can't write: dates as text, Decimals as numbers."""
    if isinstance(value, datetime | date | time):
        return _scalar_text(value)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, set | frozenset):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    raise TypeError(f"{type(value).__name__} cannot be written as JSON")


def _drop_nulls(value: Any) -> Any:
    """Return `value` without null map entries, sharing every part that has none."""
    if isinstance(value, Mapping):
        cleaned = {key: _drop_nulls(item) for key, item in value.items() if item is not None}
        same = len(cleaned) == len(value) and all(cleaned[k] is value[k] for k in cleaned)
        return value if same else cleaned
    if isinstance(value, list | tuple):
        items = [_drop_nulls(item) for item in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    return value


def to_json(value: Any, *, include_nulls: bool = True) -> str:
    """Return compact JSON for `value`: no spaces, UTF-8 kept, dates as ISO text.

    With `include_nulls=False`, map entries whose value is null are left out, as Kestra's
    Jackson mapper does when it prints a map or list inside `{{ }}`. Non-finite floats are
    written as null.
    """
    if not include_nulls:
        value = _drop_nulls(value)
    try:
        return json.dumps(
            value,
            separators=(",", ":"),
            ensure_ascii=False,
            default=_json_default,
            allow_nan=False,
        )
    except ValueError:
        return to_json(_finite(value), include_nulls=include_nulls)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def is_truthy_text(text: str | None) -> bool:
    """Apply Kestra's truthiness rule to rendered text: false iff null, "", false, 0 or -0."""
    return text is not None and text not in ("", "false", "0", "-0")


def type_name(value: object) -> str:
    """Name a value's type in user terms, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float | Decimal):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "map"
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, datetime | date | time):
        return "date"
    return type(value).__name__
