"""Flows and tasks as Kestra's API writes them in JSON.

Kestra serialises the parsed flow, not the YAML: canonical task types (legacy names resolved),
camelCase property names, ISO-8601 durations, log levels by name, null properties left out.
`plain()` does that for any parsed record; `flow_json()` adds what the store knows of a
revision (number, deleted flag, last update, source).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from datetime import date, datetime, time, timedelta
from enum import Enum, IntEnum
from typing import Any

from pydantic import BaseModel

from lanner.clock import format_instant
from lanner.durations import format_duration
from lanner.exceptions import FlowError
from lanner.flows import Flow
from lanner.properties import Expr
from lanner.store import FlowRecord

__all__ = ["flow_json", "plain"]

# Jackson writes non-finite numbers as these strings; JSON has no literal for them.
_NON_FINITE = {math.inf: "Infinity", -math.inf: "-Infinity"}


def plain(value: Any) -> Any:
    """Turn a parsed value (records, templates, enums, durations) into plain JSON values."""
    if isinstance(value, BaseModel):
        return _record(value)
    if isinstance(value, Expr):
        return value.source
    if isinstance(value, Enum):
        # Integer enums (log levels) are written in flows by name.
        return value.name if isinstance(value, IntEnum) else value.value
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, datetime):
        return format_instant(value) if value.tzinfo is not None else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return _NON_FINITE.get(value, "NaN")
    if is_dataclass(value) and not isinstance(value, type):
        return {item.name: plain(getattr(value, item.name)) for item in fields(value)}
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(item) for item in value]
    return value


def _record(model: BaseModel) -> dict[str, Any]:
    """Write a record's set properties under their YAML names, nulls left out."""
    result: dict[str, Any] = {}
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        if value is not None:
            result[info.serialization_alias or info.alias or name] = plain(value)
    return result


def flow_json(
    record: FlowRecord, flow: Flow | FlowError, *, source: bool = False
) -> dict[str, Any]:
    """Return a stored revision as Kestra's Flow JSON.

    A revision that no longer parses (a task type was removed, say) is still listed, as Kestra
    lists it: with what the store knows and an `exception` saying why.
    """
    if isinstance(flow, FlowError):
        body: dict[str, Any] = {
            "id": record.id,
            "namespace": record.namespace,
            "tasks": [],
            "disabled": False,
            "exception": str(flow),
        }
    else:
        body = _record(flow)
    body["revision"] = record.revision
    body["deleted"] = record.deleted
    body["draft"] = False
    body["updated"] = format_instant(record.updated)
    if source:
        body["source"] = record.source
    return body
