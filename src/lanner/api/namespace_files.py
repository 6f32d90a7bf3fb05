"""Namespace files: browse, read, upload, move, delete and export a namespace's files.

The file work itself is `lanner.namespace_files`; it is blocking I/O, so it runs in a thread.
"""

from __future__ import annotations

import asyncio
import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Path, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict

from lanner.api.deps import ServicesDep
from lanner.api.models import ErrorModel
from lanner.exceptions import NotFoundError
from lanner.flows import NAMESPACE_PATTERN
from lanner.namespace_files import (
    PATH_PATTERN,
    FileType,
    NamespaceFiles,
    flow_file_name,
    normalize,
    unzip,
)
from lanner.services import Services

router = APIRouter(tags=["Files"])

FILES = "/namespaces/{namespace}/files"


def _error(description: str) -> dict[str, Any]:
    # Spelled out: FastAPI would list an error `model` under the route's own media type.
    schema = ErrorModel.model_json_schema()
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERRORS: dict[int | str, dict[str, Any]] = {
    404: _error("No such namespace file or folder"),
    409: _error("The files in place do not allow it (a folder where a file should be...)"),
    422: _error("Invalid path, namespace or archive"),
}
_BINARY: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The bytes",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    },
    **_ERRORS,
}
_DONE: dict[int | str, dict[str, Any]] = {200: {"description": "Done (no body)"}, **_ERRORS}
_FLOW_NAMESPACE = re.compile(r"(?m)^namespace:.*$")

# The patterns document what `lanner.namespace_files` checks (with clearer messages than a
# validation by FastAPI would give): they are schema only.
_PATH_SCHEMA = {"pattern": PATH_PATTERN}
PathQuery = Annotated[
    str, Query(description="The file's path, `/`-rooted", json_schema_extra=_PATH_SCHEMA)
]
OptionalPathQuery = Annotated[
    str | None,
    Query(
        description="The path, `/`-rooted; the namespace's root when absent",
        json_schema_extra=_PATH_SCHEMA,
    ),
]
NamespacePath = Annotated[
    str,
    Path(
        description="The namespace",
        json_schema_extra={"pattern": NAMESPACE_PATTERN, "maxLength": 150},
    ),
]


class FileAttributesModel(BaseModel):
    model_config = ConfigDict(extra="allow")

    fileName: str
    type: Literal["File", "Directory"]
    size: int
    lastModifiedTime: int
    creationTime: int


class _OctetStream(Response):
    media_type = "application/octet-stream"


def _files(services: Services) -> NamespaceFiles:
    return NamespaceFiles(services.storage)


@router.get(
    FILES,
    summary="Get namespace file content",
    response_class=_OctetStream,
    responses=_BINARY,
)
async def get_file_content(
    namespace: NamespacePath, path: PathQuery, services: ServicesDep
) -> Response:
    content = await asyncio.to_thread(_files(services).read, namespace, path)
    return _OctetStream(content, headers={"Cache-Control": "no-cache"})


@router.get(
    f"{FILES}/stats",
    summary="Get a namespace file's or folder's type, size and dates",
    response_model=FileAttributesModel,
    responses=_ERRORS,
)
async def get_file_stats(
    namespace: NamespacePath, services: ServicesDep, path: OptionalPathQuery = None
) -> dict[str, Any]:
    info = await asyncio.to_thread(_files(services).stats, namespace, path)
    return info.to_json()


@router.get(
    f"{FILES}/directory",
    summary="List a folder's content",
    response_model=list[FileAttributesModel],
    responses=_ERRORS,
)
async def list_directory(
    namespace: NamespacePath, services: ServicesDep, path: OptionalPathQuery = None
) -> list[dict[str, Any]]:
    found = await asyncio.to_thread(_files(services).listing, namespace, path)
    return [info.to_json() for info in found]


class RevisionModel(BaseModel):
    revision: int


