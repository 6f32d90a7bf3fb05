"""Retry policies (`retry:` on a task or a flow) and when the next attempt is due."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from lanner.properties import Duration


class RetryBehavior(StrEnum):
    """What a retry does: a new attempt of the failed task run, or a new execution."""

    RETRY_FAILED_TASK = "RETRY_FAILED_TASK"
    CREATE_NEW_EXECUTION = "CREATE_NEW_EXECUTION"


class _RetryBase(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        validate_by_alias=True,
        validate_by_name=False,
        alias_generator=to_camel,
    )

    max_attempt: int | None = Field(default=None, ge=1)
    max_duration: Duration | None = None
    warning_on_retry: bool = False
    behavior: RetryBehavior = RetryBehavior.RETRY_FAILED_TASK

    def base_delay(self, attempts_done: int) -> timedelta:
        """Return the wait before the next attempt, after `attempts_done` attempts."""
        raise NotImplementedError

    def next_attempt_at(
        self, attempts_done: int, first_attempt_at: datetime, now: datetime
    ) -> datetime | None:
        """Return when the next attempt is due, or None when the policy is exhausted.

        `maxAttempt` counts the first attempt; `maxDuration` is measured from the start of the
        first attempt to the start of the next one. Whichever limit is hit first wins.
        """
        if self.max_attempt is not None and attempts_done >= self.max_attempt:
            return None
        due = now + self.base_delay(attempts_done)
        if self.max_duration is not None and due > first_attempt_at + self.max_duration:
            return None
        return due


class ConstantRetry(_RetryBase):
    """Wait the same interval before every attempt."""

    type: Literal["constant"]
    interval: Duration

    def base_delay(self, attempts_done: int) -> timedelta:
        return self.interval


class ExponentialRetry(_RetryBase):
    """Wait `interval * delayFactor ** (n - 1)`, capped at `maxInterval`."""

    type: Literal["exponential"]
    interval: Duration
    max_interval: Duration
    delay_factor: float | None = Field(default=None, gt=1)

    def base_delay(self, attempts_done: int) -> timedelta:
        factor = self.delay_factor or 2.0
        delay = self.interval * factor ** max(attempts_done - 1, 0)
        return min(delay, self.max_interval)


class RandomRetry(_RetryBase):
    """Wait a random interval between `minInterval` and `maxInterval`."""

    type: Literal["random"]
    min_interval: Duration
    max_interval: Duration

    def base_delay(self, attempts_done: int) -> timedelta:
        low = self.min_interval.total_seconds()
        high = self.max_interval.total_seconds()
        return timedelta(seconds=random.uniform(low, max(low, high)))


RetryPolicy: TypeAlias = Annotated[
    ConstantRetry | ExponentialRetry | RandomRetry, Field(discriminator="type")
]
