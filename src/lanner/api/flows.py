"""Flows: create, read, update and delete YAML flows with revisions; search, validate, draw.

Flow sources travel as YAML text (`application/x-yaml`; `text/yaml`, `application/yaml` and
`text/plain` are read the same). Static paths (`/flows/search`, `/flows/validate`, ...) are
declared before `/flows/{namespace}` and `/flows/{namespace}/{id}`, which would capture them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Path, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import Field

from lanner.api.deps import ServicesDep
from lanner.api.flow_files import read_upload, zip_sources
from lanner.api.flow_models import (
    BulkResponseModel,
    FlowDependenciesModel,
    FlowGraphModel,
    FlowIdModel,
    FlowModel,
    Subflows,
    ValidateItemModel,
)
from lanner.api.flow_search import flow_query
from lanner.api.models import ErrorModel, PageModel
from lanner.dependencies import dependency_graph
from lanner.exceptions import LannerError, NotFoundError
from lanner.flow_parser import parse_flow
from lanner.flowcheck import Section, validate_fragment, validate_text
from lanner.flowjson import flow_json, plain
from lanner.flowrepo import SORT_FIELDS, FlowQuery, FlowRepository, StoredFlow
from lanner.flows import Flow
from lanner.graph import Drawing, draw
from lanner.services import Services
from lanner.store import FlowRecord
from lanner.subflow_graph import expand_subflows, subflow_finder

router = APIRouter(tags=["Flows"])

YAML_TYPES = ("application/x-yaml", "application/yaml", "text/yaml", "text/plain")
# Every route may answer 404 (an unknown flow, or a tenant other than `main`) and 422.
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorModel, "description": "Unknown flow or tenant"},
    422: {"model": ErrorModel, "description": "Invalid flow or request"},
}
# Routes with a JSON or multipart body may also answer 400 for a body that cannot be parsed.
BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorModel, "description": "Malformed request body"},
    **ERRORS,
}
_ZIP: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A ZIP archive of the flows' YAML sources",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def _text_body(
    description: str, media_types: tuple[str, ...] = YAML_TYPES, *, required: bool = True
) -> dict[str, Any]:
    content = {media: {"schema": {"type": "string"}} for media in media_types}
    return {"requestBody": {"required": required, "description": description, "content": content}}


_FLOW_BODY = _text_body("The flow, in YAML")
# Validating or replacing with nothing is allowed: no report, or a namespace emptied.
_FLOWS_BODY = _text_body("Flows in YAML, separated by `---` lines", required=False)
_TASK_BODY = _text_body(
    "A task (or trigger) in JSON or YAML", ("application/json", *YAML_TYPES), required=False
)


async def _source(request: Request) -> str:
    """Read the request body as text, whatever its declared type."""
    try:
        return (await request.body()).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LannerError("The request body is not UTF-8 text") from exc


Source = Annotated[str, Depends(_source)]
Namespace = Annotated[str, Path(description="The flow namespace")]
FlowId = Annotated[str, Path(alias="id", description="The flow id")]
Labels = Annotated[
    list[Annotated[str, Field(pattern=r"^[^:]+:")]] | None,
    Query(description="Labels as `key:value`, repeatable"),
]
Sort = Annotated[
    list[Annotated[str, Field(pattern=rf"^({'|'.join(SORT_FIELDS)})(:(asc|desc|ASC|DESC))?$")]]
    | None,
    Query(description="`field:asc|desc`, repeatable"),
]
Text = Annotated[str | None, Query(alias="q", description="A text the id or namespace contains")]
NamespacePrefix = Annotated[
    str | None, Query(description="A namespace: its flows and those of the namespaces under it")
]


def _query(
    request: Request,
    text: str | None,
    namespace: str | None,
    labels: list[str] | None,
    sort: list[str] | None = None,
) -> FlowQuery:
    params = request.query_params.multi_items()
    return flow_query(params, namespace=namespace, text=text, labels=labels or (), sort=sort or ())


def _matching(
    request: Request, q: Text = None, namespace: NamespacePrefix = None, labels: Labels = None
) -> FlowQuery:
    return _query(request, q, namespace, labels)


Matching = Annotated[FlowQuery, Depends(_matching)]
"""The flows a bulk route acts on: those a search with these parameters finds."""


def _json(stored: StoredFlow, *, source: bool = True) -> dict[str, Any]:
    return flow_json(stored.record, stored.flow, source=source)


def _record_json(repo: FlowRepository, record: FlowRecord, *, source: bool) -> dict[str, Any]:
    return flow_json(record, repo.parse_or_error(record), source=source)


# -- static paths ---------------------------------------------------------------------------------


@router.post(
    "/flows",
    summary="Create a flow from YAML source",
    responses=ERRORS,
    openapi_extra=_FLOW_BODY,
    response_model=FlowModel,
    response_model_exclude_unset=True,
)
async def create_flow(services: ServicesDep, source: Source) -> dict[str, Any]:
    """Store a new flow (revision 1); 422 when it is invalid or already exists."""
    return _json(await services.flows.create(source))


@router.get(
    "/flows/search",
    summary="Search for flows",
    response_model=PageModel[FlowModel],
    response_model_exclude_unset=True,
    responses=ERRORS,
)
async def search_flows(
    request: Request,
    services: ServicesDep,
    q: Text = None,
    namespace: NamespacePrefix = None,
    labels: Labels = None,
    page: Annotated[int, Query(ge=1, description="The page, from 1")] = 1,
    size: Annotated[int, Query(ge=1, description="The page size")] = 10,
    sort: Sort = None,
) -> dict[str, Any]:
    """Return the last revision of the flows that match, one page of them."""
    repo = services.flows
    query = _query(request, q, namespace, labels, sort)
    found = await repo.search(query, page, size)
    results = [_record_json(repo, record, source=False) for record in found.results]
    return {"results": results, "total": found.total}


@router.get(
    "/flows/distinct-namespaces",
    summary="List the namespaces that hold flows",
    response_model=list[str],
    responses=ERRORS,
)
async def distinct_namespaces(services: ServicesDep, q: Text = None) -> list[str]:
    return await services.flows.namespaces(q)


@router.post(
    "/flows/validate",
    summary="Validate flows (one report per YAML document)",
    response_model=list[ValidateItemModel],
    response_model_exclude_unset=True,
    openapi_extra=_FLOWS_BODY,
    responses=ERRORS,
)
async def validate_flows(services: ServicesDep, source: Source) -> list[dict[str, Any]]:
    items = await validate_text(source, services.flows.last_revision)
    return [item.to_json() for item in items]


@router.post(
    "/flows/validate/task",
    summary="Validate one task (or, with section=TRIGGERS, one trigger)",
    response_model=ValidateItemModel,
    response_model_exclude_unset=True,
    openapi_extra=_TASK_BODY,
    responses=ERRORS,
)
async def validate_task(source: Source, section: Section = Section.TASKS) -> dict[str, Any]:
    return validate_fragment(source, section).to_json()


@router.post(
    "/flows/validate/trigger",
    summary="Validate one trigger",
    response_model=ValidateItemModel,
    response_model_exclude_unset=True,
    openapi_extra=_TASK_BODY,
    responses=ERRORS,
)
async def validate_trigger(source: Source) -> dict[str, Any]:
    return validate_fragment(source, Section.TRIGGERS).to_json()


@router.post(
    "/flows/graph",
    summary="Draw the topology of a flow source",
    response_model=FlowGraphModel,
    response_model_exclude_unset=True,
    responses=ERRORS,
    openapi_extra=_FLOW_BODY,
)
async def graph_of_source(
    services: ServicesDep, source: Source, subflows: Subflows = None
) -> dict[str, Any]:
    return await _graph(services, parse_flow(source), subflows)


@router.post(
    "/flows/import",
    summary="Import flows from a ZIP archive of YAML files or a multi-document YAML file",
    response_model=list[str],
    responses=BODY_ERRORS,
)
async def import_flows(
    services: ServicesDep, file_upload: Annotated[UploadFile, File(alias="fileUpload")]
) -> list[str]:
    """Create or update each flow; return the files (or document indexes) that failed."""
    upload = read_upload(await file_upload.read())
    return upload.unreadable + await services.flows.import_sources(upload.sources)


@router.get(
    "/flows/export/by-query",
    summary="Export the flows that match as a ZIP archive",
    response_class=Response,
    responses={**_ZIP, **ERRORS},
)
async def export_by_query(
    services: ServicesDep,
    query: Matching,
) -> Response:
    records = await services.flows.find(query)
    return _zip_response(zip_sources(records))


@router.post(
    "/flows/export/by-ids",
    summary="Export flows as a ZIP archive",
    response_class=Response,
    responses={**_ZIP, **BODY_ERRORS},
)
async def export_by_ids(services: ServicesDep, ids: list[FlowIdModel]) -> Response:
    stored = [await services.flows.get(item.namespace, item.id) for item in ids]
    return _zip_response(zip_sources(flow.record for flow in stored))


def _zip_response(data: bytes) -> Response:
    disposition = {"Content-Disposition": 'attachment; filename="flows.zip"'}
    return Response(data, media_type="application/octet-stream", headers=disposition)


@router.delete(
    "/flows/delete/by-query",
    summary="Delete the flows that match",
    response_model=BulkResponseModel,
    responses=ERRORS,
)
async def delete_by_query(
    services: ServicesDep,
    query: Matching,
) -> dict[str, int]:
    records = await services.flows.find(query)
    for record in records:
        await services.flows.delete(record.namespace, record.id)
    return {"count": len(records)}


@router.delete(
    "/flows/delete/by-ids",
    summary="Delete flows",
    response_model=BulkResponseModel,
    responses=BODY_ERRORS,
)
async def delete_by_ids(services: ServicesDep, ids: list[FlowIdModel]) -> dict[str, int]:
    for item in ids:
        await services.flows.delete(item.namespace, item.id)
    return {"count": len(ids)}


async def _set_disabled(repo: FlowRepository, ids: list[FlowIdModel], disabled: bool) -> int:
    changed = [await repo.set_disabled(item.namespace, item.id, disabled) for item in ids]
    return sum(changed)


@router.post(
    "/flows/disable/by-ids",
    summary="Disable flows",
    response_model=BulkResponseModel,
    responses=BODY_ERRORS,
)
async def disable_by_ids(services: ServicesDep, ids: list[FlowIdModel]) -> dict[str, int]:
    return {"count": await _set_disabled(services.flows, ids, True)}


@router.post(
    "/flows/enable/by-ids",
    summary="Enable flows",
    response_model=BulkResponseModel,
    responses=BODY_ERRORS,
)
async def enable_by_ids(services: ServicesDep, ids: list[FlowIdModel]) -> dict[str, int]:
    return {"count": await _set_disabled(services.flows, ids, False)}


async def _set_disabled_by_query(repo: FlowRepository, query: FlowQuery, disabled: bool) -> int:
    ids = [FlowIdModel(namespace=r.namespace, id=r.id) for r in await repo.find(query)]
    return await _set_disabled(repo, ids, disabled)


@router.post(
    "/flows/disable/by-query",
    summary="Disable the flows that match",
    response_model=BulkResponseModel,
    responses=ERRORS,
)
async def disable_by_query(
    services: ServicesDep,
    query: Matching,
) -> dict[str, int]:
    return {"count": await _set_disabled_by_query(services.flows, query, True)}


@router.post(
    "/flows/enable/by-query",
    summary="Enable the flows that match",
    response_model=BulkResponseModel,
    responses=ERRORS,
)
async def enable_by_query(
    services: ServicesDep,
    query: Matching,
) -> dict[str, int]:
    return {"count": await _set_disabled_by_query(services.flows, query, False)}


# -- one namespace --------------------------------------------------------------------------------


@router.get(
    "/flows/{namespace}",
    summary="List the flows of a namespace",
    response_model=list[FlowModel],
    response_model_exclude_unset=True,
    responses=ERRORS,
)
async def namespace_flows(services: ServicesDep, namespace: Namespace) -> list[dict[str, Any]]:
    """Return the flows of exactly this namespace (not of those under it)."""
    repo = services.flows
    return [_record_json(repo, r, source=False) for r in await repo.in_namespace(namespace)]


@router.post(
    "/flows/{namespace}",
    summary="Make a namespace hold these flows (multi-document YAML)",
    responses=ERRORS,
    openapi_extra=_FLOWS_BODY,
    response_model=list[FlowModel],
    response_model_exclude_unset=True,
)
async def update_namespace(
    services: ServicesDep,
    namespace: Namespace,
    source: Source,
    delete: Annotated[bool, Query(description="Delete the namespace's other flows")] = True,
) -> list[dict[str, Any]]:
    changed = await services.flows.replace_namespace(namespace, source, delete=delete)
    return [_json(stored) for stored in changed]


# -- one flow -------------------------------------------------------------------------------------


@router.get(
    "/flows/{namespace}/{id}",
    summary="Get a flow",
    responses=ERRORS,
    response_model=FlowModel,
    response_model_exclude_unset=True,
)
async def get_flow(
    services: ServicesDep,
    namespace: Namespace,
    flow_id: FlowId,
    source: Annotated[bool, Query(description="Include the YAML source")] = False,
    revision: Annotated[int | None, Query(description="A revision; the last by default")] = None,
    allow_deleted: Annotated[
        bool, Query(alias="allowDeleted", description="Return a deleted flow too")
    ] = False,
) -> dict[str, Any]:
    stored = await services.flows.get(namespace, flow_id, revision, allow_deleted=allow_deleted)
    return _json(stored, source=source)


@router.put(
    "/flows/{namespace}/{id}",
    summary="Update a flow from YAML source",
    responses=ERRORS,
    openapi_extra=_FLOW_BODY,
    response_model=FlowModel,
    response_model_exclude_unset=True,
)
async def update_flow(
    services: ServicesDep, namespace: Namespace, flow_id: FlowId, source: Source
) -> dict[str, Any]:
    """Store a new revision when the source changed; the id and namespace cannot change."""
    return _json(await services.flows.update(namespace, flow_id, source))


@router.delete(
    "/flows/{namespace}/{id}", summary="Delete a flow", status_code=204, responses=ERRORS
)
async def delete_flow(services: ServicesDep, namespace: Namespace, flow_id: FlowId) -> Response:
    """Soft-delete: a last revision marked deleted; the revisions stay readable."""
    await services.flows.delete(namespace, flow_id)
    return Response(status_code=204)


@router.get(
    "/flows/{namespace}/{id}/revisions",
    summary="List a flow's revisions",
    response_model=list[FlowModel],
    response_model_exclude_unset=True,
    responses=ERRORS,
)
async def flow_revisions(
    services: ServicesDep, namespace: Namespace, flow_id: FlowId
) -> list[dict[str, Any]]:
    repo = services.flows
    records = await repo.revisions(namespace, flow_id)
    return [_record_json(repo, record, source=True) for record in records]


@router.get(
    "/flows/{namespace}/{id}/graph",
    summary="Draw the topology of a flow",
    response_model=FlowGraphModel,
    response_model_exclude_unset=True,
    responses=ERRORS,
)
async def flow_graph_of(
    services: ServicesDep,
    namespace: Namespace,
    flow_id: FlowId,
    revision: Annotated[int | None, Query(description="A revision; the last by default")] = None,
    subflows: Subflows = None,
) -> dict[str, Any]:
    flow = (await services.flows.get(namespace, flow_id, revision)).flow
    return await _graph(services, flow, subflows)


async def _graph(services: Services, flow: Flow, subflows: Sequence[str] | None) -> dict[str, Any]:
    """Draw a flow with the Subflow nodes whose uids are listed drawn open."""
    wanted = frozenset(subflows or ())

    def drawn(expanded: Mapping[str, Flow]) -> Drawing:
        return draw(flow, wanted=wanted, expanded=expanded)

    return await expand_subflows(drawn, subflow_finder(services.flows))


@router.get(
    "/flows/{namespace}/{id}/dependencies",
    summary="List the flows a flow calls or triggers, and those that call or trigger it",
    response_model=FlowDependenciesModel,
    responses=ERRORS,
)
async def flow_dependencies(
    services: ServicesDep,
    namespace: Namespace,
    flow_id: FlowId,
    destination_only: Annotated[
        bool,
        Query(
            alias="destinationOnly",
            description="Only the flows this flow calls or triggers, not those leading to it",
        ),
    ] = False,
) -> dict[str, Any]:
    # Checked without parsing: a flow using task types this engine lacks still has relations.
    if await services.store.get_flow(namespace, flow_id) is None:
        raise NotFoundError(f"Unable to find flow {namespace}.{flow_id}")
    records = await services.flows.find(FlowQuery())
    return dependency_graph(records, namespace, flow_id, destination_only=destination_only)


@router.get(
    "/flows/{namespace}/{id}/tasks/{taskId}",
    summary="Get a task of a flow",
    response_model=dict[str, Any],
    responses=ERRORS,
)
async def flow_task(
    services: ServicesDep,
    namespace: Namespace,
    flow_id: FlowId,
    task_id: Annotated[str, Path(alias="taskId", description="The task id")],
    revision: Annotated[int | None, Query(description="A revision; the last by default")] = None,
) -> dict[str, Any]:
    flow = (await services.flows.get(namespace, flow_id, revision)).flow
    try:
        task: dict[str, Any] = plain(flow.find_task(task_id))
    except KeyError:
        raise NotFoundError(
            f"Unable to find task '{task_id}' in flow {namespace}.{flow_id}"
        ) from None
    return task
