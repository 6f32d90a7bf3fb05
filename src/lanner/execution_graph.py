"""The topology of an execution, in the shape Kestra's UI draws (`FlowGraph` of an execution).

It is the graph of the flow revision the execution ran (`lanner.graph`), drawn with the task
runs of the execution: each task once per run its parent flowable made of it, so a loop's
children appear once per iteration, each node carrying its `taskRun` (and so its state).

Someone allowed to read an execution is not necessarily allowed to read its flow, so the
tasks of the nodes are cut down to what the execution view needs: their id and type, the
children of a flowable (cut down the same way), the `onResume` inputs of a Pause, the flow a
Subflow starts and the type of a script's task runner. Everything else of the task's
configuration is left out.

A Subflow node drawn open holds the tasks of the flow its child ran, cut down the same way and
drawn without runs; its `subflowId` names that flow, rendered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from typing import Any

from lanner.executions import Execution, TaskRun
from lanner.flowjson import plain
from lanner.flows import Flow
from lanner.graph import Drawing, draw
from lanner.tasks.base import FlowableTask, Task
from lanner.tasks.subflow import Subflow

__all__ = ["ExecutionTaskRuns", "draw_execution", "execution_graph", "task_for_execution"]


def execution_graph(flow: Flow, execution: Execution) -> dict[str, Any]:
    """Return the topology of `flow` drawn with the task runs of `execution`."""
    return draw_execution(flow, execution).graph


def draw_execution(
    flow: Flow,
    execution: Execution,
    *,
    wanted: Set[str] = frozenset(),
    expanded: Mapping[str, Flow] | None = None,
) -> Drawing:
    """Draw `flow` with the runs of `execution`, its `wanted` Subflow nodes expanded (see
    `lanner.graph.draw`), each task cut down to what the execution view shows."""
    opened = expanded or {}
    drawing = draw(flow, ExecutionTaskRuns(execution.task_runs), wanted=wanted, expanded=opened)
    tasks = {"": {task.id: task for task in flow.walk()}}
    for uid, subflow in opened.items():
        tasks[uid] = {task.id: task for task in subflow.walk()}
    for node in drawing.graph["nodes"]:
        declared = node.get("task")
        owner = tasks[_owner(node["uid"], opened)]
        if declared is not None and declared.get("id") in owner:
            # Clusters hold the same dict as their `taskNode`: they are cut down too.
            node["task"] = task_for_execution(owner[declared["id"]])
        started = opened.get(node["uid"])
        if started is not None and "task" in node:
            # The flow it is drawn open with is the one it started: its id, rendered.
            node["task"]["subflowId"] = {"namespace": started.namespace, "flowId": started.id}
    return drawing


def _owner(uid: str, expanded: Mapping[str, Flow]) -> str:
    """The uid of the expanded Subflow node whose flow a node belongs to ("": the flow's own)."""
    holders = [opened for opened in expanded if uid.startswith(opened + ".")]
    return max(holders, key=len, default="")


def task_for_execution(task: Task) -> dict[str, Any]:
    """Return the part of a task's declaration an execution's graph shows."""
    declared = plain(task)
    reduced: dict[str, Any] = {"id": declared["id"], "type": declared["type"]}
    if isinstance(task, FlowableTask):
        reduced["tasks"] = [
            task_for_execution(child) for _, children in task.task_lists() for child in children
        ]
    if declared.get("onResume") is not None:
        reduced["inputs"] = declared["onResume"]
    if isinstance(task, Subflow):
        reduced["subflowId"] = _subflow_id(declared)
    runner = declared.get("taskRunner")
    if isinstance(runner, Mapping) and runner.get("type") is not None:
        reduced["taskRunner"] = {"type": runner["type"]}
    return reduced


def _subflow_id(declared: Mapping[str, Any]) -> dict[str, Any]:
    subflow = {"namespace": declared["namespace"], "flowId": declared["flowId"]}
    if declared.get("revision") is not None:
        subflow["revision"] = declared["revision"]
    return subflow


class ExecutionTaskRuns:
    """Looks up the runs of a task in an execution, as the graph builder asks for them."""

    def __init__(self, task_runs: Sequence[TaskRun]) -> None:
        self._by_id = {run.id: run for run in task_runs}
        self._by_task: dict[str, list[TaskRun]] = {}
        for run in task_runs:
            self._by_task.setdefault(run.task_id, []).append(run)

    def runs_of(self, task_id: str, parent: TaskRun | None) -> Sequence[TaskRun | None]:
        """The runs of a task under `parent` (any parent at the top level), in creation order.

        A task the execution never ran is drawn once, without a run. One that ran, but only
        under other parents (another iteration of an enclosing loop), is not drawn here.
        """
        runs = self._by_task.get(task_id)
        if not runs:
            return (None,)
        if parent is None:
            return runs
        return [run for run in runs if run.parent_task_run_id == parent.id]

    def values_of(self, run: TaskRun) -> list[str]:
        """The non-null values of a run's ancestors, outermost first, then its own."""
        chain = [run]
        seen = {run.id}
        current = run
        while current.parent_task_run_id is not None:
            parent = self._by_id.get(current.parent_task_run_id)
            if parent is None or parent.id in seen:
                break
            chain.append(parent)
            seen.add(parent.id)
            current = parent
        return [item.value for item in reversed(chain) if item.value is not None]
