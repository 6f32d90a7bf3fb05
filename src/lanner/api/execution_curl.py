"""The cURL command of an executed Request task run (a lanner extension of Kestra's API)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from lanner.api.deps import ServicesDep
from lanner.api.execution_paths import EXECUTION, ExecutionId, TaskRunId
from lanner.api.execution_watch import load
from lanner.api.models import ErrorModel
from lanner.curl_export import curl_command, find_task_run, recorded_exchange
from lanner.storage import run_storage

# Included in the executions router, which gives the tag.
router = APIRouter()


class CurlModel(BaseModel):
    command: str
    har: str


_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorModel, "description": "Unknown execution or task run, or no exchange"},
    422: {"model": ErrorModel, "description": "Invalid request"},
}


@router.get(
    f"{EXECUTION}/taskruns/{{taskRunId}}/curl",
    summary="Get the cURL command of a Request task run (lanner extension)",
    description="The command repeating the request the task run sent, read from the HAR file "
    "it recorded (`har`: its internal storage URI). Secrets are masked.",
    response_model=CurlModel,
    responses=_ERRORS,
)
async def task_run_curl(
    services: ServicesDep, execution_id: ExecutionId, task_run_id: TaskRunId
) -> JSONResponse:
    execution = await load(services, execution_id)
    run = find_task_run(execution, task_run_id)
    storage = services.storage
    uri, har = await run_storage(storage, recorded_exchange, storage, execution, run)
    return JSONResponse({"command": curl_command(har), "har": uri})
