"""Execution searches: Kestra's query parameters, old (`namespace=`) and new (`filters[...]`).

The store filters by namespace prefix, flow, states, labels and start date itself. The other
filters (text, exact namespace, trigger execution, child/main) are applied here on the store's
matches, which are then paged: correct, and fine for the sizes one server keeps.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from lanner.clock import parse_instant, utcnow
from lanner.durations import parse_duration
from lanner.exceptions import LannerError
from lanner.executions import Execution
from lanner.states import State
from lanner.store import Page, Store

_FILTER_KEY = re.compile(
    r"^filters\[(?P<field>[^\]]+)\]\[(?P<op>[^\]]+)\](?:\[(?P<key>[^\]]*)\])?$"
)
_SCAN_CHUNK = 500
_AFTER = ("GREATER_THAN", "GREATER_THAN_OR_EQUAL_TO")
_BEFORE = ("LESS_THAN", "LESS_THAN_OR_EQUAL_TO")


@dataclass
class ExecutionQuery:
    """One search: what to match, which page, which order."""

    namespace: str | None = None
    exact_namespace: bool = False
    flow_id: str | None = None
    states: list[State] | None = None
    labels: dict[str, str] = field(default_factory=dict)
    start_after: datetime | None = None
    start_before: datetime | None = None
    text: str | None = None
    trigger_execution_id: str | None = None
    child_filter: str | None = None
    page: int = 1
    size: int = 10
    sort_desc: bool = True

    def needs_scan(self) -> bool:
        """Whether a filter the store cannot apply is set."""
        return bool(
            self.text or self.exact_namespace or self.trigger_execution_id or self.child_filter
        )

    def matches(self, execution: Execution) -> bool:
        """Apply the filters the store cannot apply."""
        if self.exact_namespace and execution.namespace != self.namespace:
            return False
        if self.text and not _contains_text(execution, self.text):
            return False
        parent = _trigger_execution_id(execution)
        if self.trigger_execution_id and parent != self.trigger_execution_id:
            return False
        if self.child_filter == "CHILD":
            return parent is not None
        if self.child_filter == "MAIN":
            return parent is None
        return True


def sort_descending(sort: Iterable[str]) -> bool:
    """Read `field:asc|desc` sort values; executions are ordered by start date."""
    for item in sort:
        _, _, direction = item.partition(":")
        return direction.lower() != "asc"
    return True


def time_window(
    start_date: datetime | None, end_date: datetime | None, time_range: str | None
) -> tuple[datetime | None, datetime | None]:
    """Return the start-date bounds of the legacy `startDate`, `endDate` and `timeRange`."""
    if time_range is not None:
        if start_date is not None:
            raise LannerError("Parameters 'startDate' and 'timeRange' are mutually exclusive")
        start_date = utcnow() - abs(_duration(time_range))
    return _utc(start_date), _utc(end_date)


def apply_filters(query: ExecutionQuery, params: Iterable[tuple[str, str]]) -> None:
    """Apply the `filters[field][OPERATION]=value` parameters of newer clients to `query`."""
    for name, value in params:
        match = _FILTER_KEY.match(name)
        if match is not None:
            _apply_filter(query, match["field"], match["op"].upper(), match["key"], value)


def _apply_filter(query: ExecutionQuery, name: str, op: str, key: str | None, value: str) -> None:
    if name == "q":
        query.text = value
    elif name == "namespace" and op in ("EQUALS", "IN", "PREFIX", "STARTS_WITH"):
        query.namespace = value
        query.exact_namespace = op in ("EQUALS", "IN")
    elif name == "flowId" and op in ("EQUALS", "IN"):
        query.flow_id = value
    elif name == "state" and op in ("EQUALS", "IN"):
        query.states = [_state(item) for item in value.split(",") if item]
    elif name == "labels" and op == "EQUALS" and key:
        query.labels[key] = value
    elif name in ("startDate", "endDate") and op in (*_AFTER, *_BEFORE):
        # lanner bounds the start date; an end-date bound is read as one on the start date.
        moment = _instant(value)
        if op in _AFTER:
            query.start_after = moment
        else:
            query.start_before = moment
    elif name == "timeRange" and op == "EQUALS":
        query.start_after = utcnow() - abs(_duration(value))
    elif name == "childFilter" and op == "EQUALS":
        query.child_filter = value.upper()
    elif name == "triggerExecutionId" and op == "EQUALS":
        query.trigger_execution_id = value
    elif name != "scope":
        raise LannerError(f"Unsupported execution filter '{name}' with operation '{op}'")


async def search(store: Store, query: ExecutionQuery) -> Page[Execution]:
    """Run a search: in the store when it can apply every filter, else over its matches."""
    if not query.needs_scan():
        return await _store_page(store, query, query.page, query.size)
    matches: list[Execution] = []
    chunk_page = 1
    while True:
        chunk = await _store_page(store, query, chunk_page, _SCAN_CHUNK)
        matches.extend(execution for execution in chunk.results if query.matches(execution))
        if chunk_page * _SCAN_CHUNK >= chunk.total:
            break
        chunk_page += 1
    start = (query.page - 1) * query.size
    return Page(matches[start : start + query.size], len(matches))


async def matching_ids(store: Store, query: ExecutionQuery) -> list[str]:
    """Return the ids of every execution a search matches, on all its pages."""
    ids: list[str] = []
    page = 1
    while True:
        chunk = await search(store, replace(query, page=page, size=_SCAN_CHUNK))
        ids.extend(execution.id for execution in chunk.results)
        if page * _SCAN_CHUNK >= chunk.total:
            return ids
        page += 1


async def _store_page(store: Store, query: ExecutionQuery, page: int, size: int) -> Page[Execution]:
    return await store.search_executions(
        namespace=query.namespace,
        flow_id=query.flow_id,
        states=query.states,
        labels=query.labels or None,
        start_after=query.start_after,
        start_before=query.start_before,
        page=page,
        size=size,
        sort_desc=query.sort_desc,
    )


def _contains_text(execution: Execution, text: str) -> bool:
    needle = text.lower()
    fields = (execution.id, execution.namespace, execution.flow_id)
    return any(needle in value.lower() for value in fields)


def _trigger_execution_id(execution: Execution) -> str | None:
    trigger: Mapping[str, Any] = execution.trigger or {}
    variables = trigger.get("variables") or {}
    value = variables.get("executionId") if isinstance(variables, Mapping) else None
    return str(value) if value is not None else None


def _state(name: str) -> State:
    try:
        return State(name.strip().upper())
    except ValueError as exc:
        raise LannerError(f"Unknown state '{name}'") from exc


def _instant(text: str) -> datetime:
    try:
        return parse_instant(text)
    except ValueError as exc:
        raise LannerError(f"Invalid date '{text}'") from exc


def _duration(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise LannerError(str(exc)) from exc


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
