"""Operations on existing executions: restart, replay, change a task run's or the execution's state.

Each answers at once with the execution as the operation left it (RESTARTED, or the new
execution of a replay); the engine then drives it. Kestra 2.0's `/actions/<verb>` paths are
served too. Their bulk forms are in `execution_bulk`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from lanner.api.deps import ServicesDep
from lanner.api.execution_forms import read_inputs
from lanner.api.execution_paths import ExecutionId, action_route
from lanner.api.models import ErrorModel, ExecutionModel
from lanner.exceptions import NotFoundError
from lanner.executions import Execution
from lanner.states import State

router = APIRouter(tags=["Executions"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorModel, "description": "Unknown execution or flow revision"},
    409: {"model": ErrorModel, "description": "Not allowed in the execution's current state"},
    422: {"model": ErrorModel, "description": "Invalid request (unknown task run, bad state)"},
}

Revision = Annotated[
    int | None, Query(description="The flow revision to use (default: the execution's)")
]


class StateRequest(BaseModel):
    """The task run to change and the state to give it."""

    taskRunId: str
    state: State = Field(description="SUCCESS, WARNING or FAILED")


def _execution(execution: Execution) -> JSONResponse:
    return JSONResponse(execution.to_json())


# -- one execution ---------------------------------------------------------------------------


@action_route(
    router,
    "restart",
    summary="Restart an execution from its failed task runs",
    response_model=ExecutionModel,
    responses=_ERRORS,
)
async def restart_execution(
    services: ServicesDep, execution_id: ExecutionId, revision: Revision = None
) -> JSONResponse:
    return _execution(await services.runner.restart(execution_id, revision))


@action_route(
    router,
    "replay",
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


@action_route(
    router,
    "state",
    summary="Change the state of a task run, then resume the execution",
    response_model=ExecutionModel,
    responses=_ERRORS,
)
async def change_task_run_state(
    services: ServicesDep, execution_id: ExecutionId, body: StateRequest
) -> JSONResponse:
    runner = services.runner
    return _execution(await runner.change_task_run_state(execution_id, body.taskRunId, body.state))


@action_route(
    router,
    "change-status",
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


# -- resume ----------------------------------------------------------------------------------


@action_route(
    router,
    "resume",
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
