"""How queue events and worker results become the JSON text the PostgreSQL queue keeps."""

from __future__ import annotations

import json
from typing import Any

from lanner.children import ChildEvent, ChildEventKind
from lanner.clock import format_instant, parse_instant
from lanner.exceptions import StoreError
from lanner.jobs import WorkerResult
from lanner.metrics import MetricEntry
from lanner.queue.base import EventKind, ExecutorEvent, JobTicket
from lanner.states import State

__all__ = ["decode_event", "encode_event"]

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def encode_event(event: ExecutorEvent) -> str:
    """Return the payload of an event (its kind and execution are columns of their own)."""
    data: dict[str, Any] = {}
    if event.result is not None:
        data["result"] = _result_json(event.result)
    if event.outputs is not None:
        data["outputs"] = dict(event.outputs)
    if event.ticket is not None:
        data["ticket"] = ticket_json(event.ticket)
    if event.child is not None:
        data["child"] = _child_json(event.child)
    if event.state is not None:
        data["state"] = event.state.value
    try:
        return _ENCODER.encode(data)
    except (TypeError, ValueError) as exc:
        what = f"the {event.kind.value} event of execution '{event.execution_id}'"
        raise StoreError(f"Unable to queue {what}: {exc}") from exc


def decode_event(kind: str, execution_id: str, payload: str) -> ExecutorEvent:
    data = json.loads(payload)
    result = data.get("result")
    ticket = data.get("ticket")
    child = data.get("child")
    state = data.get("state")
    return ExecutorEvent(
        EventKind(kind),
        execution_id,
        result=_result_of(execution_id, result) if result is not None else None,
        outputs=data.get("outputs"),
        ticket=ticket_of(ticket) if ticket is not None else None,
        child=_child_of(child) if child is not None else None,
        state=State(state) if state is not None else None,
    )


def ticket_json(ticket: JobTicket) -> dict[str, Any]:
    return {
        "executionId": ticket.execution_id,
        "taskRunId": ticket.task_run_id,
        "flowRevision": ticket.flow_revision,
        "attempt": ticket.attempt,
        "finalState": ticket.final_state.value if ticket.final_state else None,
    }


def ticket_of(data: dict[str, Any]) -> JobTicket:
    final = data.get("finalState")
    return JobTicket(
        data["executionId"],
        data["taskRunId"],
        int(data["flowRevision"]),
        int(data["attempt"]),
        State(final) if final else None,
    )


def _result_json(result: WorkerResult) -> dict[str, Any]:
    return {
        "taskRunId": result.task_run_id,
        "state": result.state.value,
        "startedAt": format_instant(result.started_at),
        "endedAt": format_instant(result.ended_at),
        "outputs": dict(result.outputs) if result.outputs is not None else None,
        "metrics": [entry.to_json() for entry in result.metrics],
    }


def _result_of(execution_id: str, data: dict[str, Any]) -> WorkerResult:
    return WorkerResult(
        execution_id,
        data["taskRunId"],
        State(data["state"]),
        parse_instant(data["startedAt"]),
        parse_instant(data["endedAt"]),
        data["outputs"],
        tuple(MetricEntry.from_json(entry) for entry in data["metrics"]),
    )


def _child_json(event: ChildEvent) -> dict[str, Any]:
    return {
        "kind": event.kind.value,
        "taskRunId": event.task_run_id,
        "childId": event.child_id,
        "iteration": event.iteration,
        "state": event.state.value if event.state is not None else None,
        "outputs": dict(event.outputs) if event.outputs is not None else None,
        "message": event.message,
        "warnings": list(event.warnings),
    }


def _child_of(data: dict[str, Any]) -> ChildEvent:
    state = data["state"]
    return ChildEvent(
        ChildEventKind(data["kind"]),
        data["taskRunId"],
        data["childId"],
        data["iteration"],
        State(state) if state is not None else None,
        data["outputs"],
        data["message"],
        tuple(data["warnings"]),
    )
