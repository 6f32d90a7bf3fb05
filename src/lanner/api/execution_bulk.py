"""Bulk operations on executions: restart, replay, kill, pause, resume, unqueue, force-run,
labels, status and delete.

Each takes a JSON list of execution ids (`…/<verb>/by-ids`) or the filters of a search
(`…/<verb>/by-query`, every page of it), as Kestra does. Every execution is checked first:
when one cannot be acted on (unknown, still running for a delete without
`includeNonTerminated`, already ended for a kill, not RUNNING for a pause...), the answer is a
400 `invalid bulk <verb>` whose `invalids` say which and why, and nothing is done. Otherwise
each is acted on and the answer is `{"count": n}`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from lanner import operations
from lanner.api import execution_ops
from lanner.api.deps import ServicesDep
from lanner.api.errors import error_body
from lanner.api.execution_filters import SearchQuery
from lanner.api.execution_forms import refuse_system_labels
from lanner.api.execution_search import matching_ids
from lanner.api.execution_watch import load
from lanner.api.models import ErrorModel
from lanner.engine_support import check_force_run, check_unqueue, paused_resume_values
from lanner.exceptions import InputError, LannerError
from lanner.executions import Execution, Label
from lanner.services import Services
from lanner.states import State

router = APIRouter(tags=["Executions"])

_BULK_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorModel, "description": "Some ids are invalid (nothing was done)"},
    422: {"model": ErrorModel, "description": "Invalid request"},
}

ExecutionIds = Annotated[list[str], Body(description="The execution ids")]

Problem = Callable[[Execution], Awaitable[str | None]]
"""Why an execution cannot be acted on, or None when it can."""
Action = Callable[[str], Awaitable[object]]


class BulkResponseModel(BaseModel):
    """How many executions a bulk operation acted on."""

    count: int


class LabelModel(BaseModel):
    key: str
    value: str


class LabelsByIdsRequest(BaseModel):
    """Kestra's body of `POST /executions/labels/by-ids`."""

    executionsId: list[str] = Field(description="The execution ids")
    executionLabels: list[LabelModel] = Field(description="The labels to set on each")


class DeleteOptions(BaseModel):
    """Which executions a bulk delete may delete, and what goes with them (all of it by
    default)."""

    includeNonTerminated: bool = Field(
        False,
        description="Also delete executions that have not ended: each is killed first, then"
        " deleted once it has ended",
    )
    deleteLogs: bool = Field(True, description="Also delete the executions' log lines")
    deleteMetrics: bool = Field(True, description="Also delete the executions' metrics")
    deleteStorage: bool = Field(
        True, description="Also delete the executions' files in the internal storage"
    )


DeleteQuery = Annotated[DeleteOptions, Query()]
UnqueueState = Annotated[
    State, Query(description="RUNNING (start now, the default), CANCELLED or FAILED")
]
NewStatus = Annotated[
    State, Query(description="The terminal state to give each execution (SUCCESS, FAILED...)")
]


# -- restart, replay, kill, pause, resume, force-run: nothing to give but the executions --------


@dataclass(frozen=True)
class _Verb:
    """A bulk operation that takes nothing but the executions, by ids and by query."""

    name: str
    summary: str
    """What it does, said of "executions": "Restart {}" gives each route's summary."""
    problem: Callable[[Services], Problem]
    action: Callable[[Services], Action]
    query_methods: tuple[str, ...] = ("POST",)


_VERBS = (
    _Verb("restart", "Restart {}", lambda _: _restart_problem, lambda s: s.runner.restart),
    _Verb("replay", "Replay {}, from the start", lambda _: _always_fine, lambda s: s.runner.replay),
    # Kestra's clients send the bulk kill by query as DELETE; its UI and lanner's as POST.
    _Verb("kill", "Kill {}", lambda _: _kill_problem, lambda s: s.runner.kill, ("POST", "DELETE")),
    _Verb("pause", "Pause {} (running ones)", lambda _: _pause_problem, lambda s: s.runner.pause),
    _Verb(
        "resume",
        "Resume {} (paused ones; their onResume inputs take their defaults)",
        lambda s: _resume_problem(s),
        lambda s: s.runner.resume,
    ),
    _Verb(
        "force-run",
        "Run {} now (created or queued: started; paused: resumed)",
        lambda _: _force_run_problem,
        lambda s: s.runner.force_run,
    ),
)


