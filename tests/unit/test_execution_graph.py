"""The topology of an execution: its flow drawn once per task run, tasks cut down."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from lanner.execution_graph import ExecutionTaskRuns, execution_graph, task_for_execution
from lanner.executions import Execution, TaskRun
from lanner.flow_parser import parse_flow
from lanner.flows import Flow
from lanner.graph import flow_graph
from lanner.states import State, StateTrail
from tests.unit.test_graph import edges, log, node

Graph = dict[str, Any]

LOOP = (
    "  - id: each\n    type: io.kestra.plugin.core.flow.ForEach\n"
    '    values: ["a", "b"]\n    tasks:\n' + log("t", 6) + log("after")
)
NESTED = (
    "  - id: outer\n    type: io.kestra.plugin.core.flow.ForEach\n"
    '    values: ["a", "b"]\n    tasks:\n'
    "      - id: inner\n        type: io.kestra.plugin.core.flow.Sequential\n"
    "        tasks:\n" + log("t", 10)
)


def parse(tasks: str) -> Flow:
    return parse_flow(f"id: g\nnamespace: test\ntasks:\n{tasks}")


def run(task_id: str, parent: TaskRun | None = None, value: str | None = None) -> TaskRun:
    suffix = f"_{value}" if value else ""
    return TaskRun(
        id=f"{task_id}{suffix}-run",
        execution_id="e1",
        namespace="test",
        flow_id="g",
        task_id=task_id,
        state=StateTrail.start(State.SUCCESS),
        parent_task_run_id=parent.id if parent else None,
        value=value,
    )


def draw(flow: Flow, *runs: TaskRun) -> Graph:
    execution = replace(Execution.create("test", "g", 1), task_runs=runs)
    return execution_graph(flow, execution)


def test_each_iteration_of_a_loop_is_a_node_of_its_own_with_its_task_run() -> None:
    each = run("each")
    graph = draw(parse(LOOP), each, run("t", each, "a"), run("t", each, "b"), run("after"))
    first, second = node(graph, "root.each.t_a"), node(graph, "root.each.t_b")
    assert (first["values"], first["taskRun"]["value"]) == (["a"], "a")
    assert second["taskRun"]["state"]["current"] == "SUCCESS"
    assert node(graph, "root.each")["values"] == []
    found = edges(graph)
    assert ("root.each", "root.each.t_a", {"relationType": "DYNAMIC", "value": "a"}) in found
    assert ("root.each.t_a", "root.each.t_b", {"relationType": "DYNAMIC", "value": "b"}) in found
    # Every run of the last task of a list ends it.
    assert ("root.each.t_a", "root.each.end", {}) in found
    assert ("root.each.t_b", "root.each.end", {}) in found
    assert not any(item["uid"] == "root.each.t" for item in graph["nodes"])


def test_a_task_that_did_not_run_is_drawn_once_without_a_run() -> None:
    graph = draw(parse(LOOP), run("each"))
    waiting = node(graph, "root.each.t")
    assert "taskRun" not in waiting
    assert "values" not in waiting
    assert "taskRun" not in node(graph, "root.after")
    # Without any run, the topology is the flow's.
    assert edges(draw(parse(LOOP))) == edges(flow_graph(parse(LOOP)))


def test_a_flowable_inside_a_loop_is_a_cluster_per_iteration_with_its_own_children() -> None:
    outer = run("outer")
    inner_a, inner_b = run("inner", outer, "a"), run("inner", outer, "b")
    runs = (outer, inner_a, inner_b, run("t", inner_a, "a"), run("t", inner_b, "b"))
    graph = draw(parse(NESTED), *runs)
    uids = [item["uid"] for item in graph["nodes"]]
    assert len(uids) == len(set(uids)), uids
    # A run is drawn only inside the cluster of its own parent run, with all the loop values.
    assert [uid for uid in uids if uid.startswith("root.outer.inner.t")] == [
        "root.outer.inner.t_a_a",
        "root.outer.inner.t_b_b",
    ]
    inner = [item for item in graph["clusters"] if item["cluster"]["uid"].endswith(".inner")]
    assert [item["cluster"]["taskNode"]["uid"] for item in inner] == [
        "root.outer.inner_a",
        "root.outer.inner_b",
    ]
    assert [len(item["nodes"]) for item in inner] == [4, 4]


def test_values_of_a_run_are_those_of_its_parents_then_its_own() -> None:
    outer = run("outer", value="x")
    middle = run("middle", outer)
    inner = run("inner", middle, "y")
    lookup = ExecutionTaskRuns([outer, middle, inner])
    assert lookup.values_of(inner) == ["x", "y"]
    assert lookup.runs_of("inner", middle) == [inner]
    assert lookup.runs_of("inner", outer) == []
    assert lookup.runs_of("missing", None) == (None,)


def test_tasks_are_cut_down_to_what_the_execution_view_needs() -> None:
    flow = parse(
        LOOP
        + "  - id: approve\n    type: io.kestra.plugin.core.flow.Pause\n"
        + "    onResume:\n      - id: ok\n        type: BOOLEAN\n"
        + "  - id: child\n    type: io.kestra.plugin.core.flow.Subflow\n"
        + "    namespace: other\n    flowId: sub\n    revision: 2\n    inputs:\n      a: b\n"
    )
    graph = draw(flow, run("after"))
    assert node(graph, "root.after")["task"] == {
        "id": "after",
        "type": "io.kestra.plugin.core.log.Log",
    }
    looped = {
        "id": "each",
        "type": "io.kestra.plugin.core.flow.ForEach",
        "tasks": [{"id": "t", "type": "io.kestra.plugin.core.log.Log"}],
    }
    assert node(graph, "root.each")["task"] == looped
    each = next(item for item in graph["clusters"] if item["cluster"]["uid"] == "cluster_root.each")
    assert each["cluster"]["taskNode"]["task"] == looped
    approve = task_for_execution(flow.find_task("approve"))
    assert approve["inputs"] == [{"id": "ok", "type": "BOOLEAN"}]
    assert node(graph, "root.child")["task"]["subflowId"] == {
        "namespace": "other",
        "flowId": "sub",
        "revision": 2,
    }
