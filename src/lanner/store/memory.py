"""A store in process memory: for unit tests and throw-away runs.

It keeps records as the same JSON text SQLite keeps, so it gives back equal (and separate)
objects, and the same search results in the same order.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from lanner.clock import utcnow
from lanner.executions import Execution, Level, LogEntry, TaskRun
from lanner.metrics import MetricEntry
from lanner.states import State
from lanner.store import codec
from lanner.store.base import FlowRecord, LogTail, Page, Store
from lanner.store.kv import (
    KVEntry,
    KVStore,
    KVType,
    decode_entry,
    encode_value,
    expiration,
    is_expired,
    refuse_overwrite,
    validate_key,
)
from lanner.store.triggers import TriggerKey, TriggerState, decode_state, encode_state

__all__ = ["MemoryKV", "MemoryStore"]

_T = TypeVar("_T")


@dataclass(frozen=True)
class _StoredTaskRun:
    seq: int
    order: int
    due_at: float | None
    value: str


@dataclass
class _StoredExecution:
    order: int
    namespace: str
    flow_id: str
    state: State
    start: int
    labels: frozenset[tuple[str, str]]
    value: str
    task_runs: dict[str, _StoredTaskRun] = field(default_factory=dict)
    stamp: int = 0


@dataclass(frozen=True)
class _StoredLog:
    seq: int
    timestamp: int
    entry: LogEntry


@dataclass(frozen=True)
class _StoredValue:
    type: KVType
    text: str
    dates: tuple[datetime, datetime, datetime | None]  # created, updated, expires

    @property
    def expires(self) -> datetime | None:
        return self.dates[2]


class MemoryKV(KVStore):
    """The KV store in a dictionary."""

    def __init__(self) -> None:
        self._values: dict[tuple[str, str], _StoredValue] = {}

    def get(self, namespace: str, key: str) -> KVEntry | None:
        stored = self._live(namespace, validate_key(key), utcnow())
        return (
            decode_entry(namespace, key, stored.type, stored.text, stored.dates) if stored else None
        )

    def put(
        self,
        namespace: str,
        key: str,
        value: Any,
        *,
        ttl: timedelta | None = None,
        overwrite: bool = True,
    ) -> KVEntry:
        validate_key(key)
        kind, text = encode_value(value)
        now = utcnow()
        previous = self._live(namespace, key, now)
        if previous is not None and not overwrite:
            raise refuse_overwrite(key)
        created = previous.dates[0] if previous is not None else now
        stored = _StoredValue(kind, text, (created, now, expiration(now, ttl)))
        self._values[(namespace, key)] = stored
        return decode_entry(namespace, key, kind, text, stored.dates)

    def delete(self, namespace: str, key: str) -> bool:
        stored = self._values.pop((namespace, validate_key(key)), None)
        return stored is not None and not is_expired(stored.expires, utcnow())

    def list(self, namespace: str) -> list[KVEntry]:
        now = utcnow()
        found = sorted(
            (
                (key, stored)
                for (owner, key), stored in self._values.items()
                if owner == namespace and not is_expired(stored.expires, now)
            ),
            key=lambda item: item[0],
        )
        return [decode_entry(namespace, key, s.type, s.text, s.dates) for key, s in found]

    def _live(self, namespace: str, key: str, now: datetime) -> _StoredValue | None:
        """Return the stored value unless it expired; an expired one is dropped on the way."""
        stored = self._values.get((namespace, key))
        if stored is not None and is_expired(stored.expires, now):
            del self._values[(namespace, key)]
            return None
        return stored


class MemoryStore(Store):
    """Keep everything in dictionaries; nothing survives the process."""

    def __init__(self) -> None:
        self.kv: KVStore = MemoryKV()
        self._flows: dict[tuple[str, str], list[FlowRecord]] = {}
        self._executions: dict[str, _StoredExecution] = {}
        self._logs: list[_StoredLog] = []
        self._triggers: dict[TriggerKey, str] = {}
        self._metrics: list[str] = []
        # Insertion counters: the tie-breakers SQLite gets from rowids. From 1, so that a log
        # line's counter is its position, as `seq` is in SQL (0 is before the first line).
        self._counter = itertools.count(1)

    # -- flows ------------------------------------------------------------------------------

    async def save_flow(
        self, namespace: str, flow_id: str, source: str, *, deleted: bool = False
    ) -> FlowRecord:
        revisions = self._flows.setdefault((namespace, flow_id), [])
        if revisions and revisions[-1].source == source and revisions[-1].deleted == deleted:
            return revisions[-1]
        updated = codec.from_micros(codec.to_micros(utcnow()))
        record = FlowRecord(namespace, flow_id, len(revisions) + 1, source, deleted, updated)
        revisions.append(record)
        return record

    async def get_flow(
        self,
        namespace: str,
        flow_id: str,
        revision: int | None = None,
        *,
        allow_deleted: bool = False,
    ) -> FlowRecord | None:
        revisions = self._flows.get((namespace, flow_id), [])
        if revision is None:
            record = revisions[-1] if revisions else None
        else:
            record = next((item for item in revisions if item.revision == revision), None)
        if record is None or (record.deleted and not allow_deleted):
            return None
        return record

    async def flow_revisions(self, namespace: str, flow_id: str) -> list[FlowRecord]:
        return list(self._flows.get((namespace, flow_id), []))

    async def search_flows(
        self,
        *,
        namespace: str | None = None,
        query: str | None = None,
        page: int = 1,
        size: int = 10,
    ) -> Page[FlowRecord]:
        window = codec.page_window(page, size)
        needle = codec.ascii_lower(query) if query is not None else None
        matches = [
            revisions[-1]
            for revisions in self._flows.values()
            if not revisions[-1].deleted
            and (namespace is None or codec.in_namespace(revisions[-1].namespace, namespace))
            and (needle is None or _flow_contains(revisions[-1], needle))
        ]
        matches.sort(key=lambda record: (record.namespace, record.id))
        return _page(matches, window)

    # -- executions -------------------------------------------------------------------------

    async def save_execution(
        self, execution: Execution, task_runs: Sequence[TaskRun] | None = None
    ) -> str | None:
        # Encode everything first: a value that cannot be stored changes nothing.
        value = codec.encode_execution(execution)
        runs = self._encode_task_runs(execution, task_runs)
        stored = self._executions.get(execution.id)
        kept = stored.task_runs if stored is not None and task_runs is not None else {}
        for run_id, run in runs.items():
            previous = kept.get(run_id)
            kept[run_id] = run if previous is None else _keep_position(run, previous)
        self._executions[execution.id] = _StoredExecution(
            order=stored.order if stored is not None else next(self._counter),
            namespace=execution.namespace,
            flow_id=execution.flow_id,
            state=execution.current,
            start=codec.to_micros(execution.state.start_date),
            labels=frozenset((label.key, label.value) for label in execution.labels),
            value=value,
            task_runs=kept,
            stamp=next(self._counter),
        )
        return str(self._executions[execution.id].stamp)

    async def execution_stamp(self, execution_id: str) -> str | None:
        stored = self._executions.get(execution_id)
        return None if stored is None else str(stored.stamp)

    def _encode_task_runs(
        self, execution: Execution, task_runs: Sequence[TaskRun] | None
    ) -> dict[str, _StoredTaskRun]:
        runs = execution.task_runs if task_runs is None else task_runs
        positions = {run.id: index for index, run in enumerate(execution.task_runs)}
        encoded: dict[str, _StoredTaskRun] = {}
        for offset, run in enumerate(runs):
            seq = positions.get(run.id, len(positions) + offset)
            value = codec.encode_task_run(run)
            encoded[run.id] = _StoredTaskRun(seq, next(self._counter), run.due_at, value)
        return encoded

    async def get_execution(self, execution_id: str) -> Execution | None:
        stored = self._executions.get(execution_id)
        return _decode(stored) if stored is not None else None

    async def search_executions(
        self,
        *,
        namespace: str | None = None,
        flow_id: str | None = None,
        states: Sequence[State] | None = None,
        labels: Mapping[str, str] | None = None,
        start_after: datetime | None = None,
        start_before: datetime | None = None,
        page: int = 1,
        size: int = 10,
        sort_desc: bool = True,
    ) -> Page[Execution]:
        window = codec.page_window(page, size)
        checks = _execution_checks(namespace, flow_id, states, labels, start_after, start_before)
        matches = [item for item in self._executions.values() if all(c(item) for c in checks)]
        matches.sort(key=lambda item: (item.start, item.order), reverse=sort_desc)
        found = _page(matches, window)
        return Page([_decode(item) for item in found.results], found.total)

    async def executions_in_states(self, states: Sequence[State]) -> list[Execution]:
        wanted = set(states)
        matches = [item for item in self._executions.values() if item.state in wanted]
        matches.sort(key=lambda item: (item.start, item.order))
        return [_decode(item) for item in matches]

    async def execution_states(self, execution_ids: Sequence[str]) -> dict[str, State]:
        found = {key: self._executions.get(key) for key in execution_ids}
        return {key: item.state for key, item in found.items() if item is not None}

    async def delete_execution(
        self, execution_id: str, *, keep_logs: bool = False, keep_metrics: bool = False
    ) -> bool:
        existed = self._executions.pop(execution_id, None) is not None
        if not keep_logs:
            await self.delete_logs(execution_id)
        if not keep_metrics:
            self._metrics = [
                text
                for text in self._metrics
                if codec.decode_metric(text).execution_id != execution_id
            ]
        return existed

    # -- logs -------------------------------------------------------------------------------

    async def append_logs(self, entries: Sequence[LogEntry]) -> None:
        stored = [codec.decode_log(codec.encode_log(entry)) for entry in entries]
        self._logs.extend(
            _StoredLog(next(self._counter), codec.to_micros(entry.timestamp), entry)
            for entry in stored
        )

    async def get_logs(
        self,
        execution_id: str,
        *,
        min_level: Level | None = None,
        task_id: str | None = None,
        task_run_id: str | None = None,
        attempt: int | None = None,
    ) -> list[LogEntry]:
        return [
            log.entry
            for log in self._logs
            if log.entry.execution_id == execution_id
            and (min_level is None or log.entry.level >= min_level)
            and (task_id is None or log.entry.task_id == task_id)
            and (task_run_id is None or log.entry.task_run_id == task_run_id)
            and (attempt is None or log.entry.attempt_number == attempt)
        ]

    async def get_logs_json(
        self,
        execution_id: str,
        *,
        min_level: Level | None = None,
        task_id: str | None = None,
        task_run_id: str | None = None,
        attempt: int | None = None,
    ) -> list[str]:
        entries = await self.get_logs(
            execution_id,
            min_level=min_level,
            task_id=task_id,
            task_run_id=task_run_id,
            attempt=attempt,
        )
        return [codec.encode_log(entry) for entry in entries]

    async def logs_after(self, execution_id: str, position: int = 0) -> LogTail:
        # Lines stay in counter order (appended in it, deleted without reordering): the new
        # ones are found by bisection, not by walking every line ever kept.
        start = bisect.bisect_right(self._logs, position, key=lambda log: log.seq)
        mine = [log for log in self._logs[start:] if log.entry.execution_id == execution_id]
        return LogTail([log.entry for log in mine], mine[-1].seq if mine else position)

    async def search_logs(
        self,
        *,
        namespace: str | None = None,
        flow_id: str | None = None,
        min_level: Level | None = None,
        query: str | None = None,
        after: datetime | None = None,
        before: datetime | None = None,
        page: int = 1,
        size: int = 10,
    ) -> Page[LogEntry]:
        window = codec.page_window(page, size)
        needle = codec.ascii_lower(query) if query is not None else None
        low = codec.to_micros(after) if after is not None else None
        high = codec.to_micros(before) if before is not None else None
        matches = [
            log
            for log in self._logs
            if (namespace is None or codec.in_namespace(log.entry.namespace, namespace))
            and (flow_id is None or log.entry.flow_id == flow_id)
            and (min_level is None or log.entry.level >= min_level)
            and (needle is None or needle in codec.ascii_lower(log.entry.message))
            and (low is None or log.timestamp >= low)
            and (high is None or log.timestamp <= high)
        ]
        matches.sort(key=lambda log: (log.timestamp, log.seq), reverse=True)
        found = _page(matches, window)
        return Page([log.entry for log in found.results], found.total)

    async def delete_logs(self, execution_id: str) -> int:
        kept = [log for log in self._logs if log.entry.execution_id != execution_id]
        deleted = len(self._logs) - len(kept)
        self._logs = kept
        return deleted

    async def delete_flow_logs(
        self, namespace: str, flow_id: str, *, trigger_id: str | None = None
    ) -> int:
        def doomed(entry: LogEntry) -> bool:
            return (
                entry.namespace == namespace
                and entry.flow_id == flow_id
                and (trigger_id is None or entry.trigger_id == trigger_id)
            )

        kept = [log for log in self._logs if not doomed(log.entry)]
        deleted = len(self._logs) - len(kept)
        self._logs = kept
        return deleted

    # -- metrics ----------------------------------------------------------------------------

    async def append_metrics(self, entries: Sequence[MetricEntry]) -> None:
        encoded = [codec.encode_metric(entry) for entry in entries]
        self._metrics.extend(encoded)

    def _all_metrics(self) -> list[MetricEntry]:
        return [codec.decode_metric(text) for text in self._metrics]

    async def get_metrics(
        self,
        execution_id: str,
        *,
        task_id: str | None = None,
        task_run_id: str | None = None,
        page: int = 1,
        size: int = 10,
    ) -> Page[MetricEntry]:
        offset, limit = codec.page_window(page, size)
        found = [
            entry
            for entry in self._all_metrics()
            if entry.execution_id == execution_id
            and (task_id is None or entry.task_id == task_id)
            and (task_run_id is None or entry.task_run_id == task_run_id)
        ]
        return Page(found[offset : offset + limit], len(found))

    def _of_flow(self, namespace: str, flow_id: str) -> list[MetricEntry]:
        return [
            entry
            for entry in self._all_metrics()
            if entry.namespace == namespace and entry.flow_id == flow_id
        ]

    async def metric_names(
        self, namespace: str, flow_id: str, task_id: str | None = None
    ) -> list[str]:
        entries = self._of_flow(namespace, flow_id)
        return sorted({e.name for e in entries if task_id is None or e.task_id == task_id})

    async def tasks_with_metrics(self, namespace: str, flow_id: str) -> list[str]:
        return sorted({entry.task_id for entry in self._of_flow(namespace, flow_id)})

    async def flow_metrics(
        self,
        namespace: str,
        flow_id: str,
        name: str,
        *,
        task_id: str | None = None,
        start: datetime,
        end: datetime,
    ) -> list[MetricEntry]:
        found = [
            entry
            for entry in self._of_flow(namespace, flow_id)
            if entry.name == name
            and (task_id is None or entry.task_id == task_id)
            and start <= entry.timestamp <= end
        ]
        return sorted(found, key=lambda entry: entry.timestamp)

    # -- trigger states ---------------------------------------------------------------------

    async def get_trigger_state(
        self, namespace: str, flow_id: str, trigger_id: str
    ) -> TriggerState | None:
        text = self._triggers.get((namespace, flow_id, trigger_id))
        return decode_state(text) if text is not None else None

    async def save_trigger_state(self, state: TriggerState) -> None:
        self._triggers[state.key] = encode_state(state)

    async def list_trigger_states(
        self, *, namespace: str | None = None, flow_id: str | None = None
    ) -> list[TriggerState]:
        return [
            decode_state(self._triggers[key])
            for key in sorted(self._triggers)
            if (namespace is None or codec.in_namespace(key[0], namespace))
            and (flow_id is None or key[1] == flow_id)
        ]

    async def delete_trigger_state(self, namespace: str, flow_id: str, trigger_id: str) -> bool:
        return self._triggers.pop((namespace, flow_id, trigger_id), None) is not None

    async def close(self) -> None:
        return None


_Check = Callable[[_StoredExecution], bool]


def _execution_checks(
    namespace: str | None,
    flow_id: str | None,
    states: Sequence[State] | None,
    labels: Mapping[str, str] | None,
    start_after: datetime | None,
    start_before: datetime | None,
) -> list[_Check]:
    checks: list[_Check] = []
    if namespace is not None:
        checks.append(lambda item: codec.in_namespace(item.namespace, namespace))
    if flow_id is not None:
        checks.append(lambda item: item.flow_id == flow_id)
    if states is not None:
        wanted = set(states)
        checks.append(lambda item: item.state in wanted)
    if labels:
        pairs = set(labels.items())
        checks.append(lambda item: pairs <= item.labels)
    if start_after is not None:
        after = codec.to_micros(start_after)
        checks.append(lambda item: item.start >= after)
    if start_before is not None:
        before = codec.to_micros(start_before)
        checks.append(lambda item: item.start <= before)
    return checks


def _keep_position(run: _StoredTaskRun, previous: _StoredTaskRun) -> _StoredTaskRun:
    """Update a stored task run's content; it keeps the place it was first saved at."""
    return _StoredTaskRun(previous.seq, previous.order, run.due_at, run.value)


def _decode(stored: _StoredExecution) -> Execution:
    runs = sorted(stored.task_runs.values(), key=lambda run: (run.seq, run.order))
    return codec.decode_execution(
        stored.value, (codec.decode_task_run(run.value, run.due_at) for run in runs)
    )


def _flow_contains(record: FlowRecord, needle: str) -> bool:
    return needle in codec.ascii_lower(record.id) or needle in codec.ascii_lower(record.namespace)


def _page(items: list[_T], window: tuple[int, int]) -> Page[_T]:
    offset, limit = window
    return Page(items[offset : offset + limit], len(items))
