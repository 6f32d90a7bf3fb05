"""Date filters (`date`, `dateAdd`, `timestamp*`) and `now()`, as Kestra defines them.

Inputs may be datetimes (aware or naive), dates, epoch seconds, or text: ISO text is read as a
zoned date-time, else a local date-time in `timeZone`, else a date at midnight; `existingFormat`
gives another pattern to read with. Output zones default to the server's zone (`TZ`, else the
system's, else UTC), like Java's `ZoneId.systemDefault()`.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from lanner.expressions import javatime
from lanner.expressions.runtime import RenderFailure
from lanner.expressions.values import type_name

_TIME_UNITS = {
    "NANOS": timedelta(microseconds=0.001),
    "MICROS": timedelta(microseconds=1),
    "MILLIS": timedelta(milliseconds=1),
    "SECONDS": timedelta(seconds=1),
    "MINUTES": timedelta(minutes=1),
    "HOURS": timedelta(hours=1),
    "HALF_DAYS": timedelta(hours=12),
}
_DATE_UNITS = {"DAYS": (0, 1), "WEEKS": (0, 7), "MONTHS": (1, 0), "YEARS": (12, 0)}
_DATE_UNITS |= {"DECADES": (120, 0), "CENTURIES": (1200, 0), "MILLENNIA": (12000, 0)}


@functools.cache
def default_zone() -> tzinfo:
    """The server's zone: `TZ`, else the zone /etc/localtime links to, else UTC."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    with contextlib.suppress(OSError):
        candidates.append(os.readlink("/etc/localtime").split("zoneinfo/")[-1])
    for name in candidates:
        if name:
            try:
                return ZoneInfo(name)
            except (ValueError, KeyError):
                continue
    return ZoneInfo("UTC")


def zone(name: Any) -> tzinfo:
    """The zone named by a `timeZone` argument (an id such as `Europe/Paris`, or `+02:00`)."""
    if name is None:
        return default_zone()
    text = str(name)
    try:
        if text[:1] in "+-" or text.upper() in ("Z", "GMT", "UT"):
            return javatime._offset(text)
        return ZoneInfo(text)
    except (ValueError, KeyError, IndexError) as exc:
        raise RenderFailure(f"Unknown time zone '{text}'") from exc


def to_datetime(value: Any, target: tzinfo, existing_format: str | None = None) -> datetime:
    """Read a filter input as an aware datetime; local values are placed in `target`."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=target)
    if isinstance(value, date):
        return datetime.combine(value, time(12), target)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC).astimezone(target)
    if isinstance(value, str):
        return _parse_text(value, target, existing_format)
    raise RenderFailure(f"Expected a date, got {type_name(value)}")


def _parse_text(text: str, target: tzinfo, existing_format: str | None) -> datetime:
    try:
        if existing_format is None:
            parsed = javatime.parse_iso(text)
        else:
            parsed = javatime.parse_pattern(text, existing_format)
    except ValueError as exc:
        raise RenderFailure(str(exc)) from exc
    hour, minute, second, micro = parsed.clock or (0, 0, 0, 0)
    local = datetime.combine(parsed.day, time(hour, minute, second, micro))
    return local.replace(tzinfo=parsed.zone or target)


def _format(value: datetime, format: str, target: tzinfo) -> str:
    try:
        return javatime.format_named(value.astimezone(target), format)
    except ValueError as exc:
        raise RenderFailure(str(exc)) from exc


def date_filter(
    value: Any,
    format: str = "iso",
    timeZone: str | None = None,
    existingFormat: str | None = None,
    locale: str | None = None,
) -> Any:
    if value is None:
        return None
    target = zone(timeZone)
    return _format(to_datetime(value, target, existingFormat), format or "iso", target)


def date_add(
    value: Any,
    amount: Any = None,
    unit: str | None = None,
    format: str = "iso",
    timeZone: str | None = None,
    existingFormat: str | None = None,
    locale: str | None = None,
) -> Any:
    if value is None:
        return None
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise RenderFailure("The 'dateAdd' filter expects an integer 'amount'")
    target = zone(timeZone)
    moved = plus(to_datetime(value, target, existingFormat), amount, str(unit).upper())
    return _format(moved, format or "iso", target)


def plus(value: datetime, amount: int, unit: str) -> datetime:
    """Add `amount` Java ChronoUnits: date units keep the wall-clock time, time units don't."""
    if unit in _TIME_UNITS:
        step = _TIME_UNITS[unit] * amount
        return (value.astimezone(UTC) + step).astimezone(value.tzinfo)
    if unit not in _DATE_UNITS:
        raise RenderFailure(f"Unknown time unit '{unit}'")
    months, days = (part * amount for part in _DATE_UNITS[unit])
    local = value.replace(tzinfo=None)
    if months:
        total = local.year * 12 + local.month - 1 + months
        year, month = divmod(total, 12)
        day = min(local.day, _month_length(year, month + 1))
        local = local.replace(year=year, month=month + 1, day=day)
    return (local + timedelta(days=days)).replace(tzinfo=value.tzinfo)


def _month_length(year: int, month: int) -> int:
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


def _instant(value: Any, timeZone: str | None, existingFormat: str | None) -> datetime:
    return to_datetime(value, zone(timeZone), existingFormat)


def _epoch_parts(moment: datetime) -> tuple[int, int]:
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    seconds = delta.days * 86400 + delta.seconds
    return seconds, delta.microseconds


def timestamp(value: Any, timeZone: str | None = None, existingFormat: str | None = None) -> Any:
    if value is None:
        return None
    return _epoch_parts(_instant(value, timeZone, existingFormat))[0]


def timestamp_milli(
    value: Any,
    timeZone: str | None = None,
    existingFormat: str | None = None,
) -> Any:
    if value is None:
        return None
    seconds, micros = _epoch_parts(_instant(value, timeZone, existingFormat))
    return seconds * 1000 + micros // 1000


def timestamp_micro(
    value: Any,
    timeZone: str | None = None,
    existingFormat: str | None = None,
) -> Any:
    if value is None:
        return None
    seconds, micros = _epoch_parts(_instant(value, timeZone, existingFormat))
    # Kestra's quirk, kept on purpose: seconds in nanoseconds plus the microseconds.
    return str(seconds * 10**9 + micros)


def timestamp_nano(
    value: Any,
    timeZone: str | None = None,
    existingFormat: str | None = None,
) -> Any:
    if value is None:
        return None
    seconds, micros = _epoch_parts(_instant(value, timeZone, existingFormat))
    return str(seconds * 10**9 + micros * 1000)


def now(
    format: str = "iso",
    timeZone: str | None = None,
    existingFormat: str | None = None,
    locale: str | None = None,
) -> str:
    """The current time, formatted like the `date` filter."""
    target = zone(timeZone)
    return _format(datetime.now(UTC), format or "iso", target)


def class_name(value: Any) -> str | None:
    """The `java.time` class a date value stands for."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return "java.time.LocalDateTime"
        return "java.time.Instant" if value.tzinfo is UTC else "java.time.ZonedDateTime"
    if isinstance(value, date):
        return "java.time.LocalDate"
    if isinstance(value, time):
        return "java.time.LocalTime"
    return None


FILTERS: dict[str, Callable[..., Any]] = {
    "date": date_filter,
    "dateAdd": date_add,
    "timestamp": timestamp,
    "timestampMilli": timestamp_milli,
    "timestampMicro": timestamp_micro,
    "timestampNano": timestamp_nano,
}
