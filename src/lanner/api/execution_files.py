"""Files of an execution in internal storage: download, size, preview.

Only the execution's own folder (`kestra:///<namespace as path>/<flow>/executions/<id>/...`)
is served; any other path, or one with `..`, is refused with `Invalid prefix path`.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel

from lanner.api.deps import ServicesDep
from lanner.api.execution_paths import EXECUTION, ExecutionId
from lanner.api.execution_watch import load
from lanner.api.models import ErrorModel
from lanner.exceptions import LannerError, NotFoundError
from lanner.executions import Execution
from lanner.previews import preview
from lanner.services import Services
from lanner.storage import SCHEME, execution_prefix

# Included in the executions router, which gives the tag.
router = APIRouter()

StoragePath = Annotated[str, Query(description="The internal storage URI (`kestra:///...`)")]
_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorModel, "description": "Unknown execution or file"},
    422: {"model": ErrorModel, "description": "A path outside the execution's folder"},
}


class FileMetasModel(BaseModel):
    size: int


class FilePreviewModel(BaseModel):
    extension: str
    type: str
    content: Any
    truncated: bool


@router.get(
    f"{EXECUTION}/file",
    summary="Download a file of an execution",
    response_class=FileResponse,
    responses={
        200: {"content": {"application/octet-stream": {"schema": {"type": "string"}}}},
        **_ERRORS,
    },
)
async def download_file(
    services: ServicesDep, execution_id: ExecutionId, path: StoragePath
) -> FileResponse:
    local = await execution_file(services, execution_id, path)
    return FileResponse(local, media_type="application/octet-stream", filename=local.name)


@router.get(
    f"{EXECUTION}/file/metas",
    summary="Get the size of a file of an execution",
    response_model=FileMetasModel,
    responses=_ERRORS,
)
async def file_metas(
    services: ServicesDep, execution_id: ExecutionId, path: StoragePath
) -> JSONResponse:
    local = await execution_file(services, execution_id, path)
    return JSONResponse({"size": local.stat().st_size})


@router.get(
    f"{EXECUTION}/file/preview",
    summary="Preview a file of an execution",
    response_model=FilePreviewModel,
    responses=_ERRORS,
)
async def file_preview(
    services: ServicesDep,
    execution_id: ExecutionId,
    path: StoragePath,
    maxRows: Annotated[int | None, Query(ge=1)] = None,
    encoding: str = "UTF-8",
) -> JSONResponse:
    local = await execution_file(services, execution_id, path)
    return JSONResponse(preview(local, maxRows, encoding).to_json())


async def execution_file(services: Services, execution_id: str, uri: str) -> Path:
    """Return the local file behind `uri`, which must lie in the execution's own folder."""
    execution = await load(services, execution_id)
    check_owned(execution, uri)
    local = services.storage.path_of(uri)
    if not local.is_file():
        raise NotFoundError(f"Unable to find file '{uri}'")
    return local


def check_owned(execution: Execution, uri: str) -> None:
    """Refuse a URI outside the execution's storage folder."""
    folder = PurePosixPath(execution_prefix(execution.namespace, execution.flow_id, execution.id))
    relative = PurePosixPath("/" + uri[len(SCHEME) :].lstrip("/"))
    if (
        not uri.startswith(SCHEME)
        or ".." in relative.parts
        or not relative.is_relative_to(folder)
        or relative == folder
    ):
        raise LannerError("Invalid prefix path")
