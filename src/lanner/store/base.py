"""The `Store` Protocol: where flows, executions, task runs and log lines are kept.

Every backend (memory, SQLite, later PostgreSQL) implements it and passes the same tests.
Methods are async so that a networked backend fits behind the same calls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from lanner.executions import Execution, Level, LogEntry, TaskRun
from lanner.metrics import MetricEntry
from lanner.states import State
from lanner.store.kv import KVStore
from lanner.store.triggers import TriggerState

__all__ = ["FlowRecord", "LogTail", "Page", "Store"]

T = TypeVar("T")


@dataclass(frozen=True)
class FlowRecord:
    """One revision of a flow's source; `deleted` marks the revision that deleted the flow."""

    namespace: str
    id: str
    revision: int
    source: str
    deleted: bool
    updated: datetime


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a search, with the number of matches over all pages."""

    results: list[T]
    total: int


@dataclass(frozen=True)
class LogTail:
    """Log lines read after a position, and the position to read the next ones after."""

    entries: list[LogEntry]
    position: int
    """Where the lines read end: give it back to `Store.logs_after` to read only newer ones."""


class Store(Protocol):
    """Keep flows, executions, task runs and logs.

    Filters shared by the searches:

    * `namespace` matches that namespace and those under it (`company` matches `company` and
      `company.team`, not `companyx`), as Kestra does.
    * `query` is a substring, case-insensitive for ASCII letters.
    * `page` counts from 1; `size` is the number of results per page; both must be >= 1.

    A method returns once what it wrote is committed: a process killed right after loses
    nothing. Database failures raise `StoreError`.

    `kv` is the store's KV store. Its methods are synchronous, unlike these: expressions read
    it while rendering, which cannot wait.
    """

    kv: KVStore

    async def save_flow(
        self, namespace: str, flow_id: str, source: str, *, deleted: bool = False
    ) -> FlowRecord:
        """Save a new revision of a flow, unless nothing changed.

        The new revision is the last one + 1; when `source` and `deleted` equal the last
        revision's, that revision is returned unchanged. Deleting a flow is saving a revision
        with `deleted=True` (a soft delete: every revision stays readable).
        """
        ...

    async def get_flow(
        self,
        namespace: str,
        flow_id: str,
        revision: int | None = None,
        *,
        allow_deleted: bool = False,
    ) -> FlowRecord | None:
        """Return a revision of a flow (the last one by default).

        A revision marked deleted is returned only with `allow_deleted`.
        """
        ...

    async def flow_revisions(self, namespace: str, flow_id: str) -> list[FlowRecord]:
        """Return every revision of a flow, deleted ones included, oldest first."""
        ...

    async def search_flows(
        self,
        *,
        namespace: str | None = None,
        query: str | None = None,
        page: int = 1,
        size: int = 10,
    ) -> Page[FlowRecord]:
        """Return the last revision of each flow that is not deleted, by namespace then id.

        `query` matches a substring of the flow's id or namespace.
        """
        ...

    async def save_execution(
        self, execution: Execution, task_runs: Sequence[TaskRun] | None = None
    ) -> str | None:
        """Insert or update an execution and some of its task runs, in one transaction.

        `task_runs` are the task runs that changed since the last save; the others are left
        as stored (the engine saves after every state change, so this stays cheap). With None,
        the stored task runs are replaced by `execution.task_runs`, which also drops task runs
        the execution no longer has. Task runs keep the order they have in
        `execution.task_runs`, and their `due_at`.

        Return the execution's new stamp (see `execution_stamp`), or None.
        """
        ...

    async def save_step(
        self,
        execution: Execution,
        task_runs: Sequence[TaskRun] | None,
        logs: Sequence[LogEntry],
        metrics: Sequence[MetricEntry],
    ) -> str | None:
        """Save what one executor step wrote: log lines, metrics, then the execution.

        A store that can does it in one transaction (one commit instead of three); the others
        write in that order, so the lines of a step are stored before the state they explain.
        """
        await self.append_logs(logs)
        await self.append_metrics(metrics)
        return await self.save_execution(execution, task_runs)

    async def execution_stamp(self, execution_id: str) -> str | None:
        """Return a token that changes on every write of the execution, None if unknown.

        A process that keeps an execution in memory compares the stamp its own last save
        returned with this one to learn, cheaply, whether anyone else wrote the execution since.
        A store that keeps no stamps returns None for every execution: nothing may be cached.
        """
        ...

    async def get_execution(self, execution_id: str) -> Execution | None:
        """Return an execution with all its task runs, in creation order."""
        ...

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
        """Return executions, whole, ordered by start date (newest first by default).

        `states` keeps executions whose current state is one of them; `labels` keeps those
        carrying every given key/value pair; `start_after` and `start_before` bound the start
        date, both inclusive.
        """
        ...

    async def executions_in_states(self, states: Sequence[State]) -> list[Execution]:
        """Return every execution whose current state is one of `states`, oldest first."""
        ...

    async def execution_states(self, execution_ids: Sequence[str]) -> dict[str, State]:
        """Return the current state of those of these executions that exist (one query)."""
        ...

    async def delete_execution(
        self, execution_id: str, *, keep_logs: bool = False, keep_metrics: bool = False
    ) -> bool:
        """Delete an execution with its task runs, logs and metrics; say whether it existed.

        With `keep_logs` or `keep_metrics`, its log lines or metrics stay, found by the
        searches of its flow (as Kestra's `deleteLogs=false` and `deleteMetrics=false` keep
        them).
        """
        ...

    async def append_logs(self, entries: Sequence[LogEntry]) -> None:
        """Append log lines, in one transaction."""
        ...

    async def get_logs(
        self,
        execution_id: str,
        *,
        min_level: Level | None = None,
        task_id: str | None = None,
        task_run_id: str | None = None,
        attempt: int | None = None,
    ) -> list[LogEntry]:
        """Return the log lines of an execution in the order they were appended.

        `min_level` keeps that level and the more severe ones; `attempt` is an attempt number.
        """
        ...

    async def get_logs_json(
        self,
        execution_id: str,
        *,
        min_level: Level | None = None,
        task_id: str | None = None,
        task_run_id: str | None = None,
        attempt: int | None = None,
    ) -> list[str]:
        """Return the lines `get_logs` returns, each as the JSON text of `LogEntry.to_json()`.

        Stores keep each line as that text: an API answer made of them needs no decoding and
        encoding again of every line (an execution may have hundreds of thousands).
        """
        ...

    async def logs_after(self, execution_id: str, position: int = 0) -> LogTail:
        """Return the log lines of an execution appended after `position`, in append order.

        Position 0 is before the first line. Reading on from each returned position gives
        every line once: none twice, none skipped, even while other processes append. A
        position means something only to the store that returned it, for that execution.
        Following a running execution costs what the new lines cost, not what its whole log
        does.
        """
        ...

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
        """Return log lines of any execution, newest first; `query` matches the message.

        `after` and `before` bound the lines' timestamps, both inclusive.
        """
        ...

    async def delete_logs(self, execution_id: str) -> int:
        """Delete the log lines of an execution; return how many there were."""
        ...

    async def delete_flow_logs(
        self, namespace: str, flow_id: str, *, trigger_id: str | None = None
    ) -> int:
        """Delete the log lines of a flow (only its trigger's with `trigger_id`); count them."""
        ...

    async def append_metrics(self, entries: Sequence[MetricEntry]) -> None:
        """Append task-run metrics, in one transaction."""
        ...

    async def get_metrics(
        self,
        execution_id: str,
        *,
        task_id: str | None = None,
        task_run_id: str | None = None,
        page: int = 1,
        size: int = 10,
    ) -> Page[MetricEntry]:
        """Return an execution's metrics in the order they were reported."""
        ...

    async def metric_names(
        self, namespace: str, flow_id: str, task_id: str | None = None
    ) -> list[str]:
        """Return the distinct names of a flow's metrics (of one task with `task_id`), sorted."""
        ...

    async def tasks_with_metrics(self, namespace: str, flow_id: str) -> list[str]:
        """Return the ids of the tasks of a flow that reported metrics, sorted."""
        ...

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
        """Return a flow's values of one metric between two dates (inclusive), oldest first."""
        ...

    async def get_trigger_state(
        self, namespace: str, flow_id: str, trigger_id: str
    ) -> TriggerState | None:
        """Return what the scheduler remembers of a trigger, or None."""
        ...

    async def save_trigger_state(self, state: TriggerState) -> None:
        """Insert or replace the state of a trigger."""
        ...

    async def list_trigger_states(
        self, *, namespace: str | None = None, flow_id: str | None = None
    ) -> list[TriggerState]:
        """Return trigger states by namespace, flow id then trigger id.

        `namespace` matches that namespace and those under it; `flow_id` is exact.
        """
        ...

    async def delete_trigger_state(self, namespace: str, flow_id: str, trigger_id: str) -> bool:
        """Forget a trigger; say whether there was a state."""
        ...

    async def close(self) -> None:
        """Release the store's resources; closing twice is harmless."""
        ...
