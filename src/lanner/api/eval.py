"""Evaluate an expression against an execution ("Debug Outputs" in the UI).

The body is the template as `text/plain`. The answer is always HTTP 200: `{"result": ...}`
when it renders, `{"error": ..., "stackTrace": ...}` when it does not; an unknown execution or
task run is a 404.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from fastapi.types import DecoratedCallable
from pydantic import BaseModel

from lanner.api.deps import ServicesDep
from lanner.api.execution_paths import EXECUTION, ExecutionId, TaskRunId
from lanner.api.execution_watch import load
from lanner.api.models import ErrorModel
from lanner.evaluation import Evaluation, EvaluationScope, evaluate
from lanner.exceptions import NotFoundError
from lanner.executions import Level
from lanner.services import Services

# Included in the executions router, which gives the tag.
router = APIRouter()


class EvalResultModel(BaseModel):
    """What rendering gave: `result`, or `error` with its `stackTrace` (absent when null)."""

    result: str | None = None
    error: str | None = None
    stackTrace: str | None = None


def _eval_route(path: str, summary: str) -> Callable[[DecoratedCallable], DecoratedCallable]:
    return router.post(
        path,
        summary=summary,
        response_model=EvalResultModel,
        responses={
            404: {"model": ErrorModel, "description": "Unknown execution or task run"},
            422: {"model": ErrorModel, "description": "Invalid request"},
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "description": "The template to render",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            }
        },
    )


@_eval_route(f"{EXECUTION}/eval/{{taskRunId}}", "Evaluate an expression for a task run")
@_eval_route(f"{EXECUTION}/actions/eval/{{taskRunId}}", "Evaluate an expression for a task run")
async def eval_task_run(
    request: Request, services: ServicesDep, execution_id: ExecutionId, task_run_id: TaskRunId
) -> JSONResponse:
    evaluation = await evaluate_in(services, execution_id, task_run_id, await _template(request))
    return JSONResponse(evaluation.to_json())


@_eval_route(f"{EXECUTION}/eval", "Evaluate an expression for an execution")
@_eval_route(f"{EXECUTION}/actions/eval", "Evaluate an expression for an execution")
async def eval_execution(
    request: Request, services: ServicesDep, execution_id: ExecutionId
) -> JSONResponse:
    evaluation = await evaluate_in(services, execution_id, None, await _template(request))
    return JSONResponse(evaluation.to_json())


async def evaluate_in(
    services: Services, execution_id: str, task_run_id: str | None, template: str
) -> Evaluation:
    """Render `template` in a task run's context (or the execution's, without a task run)."""
    execution = await load(services, execution_id)
    task_run = None
    if task_run_id is not None:
        try:
            task_run = execution.task_run(task_run_id)
        except KeyError:
            raise NotFoundError(f"Unable to find task run '{task_run_id}'") from None
    stored = await services.flows.get(
        execution.namespace, execution.flow_id, execution.flow_revision, allow_deleted=True
    )
    error_logs = []
    if "errorLogs" in template:
        error_logs = await services.store.get_logs(execution_id, min_level=Level.ERROR)
    scope = EvaluationScope(stored.flow, execution, task_run, error_logs)
    try:
        return evaluate(template, scope, services.settings, services.store.kv, services.storage)
    except KeyError:
        raise NotFoundError(f"Unable to find the task of task run '{task_run_id}'") from None


async def _template(request: Request) -> str:
    return (await request.body()).decode("utf-8", errors="replace")
