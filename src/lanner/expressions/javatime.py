"""Java `DateTimeFormatter` patterns and predefined formatters, for formatting and parsing.

Patterns use Java's letters (`yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX`, `MMMM dd, yyyy`, `EEE`...);
text fields are English, as with Kestra's default locale. Python datetimes hold microseconds,
so nanosecond fields are microseconds padded with zeros.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from lanner.expressions.runtime import RenderFailure

MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


@dataclass(frozen=True, slots=True)
class Field:
    """One run of a pattern letter (`yyyy` is Field("y", 4)) or a literal (letter "")."""

    letter: str
    count: int
    literal: str = ""


@functools.lru_cache(maxsize=256)
def tokenize(pattern: str) -> tuple[Field, ...]:
    """Split a Java pattern into letter runs and literal text."""
    fields: list[Field] = []
    position = 0
    while position < len(pattern):
        char = pattern[position]
        if char == "'":
            end = position + 1
            text: list[str] = []
            while end < len(pattern):
                if pattern[end] == "'":
                    if pattern[end + 1 : end + 2] == "'":
                        text.append("'")
                        end += 2
                        continue
                    break
                text.append(pattern[end])
                end += 1
            fields.append(Field("", 0, "".join(text) if end > position + 1 else "'"))
            position = end + 1
        elif char.isascii() and char.isalpha():
            end = position
            while end < len(pattern) and pattern[end] == char:
                end += 1
            fields.append(Field(char, end - position))
            position = end
        elif char in "[]":
            position += 1  # optional sections: always printed, optional when parsing
        else:
            fields.append(Field("", 0, char))
            position += 1
    return tuple(fields)


# -- formatting ------------------------------------------------------------------------------


def _offset_parts(value: datetime) -> tuple[str, int, int, int]:
    delta = value.utcoffset() or timedelta(0)
    seconds = int(delta.total_seconds())
    sign = "+" if seconds >= 0 else "-"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return sign, hours, minutes, secs


def format_offset(value: datetime, count: int, zero: str | None) -> str:
    """`X`/`x` style offsets; `zero` is what a zero offset prints as (`Z`), None for digits."""
    sign, hours, minutes, seconds = _offset_parts(value)
    if zero is not None and hours == minutes == seconds == 0:
        return zero
    colon = ":" if count in (3, 5) else ""
    text = f"{sign}{hours:02d}"
    if count == 1:
        return text + (f"{minutes:02d}" if minutes else "")
    text += f"{colon}{minutes:02d}"
    if count >= 4 and seconds:
        text += f"{colon}{seconds:02d}"
    return text


def _localized_offset(value: datetime, full: bool) -> str:
    sign, hours, minutes, _ = _offset_parts(value)
    if hours == minutes == 0:
        return "GMT"
    if full:
        return f"GMT{sign}{hours:02d}:{minutes:02d}"
    return f"GMT{sign}{hours}" + (f":{minutes:02d}" if minutes else "")


def _text(names: list[str], index: int, count: int) -> str:
    name = names[index]
    return name if count == 4 else name[0] if count == 5 else name[:3]


def _number(value: int, count: int) -> str:
    return f"{value:0{count}d}" if value >= 0 else f"-{-value:0{count}d}"


def _zone_id(value: datetime) -> str:
    key = getattr(value.tzinfo, "key", None)
    return key if isinstance(key, str) else format_offset(value, 5, "Z")


def _field_text(field: Field, value: datetime) -> str:
    letter, count = field.letter, field.count
    formatter = _FORMATTERS.get(letter)
    if formatter is None:
        raise RenderFailure(f"Unknown pattern letter '{letter}'")
    return formatter(value, count)


def _year(value: datetime, count: int) -> str:
    return f"{value.year % 100:02d}" if count == 2 else _number(value.year, count)


def _week_year(value: datetime, count: int) -> str:
    year = value.isocalendar()[0]
    return f"{year % 100:02d}" if count == 2 else _number(year, count)


def _month(value: datetime, count: int) -> str:
    return _number(value.month, count) if count <= 2 else _text(MONTHS, value.month - 1, count)


def _fraction(value: datetime, count: int) -> str:
    return f"{value.microsecond:06d}{'0' * 3}"[:count].ljust(count, "0")


def _hour12(value: datetime, count: int) -> str:
    return _number(value.hour % 12 or 12, count)


_FORMATTERS: dict[str, Callable[[datetime, int], str]] = {
    "G": lambda v, c: "AD" if c < 4 else "Anno Domini",
    "y": _year,
    "u": _year,
    "Y": lambda v, c: _week_year(v, c),
    "M": _month,
    "L": _month,
    "d": lambda v, c: _number(v.day, c),
    "D": lambda v, c: _number(v.timetuple().tm_yday, c),
    "Q": lambda v, c: (
        _number((v.month - 1) // 3 + 1, c) if c <= 2 else f"Q{(v.month - 1) // 3 + 1}"
    ),
    "q": lambda v, c: _number((v.month - 1) // 3 + 1, c),
    "w": lambda v, c: _number(v.isocalendar()[1], c),
    "E": lambda v, c: _text(DAYS, v.weekday(), max(c, 3)),
    "e": lambda v, c: (
        _number((v.weekday() + 1) % 7 + 1, c) if c <= 2 else _text(DAYS, v.weekday(), c)
    ),
    "a": lambda v, c: "AM" if v.hour < 12 else "PM",
    "H": lambda v, c: _number(v.hour, c),
    "k": lambda v, c: _number(v.hour or 24, c),
    "K": lambda v, c: _number(v.hour % 12, c),
    "h": _hour12,
    "m": lambda v, c: _number(v.minute, c),
    "s": lambda v, c: _number(v.second, c),
    "S": _fraction,
    "n": lambda v, c: _number(v.microsecond * 1000, c),
    "A": lambda v, c: _number(
        (v.hour * 3600 + v.minute * 60 + v.second) * 1000 + v.microsecond // 1000, c
    ),
    "N": lambda v, c: _number(
        (v.hour * 3600 + v.minute * 60 + v.second) * 10**9 + v.microsecond * 1000, c
    ),
    "V": lambda v, c: _zone_id(v),
    "z": lambda v, c: v.tzname() or _zone_id(v),
    "O": lambda v, c: _localized_offset(v, c == 4),
    "X": lambda v, c: format_offset(v, c, "Z"),
    "x": lambda v, c: format_offset(v, c, None),
    "Z": lambda v, c: (
        format_offset(v, 2, None)
        if c <= 3
        else (_localized_offset(v, True) if c == 4 else format_offset(v, 5, "Z"))
    ),
}


def format_pattern(value: datetime, pattern: str) -> str:
    """Format `value` with a Java pattern."""
    return "".join(
        field.literal if not field.letter else _field_text(field, value)
        for field in tokenize(pattern)
    )


# -- predefined formatters -------------------------------------------------------------------


def _iso_local_time(value: datetime) -> str:
    text = f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
    return text + (f".{value.microsecond:06d}".rstrip("0") if value.microsecond else "")


def _iso_offset(value: datetime) -> str:
    return format_offset(value, 5, "Z")


def _region(value: datetime) -> str:
    key = getattr(value.tzinfo, "key", None)
    return f"[{key}]" if isinstance(key, str) else ""


def _iso_instant(value: datetime) -> str:
    utc = value.astimezone(UTC)
    micro = utc.microsecond
    fraction = (
        "" if not micro else f".{micro // 1000:03d}" if micro % 1000 == 0 else f".{micro:06d}"
    )
    return utc.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"


def _rfc_1123(value: datetime) -> str:
    offset = "GMT" if not value.utcoffset() else format_offset(value, 2, None)
    day = DAYS[value.weekday()][:3]
    return (
        f"{day}, {value.day} {MONTHS[value.month - 1][:3]} {value.year} {value:%H:%M:%S} {offset}"
    )


def _localized(style: str) -> Callable[[datetime], str]:
    patterns = {
        "short": "M/d/yy, h:mm a",
        "medium": "MMM d, y, h:mm:ss a",
        "long": "MMMM d, y 'at' h:mm:ss a z",
        "full": "EEEE, MMMM d, y 'at' h:mm:ss a z",
    }
    return lambda value: format_pattern(value, patterns[style])


NAMED_PATTERNS = {
    "iso": "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX",
    "iso_sec": "yyyy-MM-dd'T'HH:mm:ssXXX",
    "sql": "yyyy-MM-dd HH:mm:ss.SSSSSS",
    "sql_seq": "yyyy-MM-dd HH:mm:ss",
}

NAMED_FORMATTERS: dict[str, Callable[[datetime], str]] = {
    "iso_date_time": lambda v: f"{v:%Y-%m-%d}T{_iso_local_time(v)}{_iso_offset(v)}{_region(v)}",
    "iso_zoned_date_time": lambda v: (
        f"{v:%Y-%m-%d}T{_iso_local_time(v)}{_iso_offset(v)}{_region(v)}"
    ),
    "iso_offset_date_time": lambda v: f"{v:%Y-%m-%d}T{_iso_local_time(v)}{_iso_offset(v)}",
    "iso_date": lambda v: f"{v:%Y-%m-%d}{_iso_offset(v)}",
    "iso_time": lambda v: f"{_iso_local_time(v)}{_iso_offset(v)}",
    "iso_offset_time": lambda v: f"{_iso_local_time(v)}{_iso_offset(v)}",
    "iso_local_date": lambda v: f"{v:%Y-%m-%d}",
    "iso_local_date_time": lambda v: f"{v:%Y-%m-%d}T{_iso_local_time(v)}",
    "iso_local_time": _iso_local_time,
    "iso_instant": _iso_instant,
    "iso_ordinal_date": lambda v: f"{v:%Y-%j}{_iso_offset(v)}",
    "iso_week_date": lambda v: "{}-W{:02d}-{}".format(*v.isocalendar()) + _iso_offset(v),
    "rfc_1123_date_time": _rfc_1123,
    **{style: _localized(style) for style in ("short", "medium", "long", "full")},
}


def format_named(value: datetime, name: str) -> str:
    """Format with a Kestra format name (`iso`, `sql`, `iso_instant`, `short`…) or a pattern."""
    if name in NAMED_PATTERNS:
        return format_pattern(value, NAMED_PATTERNS[name])
    formatter = NAMED_FORMATTERS.get(name)
    return formatter(value) if formatter else format_pattern(value, name)


# -- parsing ---------------------------------------------------------------------------------

_ISO = re.compile(
    r"(?P<y>[+-]?\d{4,9})-(?P<M>\d{2})-(?P<d>\d{2})"
    r"(?:[Tt](?P<H>\d{2}):(?P<m>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<S>\d{1,9}))?)?)?"
    r"(?P<X>[Zz]|[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?)?(?:\[(?P<V>[^\]]+)\])?"
)
_OFFSET = r"[Zz]|[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?|GMT|UTC|UT"


@dataclass(slots=True)
class Parsed:
    """What a parse found: a date, maybe a time, maybe a zone."""

    day: date
    clock: tuple[int, int, int, int] | None
    zone: tzinfo | None


def parse_iso(text: str) -> Parsed:
    """Read ISO text: a zoned/offset date-time, a local date-time, or a date."""
    match = _ISO.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"Text '{text}' could not be parsed as an ISO date")
    groups = match.groupdict()
    offset = _offset(groups["X"]) if groups["X"] else None
    if (offset or groups["V"]) and groups["H"] is None:
        raise ValueError(f"Text '{text}' has an offset but no time")
    parsed = _parsed(groups, offset)
    return _in_region(parsed, _zone(groups["V"])) if groups["V"] else parsed


def _in_region(parsed: Parsed, region: tzinfo) -> Parsed:
    """Java reads `…+01:00[Europe/Paris]` as the instant the offset gives, seen in the region."""
    if parsed.zone is None or parsed.clock is None:
        return Parsed(parsed.day, parsed.clock, region)
    hour, minute, second, micro = parsed.clock
    moment = datetime.combine(parsed.day, time(hour, minute, second, micro), parsed.zone)
    local = moment.astimezone(region)
    return Parsed(local.date(), (local.hour, local.minute, local.second, local.microsecond), region)


def _parsed(groups: dict[str, str | None], zone: tzinfo | None) -> Parsed:
    day = date(int(groups["y"] or 0), int(groups["M"] or 1), int(groups["d"] or 1))
    if groups.get("H") is None:
        return Parsed(day, None, zone)
    fraction = (groups.get("S") or "").ljust(6, "0")[:6]
    clock = (
        int(groups["H"] or 0),
        int(groups.get("m") or 0),
        int(groups.get("s") or 0),
        int(fraction),
    )
    return Parsed(day, clock, zone)


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError) as exc:
        raise ValueError(f"Unknown time zone '{name}'") from exc


def _offset(text: str) -> tzinfo:
    if text.upper() in ("Z", "GMT", "UTC", "UT"):
        return UTC
    digits = text[1:].replace(":", "")
    hours, minutes, seconds = int(digits[:2]), int(digits[2:4] or 0), int(digits[4:6] or 0)
    delta = timedelta(hours=hours, minutes=minutes, seconds=seconds)
    return timezone(delta if text[0] == "+" else -delta)


def _names(names: list[str], count: int) -> str:
    shown = names if count >= 4 else [name[:3] for name in names]
    return "(" + "|".join(shown) + ")"


_PARSE_PATTERNS: dict[str, Callable[[int], str]] = {
    "y": lambda c: r"(\d{2})" if c == 2 else r"([+-]?\d{4,9})" if c >= 4 else r"(\d{1,9})",
    "M": lambda c: r"(\d{1,2})" if c == 1 else r"(\d{2})" if c == 2 else _names(MONTHS, c),
    "d": lambda c: r"(\d{1,2})" if c == 1 else r"(\d{2})",
    "H": lambda c: r"(\d{1,2})" if c == 1 else r"(\d{2})",
    "h": lambda c: r"(\d{1,2})" if c == 1 else r"(\d{2})",
    "m": lambda c: r"(\d{1,2})" if c == 1 else r"(\d{2})",
    "s": lambda c: r"(\d{1,2})" if c == 1 else r"(\d{2})",
    "S": lambda c: rf"(\d{{{c}}})",
    "n": lambda c: r"(\d{1,9})",
    "a": lambda c: r"(AM|PM|am|pm)",
    "E": lambda c: _names(DAYS, c),
    "X": lambda c: f"({_OFFSET})",
    "x": lambda c: f"({_OFFSET})",
    "Z": lambda c: f"({_OFFSET})",
    "z": lambda c: r"([A-Za-z][A-Za-z0-9_/+-]*)",
    "V": lambda c: r"([A-Za-z][A-Za-z0-9_/+-]*)",
}
_PARSE_ALIASES = {"u": "y", "L": "M", "k": "H", "K": "h", "O": "Z"}


@functools.lru_cache(maxsize=256)
def _parser(pattern: str) -> tuple[re.Pattern[str], tuple[Field, ...]]:
    regex: list[str] = []
    captured: list[Field] = []
    for field in tokenize(pattern):
        if not field.letter:
            regex.append(re.escape(field.literal))
            continue
        letter = _PARSE_ALIASES.get(field.letter, field.letter)
        builder = _PARSE_PATTERNS.get(letter)
        if builder is None:
            raise ValueError(f"Pattern letter '{field.letter}' can't be parsed")
        regex.append(builder(field.count))
        captured.append(Field(letter, field.count))
    return re.compile("".join(regex), re.IGNORECASE), tuple(captured)


def parse_pattern(text: str, pattern: str) -> Parsed:
    """Read `text` with a Java pattern (or a format name such as `rfc_1123_date_time`)."""
    if pattern == "rfc_1123_date_time":
        pattern = "EEE, d MMM yyyy HH:mm:ss Z"
    pattern = NAMED_PATTERNS.get(pattern, pattern)
    if pattern.startswith("iso"):
        return parse_iso(text)
    regex, fields = _parser(pattern)
    match = regex.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"Text '{text}' could not be parsed with pattern '{pattern}'")
    return _from_fields(dict(zip([f.letter for f in fields], match.groups(), strict=True)), fields)


def _from_fields(values: dict[str, str], fields: tuple[Field, ...]) -> Parsed:
    groups: dict[str, str | None] = {"y": values.get("y"), "d": values.get("d")}
    year = values.get("y")
    if year is not None and any(f.letter == "y" and f.count == 2 for f in fields):
        groups["y"] = str(2000 + int(year))
    month = values.get("M")
    if month is not None and not month.isdigit():
        names = [name.lower()[: len(month)] for name in MONTHS]
        month = str(names.index(month.lower()) + 1)
    groups["M"] = month
    hour = values.get("H")
    if hour is None and values.get("h") is not None:
        hour = str(int(values["h"]) % 12 + (12 if values.get("a", "").upper() == "PM" else 0))
    groups.update(H=hour, m=values.get("m"), s=values.get("s"))
    fraction = values.get("S") or (values["n"].rjust(9, "0") if values.get("n") else None)
    groups["S"] = fraction
    zone_text = values.get("V") or values.get("z")
    offset = values.get("X") or values.get("x") or values.get("Z")
    zone = _offset(offset) if offset else _zone_name(zone_text) if zone_text else None
    return _parsed(groups, zone)


def _zone_name(name: str) -> tzinfo:
    if name.upper() in ("GMT", "UTC", "UT", "Z"):
        return UTC
    return _zone(name)
