"""Service-level agreements of a flow (`sla:`): a maximum duration, or an assertion at the end.

A violated SLA adds its labels to the execution and, by its `behavior`, fails it, cancels it, or
does nothing more (NONE).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from lanner.executions import Label
from lanner.properties import Duration
from lanner.states import State


class SlaBehavior(StrEnum):
    FAIL = "FAIL"
    CANCEL = "CANCEL"
    NONE = "NONE"

    def end_state(self) -> State | None:
        """Return the state a violation ends the execution in (None: it goes on)."""
        return {SlaBehavior.FAIL: State.FAILED, SlaBehavior.CANCEL: State.CANCELLED}.get(self)


class _Sla(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        validate_by_alias=True,
        validate_by_name=False,
        alias_generator=to_camel,
    )

    id: str
    behavior: SlaBehavior = SlaBehavior.FAIL
    labels: tuple[Label, ...] = ()

    @field_validator("labels", mode="before")
    @classmethod
    def _labels(cls, value: object) -> object:
        if isinstance(value, dict):
            return tuple(Label(str(key), str(item)) for key, item in value.items())
        if isinstance(value, list):
            return tuple(Label(str(item["key"]), str(item["value"])) for item in value)
        return value


class MaxDurationSla(_Sla):
    """Violated when the execution runs longer than `duration`."""

    type: Literal["MAX_DURATION"]
    duration: Duration

    def deadline(self, started: datetime) -> datetime:
        return started + self.duration


class ExecutionAssertionSla(_Sla):
    """Violated when `assert` does not render truthy once the execution has ended."""

    type: Literal["EXECUTION_ASSERTION"]
    assert_: str = Field(alias="assert")


Sla: TypeAlias = Annotated[MaxDurationSla | ExecutionAssertionSla, Field(discriminator="type")]