def _declare(verb: _Verb) -> None:
    """Add the `…/<verb>/by-ids` and `…/<verb>/by-query` routes of a verb to the router."""

    async def by_ids(request: Request, services: ServicesDep, ids: ExecutionIds) -> JSONResponse:
        act = verb.action(services)
        return await _bulk(request, services, ids, verb.name, verb.problem(services), act)

    async def by_query(request: Request, services: ServicesDep, query: SearchQuery) -> JSONResponse:
        ids = await matching_ids(services.store, query)
        act = verb.action(services)
        return await _bulk(request, services, ids, verb.name, verb.problem(services), act)

    name = verb.name.replace("-", "_")
    by_ids.__name__, by_query.__name__ = f"{name}_by_ids", f"{name}_by_query"
    router.add_api_route(
        f"/executions/{verb.name}/by-ids",
        by_ids,
        methods=["POST"],
        summary=verb.summary.format("a list of executions"),
        response_model=BulkResponseModel,
        responses=_BULK_ERRORS,
    )
    for method in verb.query_methods:  # one route per method: each has its operation id
        router.add_api_route(
            f"/executions/{verb.name}/by-query",
            by_query,
            methods=[method],
            summary=verb.summary.format("the executions a search matches"),
            response_model=BulkResponseModel,
            responses=_BULK_ERRORS,
        )


for _verb in _VERBS:
    _declare(_verb)


# -- unqueue: started, or ended without running ------------------------------------------------


@router.post(
    "/executions/unqueue/by-ids",
    summary="Start a list of queued executions now, or end them (state=CANCELLED or FAILED)",
    response_model=BulkResponseModel,
    responses=_BULK_ERRORS,
)
async def unqueue_by_ids(
    request: Request, services: ServicesDep, ids: ExecutionIds, state: UnqueueState = State.RUNNING
) -> JSONResponse:
    unqueueing = _unqueueing(services, state)
    return await _bulk(request, services, ids, "unqueue", _unqueue_problem(state), unqueueing)


@router.post(
    "/executions/unqueue/by-query",
    summary="Start the queued executions a search matches now, or end them",
    response_model=BulkResponseModel,
    responses=_BULK_ERRORS,
)
async def unqueue_by_query(
    request: Request,
    services: ServicesDep,
    query: SearchQuery,
    newState: UnqueueState = State.RUNNING,  # `state` is the search's filter here
) -> JSONResponse:
    ids = await matching_ids(services.store, query)
    unqueueing = _unqueueing(services, newState)
    return await _bulk(request, services, ids, "unqueue", _unqueue_problem(newState), unqueueing)


# -- labels and status -------------------------------------------------------------------------


@router.post(
    "/executions/labels/by-ids",
    summary="Add labels to a list of ended executions (a label given replaces its key's)",
    response_model=BulkResponseModel,
    responses=_BULK_ERRORS,
)
async def labels_by_ids(
    request: Request, services: ServicesDep, body: LabelsByIdsRequest
) -> JSONResponse:
    labelling = _labelling(services, body.executionLabels)
    return await _bulk(request, services, body.executionsId, "labels", _ended_problem, labelling)


@router.post(
    "/executions/labels/by-query",
    summary="Add labels to the ended executions a search matches",
    response_model=BulkResponseModel,
    responses=_BULK_ERRORS,
)
async def labels_by_query(
    request: Request,
    services: ServicesDep,
    query: SearchQuery,
    labels: Annotated[list[LabelModel], Body(description="The labels to set on each")],
) -> JSONResponse:
    ids = await matching_ids(services.store, query)
    return await _bulk(
        request, services, ids, "labels", _ended_problem, _labelling(services, labels)
    )


@router.post(
    "/executions/change-status/by-ids",
    summary="Set the state of a list of ended executions",
    response_model=BulkResponseModel,
    responses=_BULK_ERRORS,
)
async def change_status_by_ids(
    request: Request, services: ServicesDep, ids: ExecutionIds, newStatus: NewStatus
) -> JSONResponse:
    changing = _changing(services, newStatus)
    return await _bulk(request, services, ids, "change-status", _ended_problem, changing)


@router.post(
    "/executions/change-status/by-query",
    summary="Set the state of the ended executions a search matches",
    response_model=BulkResponseModel,
    responses=_BULK_ERRORS,
)
async def change_status_by_query(
    request: Request, services: ServicesDep, query: SearchQuery, newStatus: NewStatus
) -> JSONResponse:
    ids = await matching_ids(services.store, query)
    changing = _changing(services, newStatus)
    return await _bulk(request, services, ids, "change-status", _ended_problem, changing)


# -- delete ------------------------------------------------------------------------------------


@router.delete(
    "/executions/by-ids",
    summary="Delete ended executions by id",
    response_model=BulkResponseModel,
    responses=_BULK_ERRORS,
)
async def delete_by_ids(
    request: Request, services: ServicesDep, ids: ExecutionIds, options: DeleteQuery
) -> JSONResponse:
    return await _bulk_delete(request, services, ids, options)


@router.delete(
    "/executions/by-query",
    summary="Delete the ended executions a search matches",
    response_model=BulkResponseModel,
    responses=_BULK_ERRORS,
)
async def delete_by_query(
    request: Request, services: ServicesDep, query: SearchQuery, options: DeleteQuery
) -> JSONResponse:
    ids = await matching_ids(services.store, query)
    return await _bulk_delete(request, services, ids, options)


