"""The Schedule trigger: start an execution at each date of a cron expression."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic.alias_generators import to_camel

from lanner.executions import Label
from lanner.properties import Duration
from lanner.triggers.base import Trigger, parse_labels
from lanner.triggers.cron import CronError, CronSchedule, parse_cron, zone
from lanner.triggers.registry import register

__all__ = ["SERVER_TIMEZONE", "RecoverMissedSchedules", "Schedule", "ScheduleBackfill"]

SERVER_TIMEZONE = "UTC"
"""The zone of a Schedule without `timezone` (Kestra uses the server's zone; lanner's is UTC)."""


class RecoverMissedSchedules(StrEnum):
    """What to do with the dates a schedule missed while lanner was not running."""

    ALL = "ALL"
    LAST = "LAST"
    NONE = "NONE"


class ScheduleBackfill(BaseModel):
    """Past dates to run once: from `start` to `end` (default: when the trigger is first seen)."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        validate_by_alias=True,
        validate_by_name=False,
        alias_generator=to_camel,
    )

    start: datetime
    end: datetime | None = None
    labels: tuple[Label, ...] = ()
    inputs: dict[str, Any] | None = None

    @field_validator("start", "end")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        # A date written without an offset is read in UTC, as Kestra reads a bare date.
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    @field_validator("labels", mode="before")
    @classmethod
    def _normalize_labels(cls, value: Any) -> Any:
        return parse_labels(value)


@register
class Schedule(Trigger):
    """Start an execution at each date of `cron`, in `timezone`."""

    TYPE: ClassVar[str] = "io.kestra.plugin.core.trigger.Schedule"

    # Before `cron`: validating `cron` needs to know how many fields it has.
    with_seconds: bool = False
    timezone: str | None = None
    cron: Annotated[str, Field(min_length=1)]
    backfill: ScheduleBackfill | None = None
    recover_missed_schedules: RecoverMissedSchedules | None = None
    late_maximum_delay: Duration | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                zone(value)
            except CronError as exc:
                raise ValueError(str(exc)) from exc
        return value

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str, info: ValidationInfo) -> str:
        try:
            parse_cron(value, bool(info.data.get("with_seconds")))
        except CronError as exc:
            raise ValueError(str(exc)) from exc
        return value

    @property
    def schedule(self) -> CronSchedule:
        """Return the dates of this trigger (parsed once per expression and zone)."""
        return parse_cron(self.cron, self.with_seconds, self.timezone or SERVER_TIMEZONE)

    @property
    def recovery(self) -> RecoverMissedSchedules:
        return self.recover_missed_schedules or RecoverMissedSchedules.ALL

    def format_date(self, moment: datetime) -> str:
        """Write a date as Kestra does: ISO-8601 in the trigger's zone, to the second."""
        local = moment.astimezone(self.schedule.zone).replace(microsecond=0)
        text = local.isoformat()
        return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text

    def variables(self, date: datetime) -> dict[str, Any]:
        """Return the `trigger.*` variables of the execution for `date`."""
        found: dict[str, Any] = {"date": self.format_date(date)}
        following = self.schedule.next_after(date)
        if following is not None:
            found["next"] = self.format_date(following)
        previous = self.schedule.previous_before(date)
        if previous is not None:
            found["previous"] = self.format_date(previous)
        return found

    def definition_key(self) -> str:
        """Return what, when it changes, makes earlier schedule dates meaningless."""
        return f"{self.cron}|{self.with_seconds}|{self.timezone or SERVER_TIMEZONE}"

    def backfill_key(self) -> str | None:
        """Return an identity of the backfill asked for, so that each one runs once."""
        if self.backfill is None:
            return None
        return self.backfill.model_dump_json(by_alias=True)
