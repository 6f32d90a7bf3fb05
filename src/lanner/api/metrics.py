"""Metrics: the metrics of an execution, the names and tasks of a flow's, and aggregates."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from lanner.api.deps import ServicesDep
from lanner.api.logs import MAX_INT, Instant, as_utc
from lanner.api.models import MetricAggregationsModel, MetricEntryModel, PageModel
from lanner.clock import utcnow
from lanner.exceptions import LannerError
from lanner.metrics import aggregate
from lanner.services import Services

router = APIRouter(tags=["Metrics"])


@router.get(
    "/metrics/{executionId}",
    summary="List the metrics of an execution, a task or a task run",
    response_model=PageModel[MetricEntryModel],
)
async def execution_metrics(
    services: ServicesDep,
    executionId: str,
    taskRunId: Annotated[str | None, Query(description="Only this task run")] = None,
    taskId: Annotated[str | None, Query(description="Only this task")] = None,
    page: Annotated[int, Query(ge=1, le=MAX_INT, description="The page, from 1")] = 1,
    size: Annotated[int, Query(ge=1, le=MAX_INT, description="Entries per page")] = 10,
) -> JSONResponse:
    found = await services.store.get_metrics(
        executionId, task_id=taskId, task_run_id=taskRunId, page=page, size=size
    )
    results = [entry.to_json() for entry in found.results]
    return JSONResponse({"results": results, "total": found.total})


@router.get(
    "/metrics/names/{namespace}/{flowId}",
    summary="List the names of a flow's metrics",
    response_model=list[str],
)
async def flow_metric_names(services: ServicesDep, namespace: str, flowId: str) -> list[str]:
    return await services.store.metric_names(namespace, flowId)


@router.get(
    "/metrics/names/{namespace}/{flowId}/{taskId}",
    summary="List the names of a task's metrics",
    response_model=list[str],
)
async def task_metric_names(
    services: ServicesDep, namespace: str, flowId: str, taskId: str
) -> list[str]:
    return await services.store.metric_names(namespace, flowId, taskId)


@router.get(
    "/metrics/tasks/{namespace}/{flowId}",
    summary="List the tasks of a flow that reported metrics, deleted or renamed ones included",
    response_model=list[str],
)
async def tasks_with_metrics(services: ServicesDep, namespace: str, flowId: str) -> list[str]:
    return await services.store.tasks_with_metrics(namespace, flowId)


StartDate = Annotated[Instant | None, Query(description="From this instant; default 30 days ago")]
EndDate = Annotated[Instant | None, Query(description="Up to this instant; default now")]
Aggregation = Annotated[str, Query(description="avg, sum, min or max")]


@router.get(
    "/metrics/aggregates/{namespace}/{flowId}/{metric}",
    summary="Aggregate a flow's metric per time bucket",
    response_model=MetricAggregationsModel,
)
async def flow_aggregates(
    services: ServicesDep,
    namespace: str,
    flowId: str,
    metric: str,
    startDate: StartDate = None,
    endDate: EndDate = None,
    aggregation: Aggregation = "sum",
) -> dict[str, Any]:
    return await _aggregates(
        services, namespace, flowId, None, metric, startDate, endDate, aggregation
    )


@router.get(
    "/metrics/aggregates/{namespace}/{flowId}/{taskId}/{metric}",
    summary="Aggregate a task's metric per time bucket",
    response_model=MetricAggregationsModel,
)
async def task_aggregates(
    services: ServicesDep,
    namespace: str,
    flowId: str,
    taskId: str,
    metric: str,
    startDate: StartDate = None,
    endDate: EndDate = None,
    aggregation: Aggregation = "sum",
) -> dict[str, Any]:
    return await _aggregates(
        services, namespace, flowId, taskId, metric, startDate, endDate, aggregation
    )


async def _aggregates(
    services: Services,
    namespace: str,
    flow_id: str,
    task_id: str | None,
    metric: str,
    start_date: Any,
    end_date: Any,
    how: str,
) -> dict[str, Any]:
    end = as_utc(end_date) or utcnow()
    start = as_utc(start_date) or end - timedelta(days=30)
    if start > end:
        raise LannerError("startDate must be before endDate")
    entries = await services.store.flow_metrics(
        namespace, flow_id, metric, task_id=task_id, start=start, end=end
    )
    return aggregate(entries, how, start, end)
