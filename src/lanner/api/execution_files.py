"""Files of an execution in internal storage: download, size, preview.

Only the execution's own folder (`kestra:///<namespace as path>/<flow>/executions/<id>/...`)
is served; any other path, or one with `..`, is refused with `Invalid prefix path`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from functools import partial
from pathlib import PurePosixPath
from typing import Annotated, Any, BinaryIO
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel

from lanner.api.deps import ServicesDep
from lanner.api.execution_paths import EXECUTION, ExecutionId
from lanner.api.execution_watch import load
from lanner.api.models import ErrorModel
from lanner.exceptions import LannerError
from lanner.executions import Execution
from lanner.previews import preview
from lanner.services import Services
from lanner.storage import SCHEME, execution_prefix
from lanner.storage.base import CHUNK

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
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/octet-stream": {"schema": {"type": "string"}}}},
        **_ERRORS,
    },
)
async def download_file(
    services: ServicesDep, execution_id: ExecutionId, path: StoragePath
) -> StreamingResponse:
    size = await execution_file(services, execution_id, path)
    stream = await asyncio.to_thread(services.storage.open_read, path)
    name = PurePosixPath(path).name
    headers = {"Content-Length": str(size), "Content-Disposition": _attachment(name)}
    # A sync iterator: Starlette reads each chunk in a thread, so a remote storage does not
    # block the event loop, and only one chunk is in memory at a time.
    return StreamingResponse(
        _chunks(stream), media_type="application/octet-stream", headers=headers
    )


@router.get(
    f"{EXECUTION}/file/metas",
    summary="Get the size of a file of an execution",
    response_model=FileMetasModel,
    responses=_ERRORS,
)
async def file_metas(
    services: ServicesDep, execution_id: ExecutionId, path: StoragePath
) -> JSONResponse:
    size = await execution_file(services, execution_id, path)
    return JSONResponse({"size": size})


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
    await execution_file(services, execution_id, path)
    shown = await asyncio.to_thread(
        preview,
        PurePosixPath(path).name,
        partial(services.storage.open_read, path),
        maxRows,
        encoding,
    )
    return JSONResponse(shown.to_json())


async def execution_file(services: Services, execution_id: str, uri: str) -> int:
    """Return the size of the file behind `uri`, which must lie in the execution's own folder.

    NotFoundError (`Unable to find file '<uri>'`) when there is no such file.
    """
    execution = await load(services, execution_id)
    check_owned(execution, uri)
    return await asyncio.to_thread(services.storage.size, uri)


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    with stream:
        while chunk := stream.read(CHUNK):
            yield chunk


def _attachment(name: str) -> str:
    """Return a Content-Disposition naming the file, percent-encoded (RFC 6266) if need be."""
    quoted = quote(name)
    if quoted == name:
        return f'attachment; filename="{name}"'
    return f"attachment; filename*=utf-8''{quoted}"


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