@router.get(
    f"{FILES}/revisions",
    summary="List a file's revisions (lanner keeps one: the current content)",
    response_model=list[RevisionModel],
    responses=_ERRORS,
)
async def list_revisions(
    namespace: NamespacePath, services: ServicesDep, path: OptionalPathQuery = None
) -> list[dict[str, int]]:
    # Kestra's UI asks for them before opening a file in its editor.
    info = await asyncio.to_thread(_files(services).stats, namespace, path)
    if info.type is not FileType.File:
        raise NotFoundError(f"File '{normalize(path)}' was not found in namespace '{namespace}'")
    return [{"revision": 1}]


@router.get(
    f"{FILES}/search",
    summary="Find the files whose path contains a text",
    response_model=list[str],
    responses=_ERRORS,
)
async def search_files(
    namespace: NamespacePath,
    services: ServicesDep,
    q: Annotated[str, Query(description="Text the file's path contains")],
) -> list[str]:
    return await asyncio.to_thread(_files(services).search, namespace, q)


@router.get(
    f"{FILES}/export",
    summary="Export every file of the namespace as a zip archive",
    response_class=_OctetStream,
    responses=_BINARY,
)
async def export_files(namespace: NamespacePath, services: ServicesDep) -> Response:
    archive = await asyncio.to_thread(_files(services).export, namespace)
    disposition = f'attachment; filename="{namespace}_files.zip"'
    return _OctetStream(archive, headers={"Content-Disposition": disposition})


@router.post(
    FILES,
    summary="Create or replace a file; a .zip archive is expanded at the root",
    response_class=Response,
    responses={**_DONE, 400: _error("Malformed multipart body")},
)
async def create_file(
    namespace: NamespacePath,
    path: PathQuery,
    services: ServicesDep,
    fileContent: Annotated[
        UploadFile | None, File(description="The file's content (none: an empty file)")
    ] = None,
) -> Response:
    content = await fileContent.read() if fileContent is not None else b""
    filename = (fileContent.filename if fileContent is not None else None) or ""
    # As Kestra does: any uploaded `.zip` is an archive of namespace files, whatever `path`.
    if filename.lower().endswith(".zip"):
        entries = await asyncio.to_thread(unzip, content)
    else:
        entries = [(normalize(path), content)]
    for entry_path, data in entries:
        await _store(services, namespace, entry_path, data)
    return Response()


async def _store(services: Services, namespace: str, path: str, content: bytes) -> None:
    """Write a file, or import a flow when the path is `/_flows/<name>`."""
    if flow_file_name(path) is None:
        await asyncio.to_thread(_files(services).write, namespace, path, content)
        return
    source = content.decode("utf-8", errors="replace")
    # The flow joins the namespace it is uploaded to, whatever namespace it was written for.
    line = f"namespace: {namespace}"
    await services.flows.save(_FLOW_NAMESPACE.sub(lambda _: line, source, count=1))


@router.post(
    f"{FILES}/directory",
    summary="Create a folder (and its parents)",
    response_class=Response,
    responses=_DONE,
)
async def create_directory(
    namespace: NamespacePath, services: ServicesDep, path: OptionalPathQuery = None
) -> Response:
    await asyncio.to_thread(_files(services).make_directory, namespace, path)
    return Response()


@router.put(
    FILES,
    summary="Move or rename a file or folder",
    response_class=Response,
    responses=_DONE,
)
async def move_file(
    namespace: NamespacePath,
    services: ServicesDep,
    source: Annotated[
        str, Query(alias="from", description="The current path", json_schema_extra=_PATH_SCHEMA)
    ],
    target: Annotated[
        str,
        Query(
            alias="to", description="The new path (must not exist)", json_schema_extra=_PATH_SCHEMA
        ),
    ],
) -> Response:
    await asyncio.to_thread(_files(services).move, namespace, source, target)
    return Response()


@router.delete(
    FILES,
    summary="Delete a file or a folder with its content",
    response_class=Response,
    responses=_DONE,
)
async def delete_file(namespace: NamespacePath, path: PathQuery, services: ServicesDep) -> Response:
    await asyncio.to_thread(_files(services).delete, namespace, path)
    return Response()
