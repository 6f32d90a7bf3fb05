"""The query parameters of an execution search, read once for the search and the bulk routes.

`GET /executions/search` and the `/by-query` bulk routes take the same filters, as in Kestra:
the legacy ones (`namespace`, `flowId`, `state`, `timeRange`...) and the newer
`filters[field][OPERATION]=value` form.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query, Request

from lanner.api.execution_search import (
    ExecutionQuery,
    apply_filters,
    sort_descending,
    time_window,
)
from lanner.api.flow_search import label_filter
from lanner.states import State

LABELS = Query(description="Labels as `key:value`, repeatable")
# Kestra's numbers are Java ints: larger ones would overflow the store's integers.
INT_MAX = 2**31 - 1
Count = Annotated[int, Query(ge=1, le=INT_MAX)]


def execution_query(
    request: Request,
    page: Count = 1,
    size: Count = 10,
    sort: Annotated[list[str] | None, Query()] = None,
    q: str | None = None,
    namespace: str | None = None,
    flowId: str | None = None,
    startDate: datetime | None = None,
    endDate: datetime | None = None,
    timeRange: str | None = None,
    state: Annotated[list[State] | None, Query()] = None,
    labels: Annotated[list[str] | None, LABELS] = None,
    triggerExecutionId: str | None = None,
    childFilter: Annotated[str | None, Query(pattern="^(CHILD|MAIN)$")] = None,
) -> ExecutionQuery:
    """Read the search of a request from its query parameters."""
    start_after, start_before = time_window(startDate, endDate, timeRange)
    query = ExecutionQuery(
        namespace=namespace,
        flow_id=flowId,
        states=state,
        labels=label_filter(labels or ()),
        start_after=start_after,
        start_before=start_before,
        text=q,
        trigger_execution_id=triggerExecutionId,
        child_filter=childFilter,
        page=page,
        size=size,
        sort_desc=sort_descending(sort or ()),
    )
    apply_filters(query, request.query_params.multi_items())
    return query


SearchQuery = Annotated[ExecutionQuery, Depends(execution_query)]
