"""Operations on existing executions: restart, replay, change a task run's or the execution's state.

Each answers at once with the execution as the operation left it (RESTARTED, or the new
execution of a replay); the engine then drives it. Kestra 2.0's `/actions/<verb>` paths are
served too. The bulk forms take a JSON list of execution ids (`by-ids`) or the filters of a
search (`by-query`, every page of it), check them all first (400 with one entry per invalid id,
nothing done) and answer `{"count": n}`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from lanner import operations
from lanner.api import execution_ops
from lanner.api.deps import ServicesDep
from lanner.api.errors import error_body
from lanner.api.execution_filters import SearchQuery
from lanner.api.execution_forms import read_inputs
from lanner.api.execution_paths import EXECUTION, ExecutionId
from lanner.api.execution_search import matching_ids
from lanner.api.models import ErrorModel, ExecutionModel
from lanner.exceptions import NotFoundError
from lanner.executions import Execution
from lanner.services import Services
from lanner.states import State

router = APIRouter(tags=["Executions"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorModel, "description": "Unknown execution or flow revision"},
    409: {"model": ErrorModel, "description": "Not allowed in the execution's current state"},
    422: {"model": ErrorModel, "description": "Invalid request (unknown task run, bad state)"},
}
_BULK_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorModel, "description": "Some ids are invalid (nothing was done)"},
    422: {"model": ErrorModel, "description": "Invalid request"},
}

Revision = Annotated[
    int | None, Query(description="The flow revision to use (default: the execution's)")
]
ExecutionIds = Annotated[list[str], Body(description="The execution ids")]


class StateRequest(BaseModel):
    """The task run to change and the state to give it."""

    taskRunId: str
    state: State = Field(description="SUCCESS, WARNING or FAILED")


class BulkResponseModel(BaseModel):
    """How many executions a bulk operation acted on."""

    count: int


def _execution(execution: Execution) -> JSONResponse:
    return JSONResponse(execution.to_json())


# -- one execution ---------------------------------------------------------------------------


@router.post(
    f"{EXECUTION}/restart",
    summary="Restart an execution from its failed task runs",
    response_model=ExecutionModel,
    responses=_ERRORS,
)
@router.post(
    f"{EXECUTION}/actions/restart",
    summary="Restart an execution from its failed task runs",
    response_model=ExecutionModel,
    responses=_ERRORS,
)
async def restart_execution(
    services: ServicesDep, execution_id: ExecutionId, revision: Revision = None
) -> JSONResponse:
    return _execution(await services.runner.restart(execution_id, revision))


@router.post(
    f"{EXECUTION}/replay",
    summary="Create a new execution from an old one, starting from a task run",
    response_model=ExecutionModel,
    responses=_ERRORS,
)
@router.post(
    f"{EXECUTION}/actions/replay",
    summary="Create a new execution from an old one, starting from a task run",
    response_model=ExecutionModel,
    responses=_ERRORS,
)
async def replay_execution(
    services: ServicesDep,
    execution_id: ExecutionId,
    task_run_id: Annotated[
        str | None,
        Query(alias="taskRunId", description="The task run to start from (default: the start)"),
    ] = None,
    revision: Revision = None,
) -> JSONResponse:
    return _execution(await services.runner.replay(execution_id, task_run_id, revision))


@router.post(
    f"{EXECUTION}/state",
    summary="Change the state of a task run, then resume the execution",
    response_model=ExecutionModel,
    responses=_ERRORS,
)
@router.post(
    f"{EXECUTION}/actions/state",
    summary="Change the state of a task run, then resume the execution",
    response_model=ExecutionModel,
    responses=_ERRORS,
)
async def change_task_run_state(
    services: ServicesDep, execution_id: ExecutionId, body: StateRequest
) -> JSONResponse:
    runner = services.runner
    return _execution(await runner.change_task_run_state(execution_id, body.taskRunId, body.state))


@router.post(
    f"{EXECUTION}/change-status",
    summary="Change the state of an ended execution",
    response_model=ExecutionModel,
    responses=_ERRORS,
)
@router.post(
    f"{EXECUTION}/actions/change-status",
    summary="Change the state of an ended execution",
    response_model=ExecutionModel,
    responses=_ERRORS,
)
async def change_execution_status(
    services: ServicesDep,
    execution_id: ExecutionId,
    status: Annotated[State, Query(description="The new (terminal) state")],
) -> JSONResponse:
    return _execution(await services.runner.change_status(execution_id, status))


# -- bulk ------------------------------------------------------------------------------------

Problem = Callable[[Execution], str | None]
Action = Callable[[str], Awaitable[object]]


@router.post(
    "/executions/restart/by-ids",
    summary="Restart a list of executions",
    response_model=BulkResponseModel,
    responses=_BULK_ERRORS,
)
async def restart_by_ids(
    request: Request, services: ServicesDep, ids: ExecutionIds
) -> JSONResponse:
    return await _bulk(
        request, services, ids, "restart", operations.restart_problem, services.runner.restart
    )


@router.post(
    "/executions/replay/by-ids",
    summary="Replay a list of executions from the start",
    response_model=BulkResponseModel,
    responses=_BULK_ERRORS,
)
async def replay_by_ids(request: Request, services: ServicesDep, ids: ExecutionIds) -> JSONResponse:
    return await _bulk(request, services, ids, "replay", _always_fine, services.runner.replay)


@router.post(
    "/executions/kill/by-ids",
    summary="Kill a list of executions",
    response_model=BulkResponseModel,
    responses=_BULK_ERRORS,
)
async def kill_by_ids(request: Request, services: ServicesDep, ids: ExecutionIds) -> JSONResponse:
    return await _bulk(request, services, ids, "kill", _kill_problem, services.runner.kill)


@router.post(
    "/executions/restart/by-query",
    summary="Restart the executions a search matches",
    response_model=BulkResponseModel,
    responses=_BULK_ERRORS,
)
async def restart_by_query(
    request: Request, services: ServicesDep, query: SearchQuery
) -> JSONResponse:
    ids = await matching_ids(services.store, query)
    return await _bulk(
        request, services, ids, "restart", operations.restart_problem, services.runner.restart
    )


# Kestra's clients send the bulk kill as DELETE; its UI and lanner's as POST.
@router.post(
    "/executions/kill/by-query",
    summary="Kill the executions a search matches",
    response_model=BulkResponseModel,
    responses=_BULK_ERRORS,
)
@router.delete(
    "/executions/kill/by-query",
    summary="Kill the executions a search matches",
    response_model=BulkResponseModel,
    responses=_BULK_ERRORS,
)
async def kill_by_query(
    request: Request, services: ServicesDep, query: SearchQuery
) -> JSONResponse:
    ids = await matching_ids(services.store, query)
    return await _bulk(request, services, ids, "kill", _kill_problem, services.runner.kill)


class DeleteOptions(BaseModel):
    """What goes with the executions a bulk delete deletes (all of it by default)."""

    deleteLogs: bool = Field(True, description="Also delete the executions' log lines")
    deleteMetrics: bool = Field(True, description="Also delete the executions' metrics")
    deleteStorage: bool = Field(
        True, description="Also delete the executions' files in the internal storage"
    )


DeleteQuery = Annotated[DeleteOptions, Query()]


def _deleting(services: Services, options: DeleteOptions) -> Action:
    async def delete(execution_id: str) -> None:
        await execution_ops.delete(
            services,
            execution_id,
            delete_logs=options.deleteLogs,
            delete_metrics=options.deleteMetrics,
            delete_storage=options.deleteStorage,
        )

    return delete


@router.delete(
    "/executions/by-ids",
    summary="Delete ended executions by id",
    response_model=BulkResponseModel,
    responses=_BULK_ERRORS,
)
async def delete_by_ids(
    request: Request, services: ServicesDep, ids: ExecutionIds, options: DeleteQuery
) -> JSONResponse:
    deleting = _deleting(services, options)
    return await _bulk(request, services, ids, "delete", _delete_problem, deleting)


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
    deleting = _deleting(services, options)
    return await _bulk(request, services, ids, "delete", _delete_problem, deleting)


def _always_fine(execution: Execution) -> str | None:
    return None


def _kill_problem(execution: Execution) -> str | None:
    if execution.current.is_terminated():
        return f"Execution '{execution.id}' is already finished, can't kill it"
    return None


def _delete_problem(execution: Execution) -> str | None:
    current = execution.current
    if not current.is_terminated():
        return f"Execution '{execution.id}' is {current.value}: kill it before deleting it"
    return None


async def _bulk(
    request: Request,
    services: Services,
    ids: Sequence[str],
    verb: str,
    problem: Problem,
    act: Action,
) -> JSONResponse:
    """Check every id, then act on them all, or on none when one is invalid (Kestra's rule)."""
    wanted = list(dict.fromkeys(ids))  # an id listed twice is acted on once
    invalids = []
    for execution_id in wanted:
        execution = await services.store.get_execution(execution_id)
        reason = "execution not found" if execution is None else problem(execution)
        if reason is not None:
            invalids.append({"message": reason, "invalidValue": execution_id})
    if invalids:
        errors = [{"message": item["message"], "path": item["invalidValue"]} for item in invalids]
        body = error_body(request, f"invalid bulk {verb}", errors)
        body["invalids"] = invalids
        return JSONResponse(body, status_code=400)
    for execution_id in wanted:
        await act(execution_id)
    return JSONResponse({"count": len(wanted)})


# -- resume ----------------------------------------------------------------------------------


@router.post(
    f"{EXECUTION}/resume",
    summary="Resume a paused execution (multipart values answer its onResume inputs)",
    status_code=204,
    responses=_ERRORS,
)
@router.post(
    f"{EXECUTION}/actions/resume",
    summary="Resume a paused execution (multipart values answer its onResume inputs)",
    status_code=204,
    responses=_ERRORS,
)
async def resume_execution(
    request: Request, services: ServicesDep, execution_id: ExecutionId
) -> Response:
    execution = await services.store.get_execution(execution_id)
    if execution is None:
        raise NotFoundError(f"Unable to find execution '{execution_id}'")
    stored = await services.flows.get(
        execution.namespace, execution.flow_id, execution.flow_revision, allow_deleted=True
    )
    inputs = await read_inputs(request, stored.flow, services.settings.max_request_bytes)
    await services.runner.resume(execution_id, inputs)
    return Response(status_code=204)
