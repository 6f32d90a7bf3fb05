"""Time as lanner records it: timezone-aware UTC instants, printed the way Java prints them."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache


def utcnow() -> datetime:
    """Return the current instant in UTC, to the millisecond as Kestra records instants."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


@lru_cache(maxsize=1 << 14)
def format_instant(moment: datetime) -> str:
    """Format an instant as Java's `Instant.toString()` does: UTC, `Z`, 0/3/6 fraction digits."""
    # Every stored date goes through here, several per task run saved, and the dates of a
    # running task run are written again each time it changes: the recent ones are kept
    # (equal instants format alike, whatever their time zone).
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    micros = moment.microsecond
    if micros == 0:
        spec = "seconds"
    elif micros % 1000 == 0:
        spec = "milliseconds"
    else:
        spec = "microseconds"
    return moment.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def parse_instant(text: str) -> datetime:
    """Parse an ISO-8601 instant (`Z` or an offset) into an aware UTC datetime."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
