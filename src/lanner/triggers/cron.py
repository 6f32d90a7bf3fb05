"""Cron expressions as Kestra's Schedule reads them, evaluated in a time zone.

Five fields (minute hour day-of-month month day-of-week), or six with the seconds first when
`withSeconds` is set; the nicknames `@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`,
`@midnight` and `@hourly`. Day-of-week takes 0 to 7, both 0 and 7 being Sunday.

Dates are computed on the wall clock of the zone, then turned into instants:

* a wall time that a daylight-saving change skips (02:30 when clocks jump from 02:00 to 03:00)
  fires at the first instant after the jump;
* a wall time that happens twice (when clocks go back) fires once, at its first occurrence.

So every wall time that matches fires exactly once, and the dates always increase.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, croniter

__all__ = ["CronError", "CronSchedule", "parse_cron", "zone"]

NICKNAMES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}

# Wall times skipped while looking for a date: those repeated when clocks go back (at most the
# length of the repeated period, in seconds). The bound only guards against a bug looping.
_SEARCH_LIMIT = 100_000
_SECOND = timedelta(seconds=1)


class CronError(ValueError):
    """A cron expression or a time zone that cannot be used."""


def zone(name: str) -> ZoneInfo:
    """Return the IANA time zone `name`; CronError if there is none by that name."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CronError(f"Invalid time zone '{name}'") from exc


@functools.lru_cache(maxsize=1024)
def parse_cron(expression: str, with_seconds: bool = False, timezone: str = "UTC") -> CronSchedule:
    """Check a cron expression and return its schedule in `timezone`; CronError if invalid."""
    fields = _expand(expression.strip(), with_seconds)
    wanted = 6 if with_seconds else 5
    if len(fields.split()) != wanted:
        seconds = " (withSeconds is set)" if with_seconds else ""
        raise CronError(
            f"Invalid cron expression '{expression}': expected {wanted} fields{seconds}, "
            f"got {len(fields.split())}"
        )
    if not croniter.is_valid(fields, second_at_beginning=with_seconds):
        raise CronError(f"Invalid cron expression '{expression}'")
    return CronSchedule(fields, with_seconds, zone(timezone))


def _expand(expression: str, with_seconds: bool) -> str:
    fields = NICKNAMES.get(expression.lower())
    if fields is None:
        return expression
    return f"0 {fields}" if with_seconds else fields


@dataclass(frozen=True)
class CronSchedule:
    """The dates a cron expression names, as UTC instants."""

    fields: str
    with_seconds: bool
    zone: ZoneInfo

    def next_after(self, moment: datetime) -> datetime | None:
        """Return the first date strictly after `moment`, or None if the cron never fires."""
        dates = self._iterate(self._wall(moment))
        try:
            for _ in range(_SEARCH_LIMIT):
                found = self._instant(dates.get_next(datetime))
                if found > moment:
                    return found
        except CroniterBadDateError:
            return None
        raise CronError(f"No date found after {moment.isoformat()} for '{self.fields}'")

    def first_from(self, moment: datetime) -> datetime | None:
        """Return the first date at or after `moment`."""
        return self.next_after(moment - timedelta(microseconds=1))

    def previous_before(self, moment: datetime) -> datetime | None:
        """Return the last date strictly before `moment`, or None if there is none."""
        local = moment.astimezone(self.zone)
        wall = local.replace(tzinfo=None)
        if local.fold:
            # In the repeated hour, later wall times fired earlier (on their first occurrence).
            wall += _repeated_length(local)
        dates = self._iterate(wall + _SECOND)
        try:
            for _ in range(_SEARCH_LIMIT):
                found = self._instant(dates.get_prev(datetime))
                if found < moment:
                    return found
        except CroniterBadDateError:
            return None
        raise CronError(f"No date found before {moment.isoformat()} for '{self.fields}'")

    def _iterate(self, wall: datetime) -> croniter:
        return croniter(self.fields, wall, second_at_beginning=self.with_seconds)

    def _wall(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone).replace(tzinfo=None, fold=0)

    def _instant(self, wall: datetime) -> datetime:
        """Turn a wall time into the instant it fires at (see the module docstring)."""
        first = wall.replace(tzinfo=self.zone, fold=0)
        instant = first.astimezone(UTC)
        if instant.astimezone(self.zone).replace(tzinfo=None) == wall:
            return instant
        return self._gap_end(wall)

    def _gap_end(self, wall: datetime) -> datetime:
        """Return the instant the clocks jumped at, for a wall time inside the jump."""
        # fold=1 reads the wall time with the offset from after the jump: an instant before it;
        # fold=0 reads it with the offset from before: an instant after it.
        low = wall.replace(tzinfo=self.zone, fold=1).astimezone(UTC)
        high = wall.replace(tzinfo=self.zone, fold=0).astimezone(UTC)
        after = high.astimezone(self.zone).utcoffset()
        while high - low > _SECOND:
            middle = low + (high - low) / 2
            if middle.astimezone(self.zone).utcoffset() == after:
                high = middle
            else:
                low = middle
        # Clocks change on a whole second: the one `high` is in.
        return high.replace(microsecond=0)


def _repeated_length(local: datetime) -> timedelta:
    first = local.replace(fold=0).utcoffset() or timedelta()
    second = local.utcoffset() or timedelta()
    return first - second
