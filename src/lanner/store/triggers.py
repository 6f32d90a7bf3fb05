"""What the scheduler remembers of each trigger: the `TriggerState` record.

One state per (namespace, flow id, trigger id). It is kept as JSON with Kestra's field names for
what Kestra's trigger context has (`date`, `nextExecutionDate`, `disabled`, `backfill`,
`executionId`, `updatedDate`), plus lanner's own bookkeeping:

* `pending`: a date being started. It is saved *before* the execution is submitted and
  cleared after, so that a process killed in between knows, when it starts again, to look for
  that execution before starting it a second time.
* `definition` and `backfillKey`: what the schedule and its backfill were when the dates were
  computed; when the flow changes them, the dates are computed afresh.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lanner.clock import format_instant, parse_instant, utcnow
from lanner.exceptions import StoreError
from lanner.executions import Label

__all__ = ["Backfill", "PendingDate", "TriggerKey", "TriggerState", "decode_state", "encode_state"]

TriggerKey = tuple[str, str, str]
"""(namespace, flow id, trigger id)."""


@dataclass(frozen=True)
class Backfill:
    """Past dates being run: from `current` (the next one to start) up to `end`."""

    start: datetime
    end: datetime
    current: datetime | None
    labels: tuple[Label, ...] = ()
    inputs: Mapping[str, Any] | None = None
    paused: bool = False

    @property
    def done(self) -> bool:
        return self.current is None or self.current > self.end

    def to_json(self) -> dict[str, Any]:
        return _without_nulls(
            {
                "start": format_instant(self.start),
                "end": format_instant(self.end),
                "currentDate": _instant(self.current),
                "labels": [label.to_json() for label in self.labels],
                "inputs": dict(self.inputs) if self.inputs is not None else None,
                "paused": self.paused,
            }
        )

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Backfill:
        return cls(
            start=parse_instant(data["start"]),
            end=parse_instant(data["end"]),
            current=_parse(data.get("currentDate")),
            labels=tuple(Label(item["key"], item["value"]) for item in data.get("labels") or ()),
            inputs=data.get("inputs"),
            paused=bool(data.get("paused", False)),
        )


@dataclass(frozen=True)
class PendingDate:
    """A date whose execution is being started (see the module docstring)."""

    date: datetime
    backfill: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"date": format_instant(self.date), "backfill": self.backfill}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PendingDate:
        return cls(parse_instant(data["date"]), bool(data.get("backfill", False)))


@dataclass(frozen=True)
class TriggerState:
    """The scheduler's memory of one trigger of one flow."""

    namespace: str
    flow_id: str
    trigger_id: str
    type: str | None = None
    date: datetime | None = None
    """The last date an execution was started for."""
    next_date: datetime | None = None
    """The next date due (None: the schedule never fires again, or has not been computed)."""
    disabled: bool = False
    """Disabled through the API or by `stopAfter`; the flow's `disabled` properties are apart."""
    backfill: Backfill | None = None
    pending: PendingDate | None = None
    execution_id: str | None = None
    """The last execution the trigger started."""
    definition: str | None = None
    backfill_key: str | None = None
    preconditions: Mapping[str, Any] | None = None
    """Flow triggers: the upstream flows already satisfied in the current window, by key,
    each `{"date": ..., "outputs": ...}`."""
    updated: datetime = field(default_factory=utcnow)

    @property
    def key(self) -> TriggerKey:
        return (self.namespace, self.flow_id, self.trigger_id)

    def to_json(self) -> dict[str, Any]:
        return _without_nulls(
            {
                "namespace": self.namespace,
                "flowId": self.flow_id,
                "triggerId": self.trigger_id,
                "type": self.type,
                "date": _instant(self.date),
                "nextExecutionDate": _instant(self.next_date),
                "disabled": self.disabled,
                "backfill": self.backfill.to_json() if self.backfill is not None else None,
                "pending": self.pending.to_json() if self.pending is not None else None,
                "executionId": self.execution_id,
                "definition": self.definition,
                "backfillKey": self.backfill_key,
                "preconditions": dict(self.preconditions) if self.preconditions else None,
                "updatedDate": format_instant(self.updated),
            }
        )

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TriggerState:
        backfill = data.get("backfill")
        pending = data.get("pending")
        return cls(
            namespace=data["namespace"],
            flow_id=data["flowId"],
            trigger_id=data["triggerId"],
            type=data.get("type"),
            date=_parse(data.get("date")),
            next_date=_parse(data.get("nextExecutionDate")),
            disabled=bool(data.get("disabled", False)),
            backfill=Backfill.from_json(backfill) if backfill else None,
            pending=PendingDate.from_json(pending) if pending else None,
            execution_id=data.get("executionId"),
            definition=data.get("definition"),
            backfill_key=data.get("backfillKey"),
            preconditions=data.get("preconditions"),
            updated=_parse(data.get("updatedDate")) or utcnow(),
        )


def encode_state(state: TriggerState) -> str:
    """Return the JSON text a store keeps for a trigger state."""
    try:
        return json.dumps(state.to_json(), ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        what = ".".join(state.key)
        raise StoreError(f"Unable to store the state of trigger {what}: {exc}") from exc


def decode_state(text: str) -> TriggerState:
    return TriggerState.from_json(json.loads(text))


def _instant(moment: datetime | None) -> str | None:
    return format_instant(moment) if moment is not None else None


def _parse(text: str | None) -> datetime | None:
    return parse_instant(text) if text else None


def _without_nulls(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if value is not None}
