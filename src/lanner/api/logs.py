"""Logs: list, download, follow (server-sent events), search and delete log lines."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from pydantic import BeforeValidator

from lanner.api.deps import ServicesDep
from lanner.api.models import ErrorModel, LogEntryModel, PageModel
from lanner.clock import format_instant
from lanner.exceptions import NotFoundError
from lanner.executions import Execution, Level, LogEntry
from lanner.services import Services

router = APIRouter(tags=["Logs"])

LevelName = Literal["TRACE", "DEBUG", "INFO", "WARN", "ERROR"]

# Kestra's `page` and `size` are Java ints; past that, SQLite's integers overflow too.
MAX_INT = 2**31 - 1

# How long a follower waits for a live line to reach the store before it stops looking for
# lines it may have missed, and how often it looks meanwhile.
FLUSH_WAIT = 10.0
FLUSH_POLL = 0.05


def _error(description: str) -> dict[str, Any]:
    # Spelled out: FastAPI would list an error `model` under the route's own media type.
    schema = ErrorModel.model_json_schema()
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: _error("No such execution"),
    422: _error("Invalid parameter"),
}
_INVALID: dict[int | str, dict[str, Any]] = {422: _error("Invalid parameter")}


class EventStreamResponse(StreamingResponse):
    media_type = "text/event-stream"


# One server-sent event, as OpenAPI 3.2 describes events (`data` holds a LogEntry's JSON).
_PROGRESS_EVENT: dict[str, Any] = {
    "type": "object",
    "required": ["data"],
    "properties": {
        "id": {"type": "string", "const": "progress"},
        "event": {"type": "string"},
        "data": {
            "type": "string",
            "contentMediaType": "application/json",
            "contentSchema": LogEntryModel.model_json_schema(),
        },
    },
}


def _not_a_number(value: object) -> object:
    # Pydantic reads "1.5" as seconds since 1970; the API document promises ISO-8601 only.
    if isinstance(value, str) and _is_number(value):
        raise ValueError("an ISO-8601 date-time is expected, not a number")
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


Instant = Annotated[datetime, BeforeValidator(_not_a_number)]

MinLevelQuery = Annotated[
    LevelName | None, Query(description="Keep this level and the more severe ones")
]


@dataclass(frozen=True)
class LogFilters:
    """Which lines of an execution to keep."""

    min_level: Level | None = None
    task_run_id: str | None = None
    task_id: str | None = None
    attempt: int | None = None


def log_filters(
    minLevel: MinLevelQuery = None,
    taskRunId: Annotated[str | None, Query(description="Only this task run")] = None,
    taskId: Annotated[str | None, Query(description="Only this task")] = None,
    attempt: Annotated[
        int | None, Query(ge=0, le=MAX_INT, description="Only this attempt number")
    ] = None,
) -> LogFilters:
    return LogFilters(_level(minLevel), taskRunId, taskId, attempt)


FiltersDep = Annotated[LogFilters, Depends(log_filters)]


def _level(name: LevelName | None) -> Level | None:
    return Level[name] if name is not None else None


async def _execution(services: Services, execution_id: str) -> Execution:
    execution = await services.store.get_execution(execution_id)
    if execution is None:
        raise NotFoundError(f"Unable to find execution '{execution_id}'")
    return execution


async def _logs(services: Services, execution_id: str, filters: LogFilters) -> list[LogEntry]:
    return await services.store.get_logs(
        execution_id,
        min_level=filters.min_level,
        task_id=filters.task_id,
        task_run_id=filters.task_run_id,
        attempt=filters.attempt,
    )


@router.get(
    "/logs/search",
    summary="Search log lines of every execution, newest first",
    response_model=PageModel[LogEntryModel],
    responses=_INVALID,
)
async def search_logs(
    services: ServicesDep,
    q: Annotated[str | None, Query(description="Text the message contains")] = None,
    namespace: Annotated[str | None, Query(description="This namespace and those under it")] = None,
    flowId: Annotated[str | None, Query(description="Only this flow")] = None,
    minLevel: MinLevelQuery = None,
    startDate: Annotated[Instant | None, Query(description="Not before this instant")] = None,
    endDate: Annotated[Instant | None, Query(description="Not after this instant")] = None,
    page: Annotated[int, Query(ge=1, le=MAX_INT, description="The page, from 1")] = 1,
    size: Annotated[int, Query(ge=1, le=MAX_INT, description="Lines per page")] = 10,
) -> JSONResponse:
    found = await services.store.search_logs(
        namespace=namespace,
        flow_id=flowId,
        min_level=_level(minLevel),
        query=q,
        after=as_utc(startDate),
        before=as_utc(endDate),
        page=page,
        size=size,
    )
    results = [entry.to_json() for entry in found.results]
    return JSONResponse({"results": results, "total": found.total})


def as_utc(moment: datetime | None) -> datetime | None:
    """Read a date without an offset as UTC, as Kestra does."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


@router.get(
    "/logs/{executionId}",
    summary="List the log lines of an execution, a task or a task run",
    response_model=list[LogEntryModel],
    responses=_NOT_FOUND,
)
async def list_logs(executionId: str, filters: FiltersDep, services: ServicesDep) -> Response:
    await _execution(services, executionId)
    lines = await services.store.get_logs_json(
        executionId,
        min_level=filters.min_level,
        task_id=filters.task_id,
        task_run_id=filters.task_run_id,
        attempt=filters.attempt,
    )
    # The lines' stored JSON, joined: decoding and encoding again each of hundreds of
    # thousands of lines would take most of the answer's time.
    return Response("[" + ",".join(lines) + "]", media_type="application/json")


