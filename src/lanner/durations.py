"""ISO-8601 durations as Kestra reads and prints them (`java.time.Duration`).

Kestra flows write durations the Java way: `PT5M6S`, `P1D`, `PT0.5S`, `-PT6H3M`. Java's grammar
has days, hours, minutes and seconds only (no years, months or weeks, whose length varies), each
part may carry its own sign, and only seconds may have a fraction. Java prints a duration without
days (`P1D` prints `PT24H`); `format_duration` does the same so values round-trip with Kestra.
"""

from __future__ import annotations

import re
from datetime import timedelta

__all__ = ["format_duration", "parse_duration"]

_DURATION = re.compile(
    r"""
    (?P<sign>[-+]?)P
    (?:(?P<days>[-+]?\d+)D)?
    (?:T
        (?:(?P<hours>[-+]?\d+)H)?
        (?:(?P<minutes>[-+]?\d+)M)?
        (?:(?P<seconds>[-+]?\d+)(?:[.,](?P<fraction>\d{0,9}))?S)?
    )?
    """,
    re.IGNORECASE | re.VERBOSE,
)

_NANOS_PER_SECOND = 1_000_000_000
_MICROSECOND = timedelta(microseconds=1)


def parse_duration(text: str) -> timedelta:
    """Parse an ISO-8601 duration such as `PT5M6S`, `P1D` or `PT0.5S`.

    Raises ValueError when `text` is not a duration Java's `Duration.parse` accepts. Fractions
    below a microsecond are truncated, since `timedelta` cannot hold them.
    """
    match = _DURATION.fullmatch(text.strip())
    if match is None or not _has_a_part(match, text):
        raise ValueError(f"Text cannot be parsed to a Duration: {text}")
    seconds = _part(match, "seconds")
    # The fraction takes the sign of its seconds, so `PT-1.5S` is minus one and a half seconds.
    fraction = int((match["fraction"] or "").ljust(6, "0")[:6])
    if match["seconds"] is not None and match["seconds"].startswith("-"):
        fraction = -fraction
    total = timedelta(
        days=_part(match, "days"),
        hours=_part(match, "hours"),
        minutes=_part(match, "minutes"),
        seconds=seconds,
        microseconds=fraction,
    )
    return -total if match["sign"] == "-" else total


def _has_a_part(match: re.Match[str], text: str) -> bool:
    """Tell whether the duration has at least one part and no `T` left without a time part."""
    names = ("days", "hours", "minutes", "seconds")
    if all(match[name] is None for name in names):
        return False
    has_time = any(match[name] is not None for name in names[1:])
    return has_time or "t" not in text.lower()


def _part(match: re.Match[str], name: str) -> int:
    value = match[name]
    return int(value) if value is not None else 0


def format_duration(duration: timedelta) -> str:
    """Print `duration` as Java's `Duration.toString` does: `PT1.2S`, `PT24H`, `PT-0.5S`."""
    micros = duration // _MICROSECOND
    # Java keeps whole seconds rounded down and a non-negative nano part.
    seconds, remainder = divmod(micros, 1_000_000)
    nanos = remainder * 1000
    if seconds == 0 and nanos == 0:
        return "PT0S"
    hours = _java_div(seconds, 3600)
    minutes = _java_div(_java_mod(seconds, 3600), 60)
    secs = _java_mod(seconds, 60)
    text = "PT"
    if hours:
        text += f"{hours}H"
    if minutes:
        text += f"{minutes}M"
    if secs == 0 and nanos == 0:
        return text
    return text + _seconds_part(secs, nanos) + "S"


def _seconds_part(secs: int, nanos: int) -> str:
    """Print the seconds with their fraction, Java style (`-0.5` for minus half a second)."""
    if nanos == 0:
        return str(secs)
    if secs < 0:
        whole = "-0" if secs == -1 else str(secs + 1)
        digits = str(2 * _NANOS_PER_SECOND - nanos)[1:]
    else:
        whole = str(secs)
        digits = str(nanos + _NANOS_PER_SECOND)[1:]
    return f"{whole}.{digits.rstrip('0')}"


def _java_div(a: int, b: int) -> int:
    """Divide rounding toward zero, as Java's `/` does on integers."""
    quotient = abs(a) // abs(b)
    return quotient if (a >= 0) == (b >= 0) else -quotient


def _java_mod(a: int, b: int) -> int:
    """Take the remainder with the sign of the dividend, as Java's `%` does."""
    return a - b * _java_div(a, b)
