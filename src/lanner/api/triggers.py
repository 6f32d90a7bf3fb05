"""Triggers: search them with their state, enable and disable them.

A result is the trigger context Kestra shows (`namespace`, `flowId`, `triggerId`, `date`,
`nextExecutionDate`, `disabled`...) with, as in Kestra's own search, `triggerContext` (the same
fields) and `abstractTrigger` (the trigger as the flow declares it).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from lanner.api.deps import ServicesDep
from lanner.api.models import ErrorModel, PageModel
from lanner.clock import format_instant
from lanner.exceptions import LannerError
from lanner.scheduler import TriggerRow

router = APIRouter(tags=["Triggers"])

_SORT_FIELDS = ("namespace", "flowId", "triggerId", "nextExecutionDate", "date")
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorModel, "description": "Unknown flow or trigger"},
}
FlowId = Annotated[str, Path(alias="flowId")]
TriggerId = Annotated[str, Path(alias="triggerId")]


@router.get("/triggers/search", summary="Search triggers")
async def search_triggers(
    services: ServicesDep,
    page: Annotated[int, Query(ge=1)] = 1,
    size: Annotated[int, Query(ge=1)] = 10,
    sort: Annotated[list[str] | None, Query()] = None,
    q: str | None = None,
    namespace: str | None = None,
    flow_id: Annotated[str | None, Query(alias="flowId")] = None,
) -> PageModel[dict[str, Any]]:
    """Return the triggers of every flow with their state, a page at a time."""
    rows = await services.scheduler.rows(namespace=namespace, flow_id=flow_id)
    found = [trigger_json(row) for row in rows if _matches(row, q)]
    for field, descending in reversed([_sort_key(text) for text in sort or ()]):
        found.sort(key=lambda item: str(item.get(field) or ""), reverse=descending)
    start = (page - 1) * size
    return PageModel(results=found[start : start + size], total=len(found))


@router.post(
    "/triggers/{namespace}/{flowId}/{triggerId}/disable",
    summary="Disable a trigger",
    responses=_NOT_FOUND,
)
async def disable_trigger(
    services: ServicesDep, namespace: str, flow_id: FlowId, trigger_id: TriggerId
) -> dict[str, Any]:
    """Stop a trigger from starting executions until it is enabled again."""
    row = await services.scheduler.set_disabled(namespace, flow_id, trigger_id, True)
    return trigger_json(row)


@router.post(
    "/triggers/{namespace}/{flowId}/{triggerId}/enable",
    summary="Enable a trigger",
    responses=_NOT_FOUND,
)
async def enable_trigger(
    services: ServicesDep, namespace: str, flow_id: FlowId, trigger_id: TriggerId
) -> dict[str, Any]:
    """Let a trigger start executions again; a schedule resumes at its next date."""
    row = await services.scheduler.set_disabled(namespace, flow_id, trigger_id, False)
    return trigger_json(row)


def trigger_json(row: TriggerRow) -> dict[str, Any]:
    """Return a trigger with its state as the search lists it."""
    context = _context(row)
    declared = row.trigger.model_dump(mode="json", by_alias=True, exclude_none=True)
    return {**context, "triggerContext": context, "abstractTrigger": declared}


def _context(row: TriggerRow) -> dict[str, Any]:
    flow, state = row.stored.flow, row.state
    context: dict[str, Any] = {
        "tenantId": "main",
        "namespace": flow.namespace,
        "flowId": flow.id,
        "flowRevision": row.stored.revision,
        "triggerId": row.trigger.id,
        "type": row.trigger.type,
        "disabled": row.trigger.disabled or (state is not None and state.disabled),
    }
    if state is not None:
        dates = {"date": state.date, "nextExecutionDate": state.next_date}
        context.update({name: format_instant(day) for name, day in dates.items() if day})
        context.update(_bookkeeping(state.to_json()))
    return context


def _bookkeeping(state: dict[str, Any]) -> dict[str, Any]:
    return {
        name: state[name] for name in ("executionId", "updatedDate", "backfill") if name in state
    }


def _matches(row: TriggerRow, query: str | None) -> bool:
    if not query:
        return True
    needle = query.lower()
    flow = row.stored.flow
    return any(needle in text.lower() for text in (row.trigger.id, flow.id, flow.namespace))


def _sort_key(text: str) -> tuple[str, bool]:
    field, _, direction = text.partition(":")
    if field not in _SORT_FIELDS or direction.lower() not in ("", "asc", "desc"):
        raise LannerError(
            f"Invalid sort '{text}': expected <field>:asc|desc with a field among "
            f"{', '.join(_SORT_FIELDS)}"
        )
    return field, direction.lower() == "desc"