@router.get(
    "/logs/{executionId}/download",
    summary="Download the log lines of an execution as text",
    response_class=PlainTextResponse,
    responses={200: {"description": "`<timestamp> <LEVEL> <message>` lines"}, **_NOT_FOUND},
)
async def download_logs(
    executionId: str, filters: FiltersDep, services: ServicesDep
) -> PlainTextResponse:
    execution = await _execution(services, executionId)
    entries = await _logs(services, executionId, filters)
    headers = {"Content-Disposition": f'attachment; filename="{executionId}.log"'}
    if not execution.current.is_terminated():
        headers["Cache-Control"] = "no-cache"
    return PlainTextResponse("".join(_text_line(entry) for entry in entries), headers=headers)


def _text_line(entry: LogEntry) -> str:
    return f"{format_instant(entry.timestamp)} {entry.level.name} {entry.message}\n"


@router.get(
    "/logs/{executionId}/follow",
    summary="Follow the log lines of an execution (server-sent events)",
    response_class=EventStreamResponse,
    responses={
        200: {
            "description": "One `progress` event per log line (LogEntry JSON), until the end",
            "content": {"text/event-stream": {"schema": _PROGRESS_EVENT}},
        },
        **_NOT_FOUND,
    },
)
async def follow_logs(
    executionId: str, services: ServicesDep, minLevel: MinLevelQuery = None
) -> EventStreamResponse:
    await _execution(services, executionId)
    events = _events(follow(services, executionId, _level(minLevel)))
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return EventStreamResponse(events, headers=headers)


async def _events(entries: AsyncIterator[LogEntry]) -> AsyncIterator[bytes]:
    async for entry in entries:
        data = json.dumps(entry.to_json(), ensure_ascii=False, separators=(",", ":"))
        yield f"id: progress\ndata: {data}\n\n".encode()


async def follow(
    services: Services, execution_id: str, min_level: Level | None = None
) -> AsyncGenerator[LogEntry, None]:
    """Yield an execution's stored log lines, then its live ones, until it ends.

    Nothing is lost or doubled: the subscription starts before the store is read, and the
    overlap between the two is worked out in `_Catchup`.
    """
    subscription = services.events.subscribe(execution_id)
    try:
        execution = await services.store.get_execution(execution_id)
        stored = await services.store.get_logs(execution_id, min_level=min_level)
        for entry in stored:
            yield entry
        if execution is None or execution.current.is_terminated():
            return
        catchup = _Catchup(services, execution_id, min_level, len(stored))
        while True:
            event = await subscription.queue.get()
            if isinstance(event, Execution):
                if event.current.is_terminated():
                    for entry in await catchup.at_end():
                        yield entry
                    return
            elif min_level is None or event.level >= min_level:
                for entry in await catchup.live(event):
                    yield entry
    finally:
        subscription.close()


class _Catchup:
    """Join the lines read from the store with the lines that come live from the hub.

    The engine publishes a line to the hub before it writes it to the store, and writes lines
    in the order it published them. So when the follower subscribed, the store held a prefix
    P0 of the lines published before (P), and its first read returned P0 plus maybe the first
    live lines. Once the first live line is in the store, so is all of P: a second read then
    shows both the lines of P the first read missed and how many live lines it already sent.
    Lines are told apart by value (an identical line, same instant and message in the same
    task run, is one line for this purpose).
    """

    def __init__(
        self, services: Services, execution_id: str, min_level: Level | None, sent: int
    ) -> None:
        self._services = services
        self._execution_id = execution_id
        self._min_level = min_level
        self._sent = sent
        self._joined = False
        self._skip = 0

    async def live(self, entry: LogEntry) -> list[LogEntry]:
        """Return what to send, in order, for a line that came live."""
        if not self._joined:
            self._joined = True
            return await self._join(entry)
        if self._skip:
            self._skip -= 1
            return []
        return [entry]

    async def at_end(self) -> list[LogEntry]:
        """Return the lines still unsent once the execution ended (all are stored by then)."""
        if self._joined:
            return []
        return (await self._stored())[self._sent :]

    async def _join(self, first_live: LogEntry) -> list[LogEntry]:
        stored = await self._stored_with(first_live)
        if first_live not in stored:
            return [first_live]
        position = stored.index(first_live)
        missed = stored[self._sent : position]
        # The first read may already have sent `first_live` and the live lines after it.
        self._skip = max(0, self._sent - position - 1)
        return missed if self._sent > position else [*missed, first_live]

    async def _stored_with(self, entry: LogEntry) -> list[LogEntry]:
        """Read the store until it holds `entry` (or give up after FLUSH_WAIT seconds)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + FLUSH_WAIT
        stored = await self._stored()
        while entry not in stored and loop.time() < deadline:
            await asyncio.sleep(FLUSH_POLL)
            stored = await self._stored()
        return stored

    async def _stored(self) -> list[LogEntry]:
        return await self._services.store.get_logs(self._execution_id, min_level=self._min_level)


@router.delete(
    "/logs/{executionId}",
    summary="Delete the log lines of an execution",
    response_class=Response,
    responses={200: {"description": "Deleted (no body)"}, **_NOT_FOUND},
)
async def delete_logs(executionId: str, services: ServicesDep) -> Response:
    await _execution(services, executionId)
    await services.store.delete_logs(executionId)
    return Response()


@router.delete(
    "/logs/{namespace}/{flowId}",
    summary="Delete the log lines of every execution of a flow",
    response_class=Response,
    responses={200: {"description": "Deleted (no body)"}, **_INVALID},
)
async def delete_flow_logs(
    namespace: str,
    flowId: str,
    services: ServicesDep,
    triggerId: Annotated[str | None, Query(description="Only the lines of this trigger")] = None,
) -> Response:
    await services.store.delete_flow_logs(namespace, flowId, trigger_id=triggerId)
    return Response()
