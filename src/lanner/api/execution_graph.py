"""The topology of an execution: its flow revision drawn with its task runs.

`GET /executions/{executionId}/graph`, as Kestra serves it: the graph of the flow revision
the execution ran (even a revision since replaced or deleted), each task drawn once per run
(see `lanner.execution_graph`), and tasks cut down to what the execution view shows.
`subflows` draws Subflow nodes open on the flow revision their child execution ran (see
`lanner.subflow_graph`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter

from lanner.api.deps import ServicesDep
from lanner.api.execution_paths import EXECUTION, ExecutionId
from lanner.api.execution_watch import load
from lanner.api.flow_models import FlowGraphModel, Subflows
from lanner.api.models import ErrorModel
from lanner.execution_graph import draw_execution
from lanner.flows import Flow
from lanner.graph import Drawing
from lanner.subflow_graph import expand_subflows, subflow_finder

# Included in the executions router, which gives the tag.
router = APIRouter()

_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorModel, "description": "Unknown execution, or its flow revision is gone"},
    422: {"model": ErrorModel, "description": "Invalid request"},
}


@router.get(
    f"{EXECUTION}/graph",
    summary="Generate a graph for an execution",
    response_model=FlowGraphModel,
    response_model_exclude_unset=True,
    responses=_ERRORS,
)
async def graph_of_execution(
    services: ServicesDep, execution_id: ExecutionId, subflows: Subflows = None
) -> dict[str, Any]:
    execution = await load(services, execution_id)
    stored = await services.flows.get(
        execution.namespace, execution.flow_id, execution.flow_revision, allow_deleted=True
    )
    wanted = frozenset(subflows or ())

    def drawn(expanded: Mapping[str, Flow]) -> Drawing:
        return draw_execution(stored.flow, execution, wanted=wanted, expanded=expanded)

    return await expand_subflows(drawn, subflow_finder(services.flows))
