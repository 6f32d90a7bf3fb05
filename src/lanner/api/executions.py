"""Executions: create (with inputs), read, search, follow live, kill, pause, label, delete.

Files of an execution (`execution_files`), expression evaluation (`eval`), the cURL command
of a task run (`execution_curl`), the execution's graph (`execution_graph`) and the checks of a
form's inputs (`execution_validate`) have their own modules; their routes are included here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.sse import EventSourceResponse, ServerSentEvent

from lanner.api import eval as eval_routes
from lanner.api import execution_curl, execution_files, execution_graph, execution_validate
from lanner.api import execution_ops as ops
from lanner.api.deps import ServicesDep
from lanner.api.execution_filters import INT_MAX, LABELS, Count, SearchQuery
from lanner.api.execution_forms import (
    INPUTS_BODY,
    base_url,
    execution_url,
    parse_labels,
    read_inputs,
)
from lanner.api.execution_paths import EXECUTION, ExecutionId, FlowId, Namespace, action_route
from lanner.api.execution_search import ExecutionQuery, search
from lanner.api.execution_watch import follow, load
from lanner.api.flow_models import FlowModel
from lanner.api.models import ErrorModel, ExecutionModel, LabelModel, PageModel
from lanner.executions import Execution, Label
from lanner.states import State
from lanner.store import Page

router = APIRouter(tags=["Executions"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorModel, "description": "Unknown execution (or tenant)"},
    422: {"model": ErrorModel, "description": "Invalid request"},
}
CONFLICT: dict[int | str, dict[str, Any]] = {
    **NOT_FOUND,
    409: {"model": ErrorModel, "description": "Not allowed in the current state"},
}


def _json_error(description: str) -> dict[str, Any]:
    """Describe a JSON error on a route whose success is not JSON."""
    schema = {"$ref": "#/components/schemas/ErrorModel"}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def execution_response(execution: Execution, status_code: int = 200) -> JSONResponse:
    return JSONResponse(execution.to_json(), status_code=status_code)


def page_response(page: Page[Execution]) -> JSONResponse:
    results = [execution.to_json() for execution in page.results]
    return JSONResponse({"results": results, "total": page.total})


async def existing_execution(services: ServicesDep, execution_id: ExecutionId) -> Execution:
    """Load the execution of the path (404 when unknown), before any response starts."""
    return await load(services, execution_id)


@router.get(
    "/executions/search",
    summary="Search for executions",
    response_model=PageModel[ExecutionModel],
    responses=NOT_FOUND,
)
async def search_executions(services: ServicesDep, query: SearchQuery) -> JSONResponse:
    return page_response(await search(services.store, query))


@router.get(
    "/executions",
    summary="Search for executions of a flow",
    response_model=PageModel[ExecutionModel],
    responses=NOT_FOUND,
)
async def flow_executions(
    services: ServicesDep,
    namespace: str,
    flowId: str,
    page: Count = 1,
    size: Count = 10,
) -> JSONResponse:
    query = ExecutionQuery(
        namespace=namespace, exact_namespace=True, flow_id=flowId, page=page, size=size
    )
    return page_response(await search(services.store, query))


@router.get(
    EXECUTION, summary="Get an execution", response_model=ExecutionModel, responses=NOT_FOUND
)
async def get_execution(
    execution: Annotated[Execution, Depends(existing_execution)],
) -> JSONResponse:
    return execution_response(execution)


@router.delete(EXECUTION, summary="Delete an execution", status_code=204, responses=CONFLICT)
async def delete_execution(
    services: ServicesDep,
    execution_id: ExecutionId,
    deleteLogs: bool = True,
    deleteMetrics: bool = True,
    deleteStorage: bool = True,
) -> Response:
    await ops.delete(
        services,
        execution_id,
        delete_logs=deleteLogs,
        delete_metrics=deleteMetrics,
        delete_storage=deleteStorage,
    )
    return Response(status_code=204)


@router.get(
    f"{EXECUTION}/flow",
    summary="Get the flow revision an execution ran",
    response_model=FlowModel,
    responses=NOT_FOUND,
)
async def execution_flow(services: ServicesDep, execution_id: ExecutionId) -> JSONResponse:
    return JSONResponse(await ops.flow_of(services, execution_id))


@router.get(
    f"{EXECUTION}/follow",
    summary="Follow an execution (server-sent events)",
    response_class=EventSourceResponse,
    responses={404: _json_error("Unknown execution"), 422: _json_error("Invalid request")},
)
async def follow_execution(
    services: ServicesDep, execution: Annotated[Execution, Depends(existing_execution)]
) -> AsyncIterator[ServerSentEvent]:
    async for event in follow(services, execution.id):
        yield event


@router.delete(
    f"{EXECUTION}/kill",
    summary="Kill an execution",
    status_code=202,
    response_model=ExecutionModel,
    responses=CONFLICT,
)
@router.delete(
    f"{EXECUTION}/actions/kill",
    summary="Kill an execution",
    status_code=202,
    response_model=ExecutionModel,
    responses=CONFLICT,
)
@router.post(
    f"{EXECUTION}/actions/kill",
    summary="Kill an execution",
    status_code=202,
    response_model=ExecutionModel,
    responses=CONFLICT,
)
async def kill_execution(
    services: ServicesDep, execution_id: ExecutionId, isOnKillCascade: bool = True
) -> JSONResponse:
    return execution_response(await ops.kill(services, execution_id), status_code=202)


@action_route(
    router,
    "pause",
    summary="Pause a running execution: what runs ends, nothing else starts until resumed",
    response_model=ExecutionModel,
    responses=CONFLICT,
)
async def pause_execution(services: ServicesDep, execution_id: ExecutionId) -> JSONResponse:
    return execution_response(await ops.pause(services, execution_id))


@action_route(
    router,
    "unqueue",
    summary="Start a queued execution now, or end it (state=CANCELLED or FAILED)",
    response_model=ExecutionModel,
    responses={**CONFLICT, 422: {"model": ErrorModel, "description": "Invalid target state"}},
)
async def unqueue_execution(
    services: ServicesDep,
    execution_id: ExecutionId,
    state: Annotated[
        State, Query(description="RUNNING (the default), CANCELLED or FAILED")
    ] = State.RUNNING,
) -> JSONResponse:
    return execution_response(await ops.unqueue(services, execution_id, state))


@action_route(
    router,
    "force-run",
    summary="Run an execution now: created or queued, it starts; paused, it is resumed",
    response_model=ExecutionModel,
    responses=CONFLICT,
)
async def force_run_execution(services: ServicesDep, execution_id: ExecutionId) -> JSONResponse:
    return execution_response(await ops.force_run(services, execution_id))


@action_route(
    router,
    "labels",
    summary="Set the labels of an ended execution",
    response_model=ExecutionModel,
    responses=CONFLICT,
)
async def set_labels(
    services: ServicesDep, execution_id: ExecutionId, labels: Annotated[list[LabelModel], Body()]
) -> JSONResponse:
    wanted = [Label(label.key, label.value) for label in labels]
    return execution_response(await ops.set_labels(services, execution_id, wanted))


router.include_router(eval_routes.router)
router.include_router(execution_files.router)
router.include_router(execution_curl.router)
router.include_router(execution_graph.router)
router.include_router(execution_validate.router)


# Any two segments but `{executionId}/<action verb>` (see execution_paths): those are actions.
@router.post(
    "/executions/{namespace}/{flowId:flow_id}",
    summary="Create a new execution of a flow",
    response_model=ExecutionModel,
    responses=CONFLICT,
    openapi_extra=INPUTS_BODY,
)
async def create_execution(
    request: Request,
    services: ServicesDep,
    namespace: Namespace,
    flow_id: FlowId,
    labels: Annotated[list[str] | None, LABELS] = None,
    wait: bool = False,
    revision: Annotated[int | None, Query(ge=1, le=INT_MAX)] = None,
    scheduleDate: datetime | None = None,
    breakpoints: str | None = None,
    kind: str | None = None,
) -> JSONResponse:
    stored = await ops.executable_flow(services, namespace, flow_id, revision)
    wanted = parse_labels(labels or ())
    create = ops.CreateRequest(
        inputs=await read_inputs(request, stored.flow, services.settings.max_request_bytes),
        labels=wanted,
        wait=wait,
        schedule_date=scheduleDate,
    )
    execution = await ops.create(services, stored, create)
    body = execution.to_json()
    body["url"] = execution_url(base_url(request, services.settings.url), execution)
    return JSONResponse(body)
