"""Subflow nodes drawn open in the graphs of flows and of executions (`subflows=<uid>`)."""

from __future__ import annotations

from typing import Any

import httpx

from lanner.api.flow_models import FlowGraphModel
from lanner.services import Services
from tests.api.conftest import API
from tests.api.executions_support import post_flows

SUBFLOW = "io.kestra.plugin.core.flow.Subflow"
KIND = "io.kestra.core.models.hierarchies."

GRANDCHILD = """id: grandchild
namespace: company.team
tasks:
  - id: deepest
    type: io.kestra.plugin.core.debug.Return
    format: deep
"""

CHILD = f"""id: child
namespace: company.team
tasks:
  - id: first
    type: io.kestra.plugin.core.debug.Return
    format: one
  - id: inner
    type: {SUBFLOW}
    namespace: company.team
    flowId: grandchild
"""

PARENT = f"""id: parent
namespace: company.team
inputs:
  - id: which
    type: STRING
    defaults: child
tasks:
  - id: call
    type: {SUBFLOW}
    namespace: company.team
    flowId: child
  - id: first
    type: io.kestra.plugin.core.debug.Return
    format: after
  - id: dynamic
    type: {SUBFLOW}
    namespace: company.team
    flowId: "{{{{ inputs.which }}}}"
"""


def _by_uid(graph: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {node["uid"]: node for node in graph["nodes"]}


def _clusters(graph: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["cluster"]["uid"]: item for item in graph["clusters"]}


async def _flow_graph(client: httpx.AsyncClient, *subflows: str) -> httpx.Response:
    params = {"subflows": list(subflows)}
    return await client.get(f"{API}/flows/company.team/parent/graph", params=params)


async def test_a_subflow_node_is_drawn_closed_unless_asked(client: httpx.AsyncClient) -> None:
    await post_flows(client, GRANDCHILD, CHILD, PARENT)
    graph = (await _flow_graph(client)).json()
    nodes = _by_uid(graph)
    assert nodes["root.call"]["type"] == KIND + "SubflowGraphTask"
    assert nodes["root.first"]["type"] == KIND + "GraphTask"
    assert not [uid for uid in nodes if uid.startswith("root.call.")]


async def test_an_expanded_subflow_holds_the_tasks_of_its_flow(client: httpx.AsyncClient) -> None:
    await post_flows(client, GRANDCHILD, CHILD, PARENT)
    response = await _flow_graph(client, "root.call")
    assert response.status_code == 200, response.text
    graph = response.json()
    FlowGraphModel.model_validate(graph)
    nodes = _by_uid(graph)
    # The child's `first` is apart from the parent's own `first`.
    assert nodes["root.call.first"]["task"]["format"] == "one"
    assert nodes["root.first"]["task"]["format"] == "after"
    assert nodes["root.call.inner"]["type"] == KIND + "SubflowGraphTask"
    cluster = _clusters(graph)["cluster_root.call"]
    assert cluster["cluster"]["type"] == KIND + "SubflowGraphCluster"
    assert cluster["cluster"]["taskNode"]["uid"] == "root.call"
    assert {"root.call", "root.call.first", "root.call.inner"} <= set(cluster["nodes"])
    edges = {(edge["source"], edge["target"]) for edge in graph["edges"]}
    assert ("root.call", "root.call.first") in edges
    assert ("root.call.first", "root.call.inner") in edges
    assert (cluster["end"], "root.first") in edges  # the parent goes on after the cluster
    assert not [
        target for source, target in edges if source == "root.call" and target == "root.first"
    ]


async def test_a_subflow_of_an_expanded_subflow_opens_by_its_own_uid(
    client: httpx.AsyncClient,
) -> None:
    await post_flows(client, GRANDCHILD, CHILD, PARENT)
    graph = (await _flow_graph(client, "root.call", "root.call.inner")).json()
    nodes = _by_uid(graph)
    assert nodes["root.call.inner.deepest"]["task"]["format"] == "deep"
    inner = _clusters(graph)["cluster_root.call.inner"]
    assert inner["parents"] == ["cluster_root.call"]
    # Asked alone, the inner uid has no node to open: nothing changes.
    alone = (await _flow_graph(client, "root.call.inner")).json()
    assert "root.call.inner" not in _by_uid(alone)


async def test_a_subflow_that_cannot_be_found_or_named_is_refused(
    client: httpx.AsyncClient,
) -> None:
    await post_flows(client, GRANDCHILD, PARENT)
    missing = await _flow_graph(client, "root.call")
    assert missing.status_code == 404
    assert missing.json()["message"] == (
        "Not Found: Unable to find subflow company.team.child for task call"
    )
    dynamic = await _flow_graph(client, "root.dynamic")
    assert dynamic.status_code == 422
    assert dynamic.json()["message"] == (
        "Illegal argument: Task 'dynamic' is a subflow whose namespace and/or flowId contains"
        " dynamic values: it can only be expanded on an execution that ran it"
    )


async def test_the_graph_of_a_source_opens_subflows_too(client: httpx.AsyncClient) -> None:
    await post_flows(client, GRANDCHILD, CHILD)
    response = await client.post(
        f"{API}/flows/graph",
        params={"subflows": "root.call"},
        content=PARENT,
        headers={"Content-Type": "application/x-yaml"},
    )
    assert response.status_code == 200, response.text
    assert "root.call.inner" in _by_uid(response.json())


async def test_an_execution_opens_the_flow_its_child_ran(
    client: httpx.AsyncClient, services: Services
) -> None:
    await post_flows(client, GRANDCHILD, CHILD, PARENT)
    created = await client.post(
        f"{API}/executions/company.team/parent",
        params={"wait": True},
        files={"which": (None, "grandchild")},
    )
    execution = created.json()
    assert execution["state"]["current"] == "SUCCESS", execution
    url = f"{API}/executions/{execution['id']}/graph"
    response = await client.get(
        url, params=[("subflows", "root.call"), ("subflows", "root.dynamic")]
    )
    assert response.status_code == 200, response.text
    nodes = _by_uid(response.json())
    # The Subflow nodes keep their runs; the tasks of the child flows have none here.
    assert nodes["root.call"]["taskRun"]["state"]["current"] == "SUCCESS"
    assert nodes["root.first"]["taskRun"]["outputs"] == {"value": "after"}
    assert "taskRun" not in nodes["root.call.first"]
    assert nodes["root.call.first"]["task"] == {
        "id": "first",
        "type": "io.kestra.plugin.core.debug.Return",
    }
    assert nodes["root.call.inner"]["task"] == {
        "id": "inner",
        "type": SUBFLOW,
        "subflowId": {"namespace": "company.team", "flowId": "grandchild"},
    }
    # `flowId: {{ inputs.which }}` started the grandchild: its flow is the one drawn, and named.
    assert nodes["root.dynamic"]["task"]["subflowId"] == {
        "namespace": "company.team",
        "flowId": "grandchild",
    }
    assert "root.dynamic.deepest" in nodes
