"""Kestra's execution and task-run states, and the trail of states a run went through."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from lanner.clock import format_instant, parse_instant, utcnow
from lanner.durations import format_duration


class State(StrEnum):
    """A state of an execution or a task run, with Kestra's names."""

    CREATED = "CREATED"
    SUBMITTED = "SUBMITTED"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    RESTARTED = "RESTARTED"
    KILLING = "KILLING"
    SUCCESS = "SUCCESS"
    WARNING = "WARNING"
    FAILED = "FAILED"
    KILLED = "KILLED"
    CANCELLED = "CANCELLED"
    QUEUED = "QUEUED"
    RETRYING = "RETRYING"
    RETRIED = "RETRIED"
    SKIPPED = "SKIPPED"
    BREAKPOINT = "BREAKPOINT"

    def is_terminated(self) -> bool:
        """Say whether nothing more will happen in this state."""
        return self in _TERMINATED

    def is_running(self) -> bool:
        """Say whether the run is in progress (RUNNING or KILLING)."""
        return self in (State.RUNNING, State.KILLING)

    def is_created(self) -> bool:
        """Say whether the run waits to start (CREATED or RESTARTED)."""
        return self in (State.CREATED, State.RESTARTED)

    def is_failed(self) -> bool:
        """Say whether the run failed."""
        return self is State.FAILED

    def is_restartable(self) -> bool:
        """Say whether a restart may pick this run up again."""
        return self in (State.FAILED, State.PAUSED, State.KILLED)


_TERMINATED = frozenset(
    {
        State.SUCCESS,
        State.WARNING,
        State.FAILED,
        State.KILLED,
        State.CANCELLED,
        State.RETRIED,
        State.SKIPPED,
    }
)

# How bad a terminal state is, for "the worst of the children" rules.
_SEVERITY = {
    State.SKIPPED: 0,
    State.SUCCESS: 1,
    State.WARNING: 2,
    State.PAUSED: 3,
    State.FAILED: 4,
    State.KILLED: 5,
}


def severity(state: State) -> int:
    """Rank a state: the higher, the worse."""
    return _SEVERITY.get(state, 1)


@dataclass(frozen=True, slots=True)
class StateHistory:
    """One state a run entered, and when."""

    state: State
    date: datetime

    def to_json(self) -> dict[str, Any]:
        return {"state": self.state.value, "date": format_instant(self.date)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StateHistory:
        return cls(State(data["state"]), parse_instant(data["date"]))


@dataclass(frozen=True, slots=True)
class StateTrail:
    """The current state of a run and every state it went through, oldest first."""

    histories: tuple[StateHistory, ...]

    @classmethod
    def start(cls, state: State = State.CREATED, at: datetime | None = None) -> StateTrail:
        """Begin a trail in `state`."""
        return cls((StateHistory(state, at or utcnow()),))

    @property
    def current(self) -> State:
        return self.histories[-1].state

    def to(self, state: State, at: datetime | None = None) -> StateTrail:
        """Return the trail extended with `state` (unchanged if it is already current)."""
        if state is self.current:
            return self
        return StateTrail((*self.histories, StateHistory(state, at or utcnow())))

    @property
    def start_date(self) -> datetime:
        return self.histories[0].date

    @property
    def end_date(self) -> datetime | None:
        """Return when the run ended (or paused), or None while it goes on."""
        last = self.histories[-1]
        if last.state.is_terminated() or last.state is State.PAUSED:
            return last.date
        return None

    @property
    def duration(self) -> timedelta:
        end = self.end_date or utcnow()
        return end - self.start_date

    def count(self, state: State) -> int:
        """Count how many times the trail entered `state`."""
        return sum(1 for history in self.histories if history.state is state)

    def last_date(self, state: State) -> datetime | None:
        """Return when the trail last entered `state`."""
        for history in reversed(self.histories):
            if history.state is state:
                return history.date
        return None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "current": self.current.value,
            "histories": [history.to_json() for history in self.histories],
            "duration": format_duration(self.duration),
            "startDate": format_instant(self.start_date),
        }
        end = self.end_date
        if end is not None:
            data["endDate"] = format_instant(end)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StateTrail:
        return cls(tuple(StateHistory.from_json(item) for item in data["histories"]))
