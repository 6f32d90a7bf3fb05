"""The flow topology: nodes, edges and clusters in the shape Kestra's UI draws."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lanner.flow_parser import parse_flow, validate_flow
from lanner.flows import Flow
from lanner.graph import flow_graph

SEED = Path(__file__).parents[3] / "shared" / "seed"
CONFORMANCE = Path(__file__).parents[3] / "shared" / "kestra-conformance" / "flows"

Graph = dict[str, Any]
Edge = tuple[str, str, dict[str, str]]

_MARKERS = (
    "GraphClusterRoot",
    "GraphClusterEnd",
    "GraphClusterFinally",
    "GraphClusterAfterExecution",
)


def draw(tasks: str, extra: str = "") -> Graph:
    return flow_graph(parse_flow(f"id: g\nnamespace: test\ntasks:\n{tasks}{extra}"))


def log(task_id: str, indent: int = 2) -> str:
    pad = " " * indent
    return f"{pad}- id: {task_id}\n{pad}  type: io.kestra.plugin.core.log.Log\n{pad}  message: x\n"


def short(graph: Graph) -> dict[str, str]:
    """Name each marker by its kind (`root.p.<root>`) so that tests can read the edges."""
    names = {}
    for node in graph["nodes"]:
        uid, kind = node["uid"], node["type"].rsplit(".", 1)[-1]
        if kind in _MARKERS:
            names[uid] = uid.rsplit(".", 1)[0] + "." + kind.removeprefix("GraphCluster").lower()
        else:
            names[uid] = uid
    return names


def edges(graph: Graph) -> list[Edge]:
    names = short(graph)
    return [(names[e["source"]], names[e["target"]], e["relation"]) for e in graph["edges"]]


def node(graph: Graph, uid: str) -> dict[str, Any]:
    return next(item for item in graph["nodes"] if item["uid"] == uid)


def cluster(graph: Graph, uid: str) -> dict[str, Any]:
    return next(item for item in graph["clusters"] if item["cluster"]["uid"] == uid)


SEQ = {"relationType": "SEQUENTIAL"}


def test_a_list_of_tasks_is_a_chain_from_the_start_to_the_end() -> None:
    graph = draw(log("a") + log("b"))
    assert sorted(edges(graph)) == sorted(
        [("root.root", "root.a", {}), ("root.a", "root.b", SEQ), ("root.b", "root.end", {})]
    )
    assert graph["clusters"] == []
    task = node(graph, "root.a")
    assert task["type"] == "io.kestra.core.models.hierarchies.GraphTask"
    assert task["relationType"] == "SEQUENTIAL"
    assert task["task"] == {
        "id": "a",
        "type": "io.kestra.plugin.core.log.Log",
        "disabled": False,
        "allowFailure": False,
        "allowWarning": False,
        "logToFile": False,
        "message": "x",
        "level": "INFO",
    }


def test_a_parallel_task_fans_out_and_in_inside_its_cluster() -> None:
    tasks = "  - id: p\n    type: io.kestra.plugin.core.flow.Parallel\n    tasks:\n"
    graph = draw(tasks + log("p1", 6) + log("p2", 6))
    assert sorted(edges(graph)) == sorted(
        [
            ("root.root", "root.p.root", {}),
            ("root.p.root", "root.p", {}),
            ("root.p", "root.p.p1", {"relationType": "PARALLEL"}),
            ("root.p", "root.p.p2", {"relationType": "PARALLEL"}),
            ("root.p.p1", "root.p.end", {}),
            ("root.p.p2", "root.p.end", {}),
            ("root.p.end", "root.end", {}),
        ]
    )
    found = cluster(graph, "cluster_root.p")
    names = short(graph)
    assert found["cluster"]["relationType"] == "PARALLEL"
    assert found["cluster"]["taskNode"]["uid"] == "root.p"
    assert found["parents"] == []
    assert names[found["start"]] == "root.p.root"
    assert names[found["end"]] == "root.p.end"
    assert sorted(names[uid] for uid in found["nodes"]) == [
        "root.p",
        "root.p.end",
        "root.p.p1",
        "root.p.p2",
        "root.p.root",
    ]


def test_if_branches_carry_their_name_and_the_choice_relation() -> None:
    tasks = (
        '  - id: i\n    type: io.kestra.plugin.core.flow.If\n    condition: "true"\n    then:\n'
        + log("t1", 6)
        + log("t2", 6)
        + "    else:\n"
        + log("e1", 6)
    )
    graph = draw(tasks)
    inside = [edge for edge in edges(graph) if edge[0].startswith("root.i")]
    assert ("root.i", "root.i.t1", {"relationType": "CHOICE", "value": "then"}) in inside
    assert ("root.i.t1", "root.i.t2", {"relationType": "SEQUENTIAL", "value": "then"}) in inside
    assert ("root.i.t2", "root.i.end", {}) in inside
    assert ("root.i", "root.i.e1", {"relationType": "CHOICE", "value": "else"}) in inside
    assert ("root.i.e1", "root.i.end", {}) in inside


def test_switch_cases_and_defaults_are_branches_named_by_their_value() -> None:
    tasks = (
        "  - id: s\n    type: io.kestra.plugin.core.flow.Switch\n    value: a\n    cases:\n"
        "      a:\n" + log("ca", 8) + "    defaults:\n" + log("d", 6)
    )
    graph = draw(tasks)
    assert ("root.s", "root.s.ca", {"relationType": "CHOICE", "value": "a"}) in edges(graph)
    assert ("root.s", "root.s.d", {"relationType": "CHOICE", "value": "defaults"}) in edges(graph)


def test_errors_start_at_the_cluster_start_and_finally_runs_last() -> None:
    graph = draw(log("a"), "errors:\n" + log("oops") + "finally:\n" + log("cleanup"))
    assert sorted(edges(graph)) == sorted(
        [
            ("root.root", "root.a", {}),
            ("root.a", "root.finally", {}),
            ("root.root", "root.oops", {"relationType": "ERROR"}),
            ("root.oops", "root.finally", {}),
            ("root.finally", "root.cleanup", {}),
            ("root.cleanup", "root.end", {}),
        ]
    )
    assert node(graph, "root.oops")["branchType"] == "ERROR"
    assert node(graph, "root.cleanup")["branchType"] == "FINALLY"
    assert "branchType" not in node(graph, "root.a")


def test_after_execution_tasks_follow_everything_else() -> None:
    graph = draw(log("a"), "afterExecution:\n" + log("notify"))
    assert ("root.a", "root.afterexecution", {}) in edges(graph)
    assert ("root.afterexecution", "root.notify", {}) in edges(graph)
    assert ("root.notify", "root.end", {}) in edges(graph)


def test_nested_clusters_list_their_parents_outermost_first() -> None:
    tasks = (
        "  - id: outer\n    type: io.kestra.plugin.core.flow.Sequential\n    tasks:\n"
        "      - id: inner\n        type: io.kestra.plugin.core.flow.Sequential\n"
        "        tasks:\n" + log("leaf", 10)
    )
    graph = draw(tasks)
    assert cluster(graph, "cluster_root.outer")["parents"] == []
    inner = cluster(graph, "cluster_root.outer.inner")
    assert inner["parents"] == ["cluster_root.outer"]
    assert "cluster_root.outer.inner" in cluster(graph, "cluster_root.outer")["nodes"]
    assert node(graph, "root.outer.inner.leaf")["task"]["id"] == "leaf"
    assert ("root.outer.inner.end", "root.outer.end", {}) in edges(graph)


def test_loop_edges_keep_the_dynamic_relation() -> None:
    tasks = (
        "  - id: each\n    type: io.kestra.plugin.core.flow.ForEach\n    values: [1, 2]\n"
        "    tasks:\n" + log("a", 6) + log("b", 6)
    )
    graph = draw(tasks)
    assert cluster(graph, "cluster_root.each")["cluster"]["relationType"] == "DYNAMIC"
    assert ("root.each", "root.each.a", {"relationType": "DYNAMIC"}) in edges(graph)
    assert ("root.each.a", "root.each.b", {"relationType": "DYNAMIC"}) in edges(graph)


def test_dag_tasks_follow_their_dependencies() -> None:
    def dag_node(task_id: str, depends: str = "") -> str:
        extra = f"        dependsOn: [{depends}]\n" if depends else ""
        return (
            f"      - task:\n          id: {task_id}\n"
            "          type: io.kestra.plugin.core.log.Log\n          message: x\n" + extra
        )

    tasks = (
        "  - id: dag\n    type: io.kestra.plugin.core.flow.Dag\n    tasks:\n"
        + dag_node("c", "a, b")
        + dag_node("a")
        + dag_node("b", "a")
    )
    graph = draw(tasks)
    parallel = {"relationType": "PARALLEL"}
    inside = [edge for edge in edges(graph) if edge[0].startswith("root.dag")]
    assert sorted(inside) == sorted(
        [
            ("root.dag.root", "root.dag", {}),
            ("root.dag", "root.dag.a", parallel),
            ("root.dag.a", "root.dag.b", parallel),
            ("root.dag.a", "root.dag.c", parallel),
            ("root.dag.b", "root.dag.c", parallel),
            ("root.dag.c", "root.dag.end", {}),
            ("root.dag.end", "root.end", {}),
        ]
    )


def test_triggers_sit_in_a_cluster_that_leads_to_the_start() -> None:
    trigger = (
        "triggers:\n  - id: daily\n    type: io.kestra.plugin.core.trigger.Schedule\n"
        '    cron: "0 9 * * *"\n'
    )
    graph = draw(log("a"), trigger)
    assert ("root.Triggers.root", "root.Triggers.daily", {}) in edges(graph)
    assert ("root.Triggers.daily", "root.Triggers.end", {}) in edges(graph)
    assert ("root.Triggers.end", "root.root", {}) in edges(graph)
    declared = node(graph, "root.Triggers.daily")
    assert declared["type"] == "io.kestra.core.models.hierarchies.GraphTrigger"
    assert declared["triggerDeclaration"]["cron"] == "0 9 * * *"
    assert cluster(graph, "cluster_root.Triggers")["parents"] == []


def test_legacy_types_and_durations_are_written_as_kestra_writes_them() -> None:
    tasks = (
        "  - id: wait\n    type: io.kestra.core.tasks.flows.Sleep\n    duration: PT1M30S\n"
        "  - id: later\n    type: io.kestra.plugin.core.flow.Sleep\n"
        '    duration: "{{ inputs.delay }}"\n'
    )
    graph = draw(tasks)
    assert node(graph, "root.wait")["task"]["type"] == "io.kestra.plugin.core.flow.Sleep"
    assert node(graph, "root.wait")["task"]["duration"] == "PT1M30S"
    assert node(graph, "root.later")["task"]["duration"] == "{{ inputs.delay }}"


def test_a_task_named_like_a_marker_does_not_collide_with_it() -> None:
    graph = draw(log("root") + log("end"))
    uids = [item["uid"] for item in graph["nodes"]]
    assert len(uids) == len(set(uids))
    assert all(edge["source"] != edge["target"] for edge in graph["edges"])
    assert node(graph, "root.root")["task"]["id"] == "root"


def test_uids_are_the_same_each_time_a_flow_is_drawn() -> None:
    tasks = "  - id: p\n    type: io.kestra.plugin.core.flow.Parallel\n    tasks:\n" + log("x", 6)
    assert draw(tasks) == draw(tasks)


def _valid_flows() -> list[Any]:
    """The seed flows and every conformance flow lanner accepts."""
    paths = sorted(SEED.glob("*.yml")) + sorted(CONFORMANCE.glob("*.y*ml"))
    found = []
    for path in paths:
        model = validate_flow(path.read_text(encoding="utf-8")).model
        if model is not None:
            found.append(pytest.param(model, id=path.name))
    return found


@pytest.mark.parametrize("flow", _valid_flows())
def test_every_edge_joins_known_nodes_and_every_task_is_drawn(flow: Flow) -> None:
    graph = flow_graph(flow)
    uids = {item["uid"] for item in graph["nodes"]}
    clusters = {item["cluster"]["uid"] for item in graph["clusters"]}
    assert len(uids) == len(graph["nodes"])
    for edge in graph["edges"]:
        assert edge["source"] in uids
        assert edge["target"] in uids
    for item in graph["clusters"]:
        assert set(item["nodes"]) <= uids | clusters
        assert set(item["parents"]) <= clusters
    drawn = {n["task"]["id"] for n in graph["nodes"] if "task" in n}
    assert drawn == {task.id for task in flow.walk()}
