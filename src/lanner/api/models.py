"""Response shapes shared by several resources, for the OpenAPI document.

Handlers build their JSON with the records' own `to_json()` (Kestra's field names, null fields
left out); these models describe that JSON so clients and schema checkers know what to expect.
Unknown fields are allowed: Kestra adds fields between versions and clients ignore them.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

T = TypeVar("T")


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class StateHistoryModel(_Open):
    state: str
    date: str


class StateModel(_Open):
    current: str
    histories: list[StateHistoryModel]
    duration: str | None = None
    startDate: str | None = None
    endDate: str | None = None


class AttemptModel(_Open):
    state: StateModel
    logFile: str | None = None


class TaskRunModel(_Open):
    id: str
    executionId: str
    namespace: str
    flowId: str
    taskId: str
    parentTaskRunId: str | None = None
    value: str | None = None
    iteration: int | None = None
    attempts: list[AttemptModel] | None = None
    outputs: dict[str, Any] | None = None
    state: StateModel


class LabelModel(_Open):
    key: str
    value: str


class ExecutionMetadataModel(_Open):
    attemptNumber: int
    originalCreatedDate: str


class ExecutionModel(_Open):
    id: str
    namespace: str
    flowId: str
    flowRevision: int
    tenantId: str | None = None
    inputs: dict[str, Any] | None = None
    outputs: dict[str, Any] | None = None
    labels: list[LabelModel] | None = None
    parentId: str | None = None
    originalId: str | None = None
    trigger: dict[str, Any] | None = None
    state: StateModel
    taskRunList: list[TaskRunModel] | None = None
    deleted: bool
    metadata: ExecutionMetadataModel | None = None
    scheduleDate: str | None = None
    url: str | None = None


class LogEntryModel(_Open):
    namespace: str
    flowId: str
    taskId: str | None = None
    executionId: str
    taskRunId: str | None = None
    attemptNumber: int | None = None
    triggerId: str | None = None
    timestamp: str
    level: str
    thread: str | None = None
    message: str


class PageModel(_Open, Generic[T]):
    results: list[T]
    total: int


class MetricEntryModel(_Open):
    namespace: str
    flowId: str
    taskId: str | None = None
    executionId: str | None = None
    taskRunId: str | None = None
    type: str
    name: str
    value: float
    timestamp: str
    tags: dict[str, str] | None = None
    deleted: bool = False


class MetricAggregationsModel(_Open):
    groupBy: str
    aggregations: list[dict[str, Any]]


class ErrorModel(_Open):
    message: str
