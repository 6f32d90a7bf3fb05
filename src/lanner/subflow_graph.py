"""Subflow nodes drawn open: a graph with the flows its Subflow tasks start drawn inside them.

`GET /flows/{namespace}/{id}/graph` and `GET /executions/{id}/graph` take `subflows`, the uids
of the Subflow nodes to expand (`root.call`, or `root.call.inner` for a Subflow of the
expanded flow). Each becomes a `SubflowGraphCluster` holding the tasks of the flow it starts,
their uids under its own (`root.call.<task>`).

Which flow a node starts: for an execution, the flow of the child execution its task run
started; otherwise the `namespace`, `flowId` and `revision` the task declares, which must then
be plain text, not templates.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from lanner.exceptions import LannerError, NotFoundError
from lanner.executions import TaskRun
from lanner.flowrepo import FlowRepository
from lanner.flows import Flow
from lanner.graph import Drawing
from lanner.tasks.subflow import Subflow

__all__ = ["FindSubflow", "expand_subflows", "subflow_finder"]

FindSubflow = Callable[[Subflow, TaskRun | None], Awaitable[Flow]]
"""Return the flow a Subflow node starts (its task, and its run when drawn for an execution)."""


async def expand_subflows(
    draw: Callable[[Mapping[str, Flow]], Drawing], find: FindSubflow
) -> dict[str, Any]:
    """Draw, find the flows of the wanted Subflow nodes, and draw again until all are open.

    Each round opens at least one more of the wanted uids, so there are at most as many rounds
    as wanted uids, plus one.
    """
    expanded: dict[str, Flow] = {}
    while True:
        drawing = draw(expanded)
        if not drawing.unexpanded:
            return drawing.graph
        for uid, node in drawing.unexpanded.items():
            expanded[uid] = await find(node.task, node.run)


def subflow_finder(flows: FlowRepository) -> FindSubflow:
    """Find a Subflow node's flow in `flows`: its child execution's revision when it ran."""

    async def find(task: Subflow, run: TaskRun | None) -> Flow:
        child_id = (run.outputs or {}).get("executionId") if run is not None else None
        child = await flows.store.get_execution(child_id) if isinstance(child_id, str) else None
        if child is not None:
            stored = await flows.get(
                child.namespace, child.flow_id, child.flow_revision, allow_deleted=True
            )
            return stored.flow
        if _is_template(task.namespace) or _is_template(task.flow_id):
            raise LannerError(
                f"Task '{task.id}' is a subflow whose namespace and/or flowId contains dynamic"
                " values: it can only be expanded on an execution that ran it"
            )
        try:
            stored = await flows.get(task.namespace, task.flow_id, task.revision)
        except NotFoundError:
            uid = f"{task.namespace}.{task.flow_id}"
            if task.revision is not None:
                uid += f" (revision {task.revision})"
            raise NotFoundError(f"Unable to find subflow {uid} for task {task.id}") from None
        return stored.flow

    return find


def _is_template(text: str) -> bool:
    return "{{" in text or "{%" in text