async def _bulk_delete(
    request: Request, services: Services, ids: Sequence[str], options: DeleteOptions
) -> JSONResponse:
    deleting = _deleting(services, options)
    if not options.includeNonTerminated:
        return await _bulk(request, services, ids, "delete", _delete_problem, deleting)
    # Every kill is asked for before the first delete waits, so they end together.
    return await _bulk(
        request, services, ids, "delete", _always_fine, deleting, first=_killing_unended(services)
    )


# -- what each verb checks and does -------------------------------------------------------------


async def _always_fine(execution: Execution) -> str | None:
    return None


async def _kill_problem(execution: Execution) -> str | None:
    if execution.current.is_terminated():
        return f"Execution '{execution.id}' is already finished, can't kill it"
    return None


async def _pause_problem(execution: Execution) -> str | None:
    if execution.current is not State.RUNNING:
        return f"Execution '{execution.id}' is {execution.current.value}, not RUNNING"
    return None


def _resume_problem(services: Services) -> Problem:
    async def problem(execution: Execution) -> str | None:
        if execution.current is not State.PAUSED:
            return f"Execution '{execution.id}' is {execution.current.value}, not PAUSED"
        # Resumed without values: a required `onResume` input with no default refuses it.
        stored = await services.flows.get(
            execution.namespace, execution.flow_id, execution.flow_revision, allow_deleted=True
        )
        try:
            paused_resume_values(stored.flow, execution, {})
        except InputError as exc:
            return str(exc)
        return None

    return problem


async def _restart_problem(execution: Execution) -> str | None:
    return operations.restart_problem(execution)


def _unqueue_problem(state: State) -> Problem:
    async def problem(execution: Execution) -> str | None:
        try:
            check_unqueue(execution, state)
        except LannerError as exc:
            return str(exc)
        return None

    return problem


async def _force_run_problem(execution: Execution) -> str | None:
    try:
        check_force_run(execution)
    except LannerError as exc:
        return str(exc)
    return None


def _unqueueing(services: Services, state: State) -> Action:
    async def unqueue(execution_id: str) -> None:
        await services.runner.unqueue(execution_id, state)

    return unqueue


async def _ended_problem(execution: Execution) -> str | None:
    if not execution.current.is_terminated():
        return f"Execution '{execution.id}' is {execution.current.value}: it has not ended"
    return None


async def _delete_problem(execution: Execution) -> str | None:
    current = execution.current
    if not current.is_terminated():
        return f"Execution '{execution.id}' is {current.value}: kill it before deleting it"
    return None


def _labelling(services: Services, labels: Sequence[LabelModel]) -> Action:
    """Add `labels` to an execution (LannerError at once for a `system.*` one)."""
    refuse_system_labels([Label(item.key, item.value) for item in labels])

    async def label(execution_id: str) -> None:
        execution = await load(services, execution_id)
        added = {item.key: item.value for item in labels}
        kept = [label for label in execution.labels if label.key not in added]
        merged = [*kept, *(Label(key, value) for key, value in added.items())]
        await execution_ops.set_labels(services, execution_id, merged)

    return label


def _changing(services: Services, state: State) -> Action:
    async def change(execution_id: str) -> None:
        await services.runner.change_status(execution_id, state)

    return change


def _killing_unended(services: Services) -> Callable[[Sequence[Execution]], Awaitable[None]]:
    async def kill(executions: Sequence[Execution]) -> None:
        for execution in executions:
            if not execution.current.is_terminated():
                await services.runner.kill(execution.id)

    return kill


def _deleting(services: Services, options: DeleteOptions) -> Action:
    async def delete(execution_id: str) -> None:
        if options.includeNonTerminated:
            await execution_ops.wait_killed(services, execution_id)
        await execution_ops.delete(
            services,
            execution_id,
            delete_logs=options.deleteLogs,
            delete_metrics=options.deleteMetrics,
            delete_storage=options.deleteStorage,
        )

    return delete


async def _bulk(
    request: Request,
    services: Services,
    ids: Sequence[str],
    verb: str,
    problem: Problem,
    act: Action,
    *,
    first: Callable[[Sequence[Execution]], Awaitable[None]] | None = None,
) -> JSONResponse:
    """Check every id, then act on them all, or on none when one is invalid (Kestra's rule).

    `first`, when given, is done once for all of them, between the check and the actions.
    """
    wanted = list(dict.fromkeys(ids))  # an id listed twice is acted on once
    invalids = []
    found: list[Execution] = []
    for execution_id in wanted:
        execution = await services.store.get_execution(execution_id)
        reason = "execution not found" if execution is None else await problem(execution)
        if reason is not None:
            invalids.append({"message": reason, "invalidValue": execution_id})
        elif execution is not None:
            found.append(execution)
    if invalids:
        errors = [{"message": item["message"], "path": item["invalidValue"]} for item in invalids]
        body = error_body(request, f"invalid bulk {verb}", errors)
        body["invalids"] = invalids
        return JSONResponse(body, status_code=400)
    if first is not None:
        await first(found)
    for execution_id in wanted:
        await act(execution_id)
    return JSONResponse({"count": len(wanted)})
