"""GET /executions/{executionId}/graph: the flow revision an execution ran, with its task runs."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from lanner.api.flow_models import FlowGraphModel
from lanner.services import Services
from tests.api.conftest import API
from tests.api.executions_support import LOOP, run, save_flows


@pytest.fixture(autouse=True)
async def flows(services: Services) -> None:
    await save_flows(services, LOOP)


def nodes_by_uid(graph: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {node["uid"]: node for node in graph["nodes"]}


async def test_the_graph_of_an_execution_draws_its_runs_in_the_revision_it_ran(
    client: httpx.AsyncClient, services: Services
) -> None:
    execution = await run(client, "loop")
    await services.flows.save(LOOP.replace("id: last", "id: final"))
    response = await client.get(f"{API}/executions/{execution['id']}/graph")
    assert response.status_code == 200
    graph = response.json()
    FlowGraphModel.model_validate(graph)
    nodes = nodes_by_uid(graph)
    assert "root.last" in nodes
    assert "root.final" not in nodes
    for value in ("a", "b"):
        iteration = nodes[f"root.each.1-1_return_{value}"]
        assert iteration["values"] == [value]
        assert iteration["taskRun"]["state"]["current"] == "SUCCESS"
        assert iteration["task"] == {
            "id": "1-1_return",
            "type": "io.kestra.plugin.core.debug.Return",
        }
    assert nodes["root.last"]["taskRun"]["executionId"] == execution["id"]
    legacy = await client.get(f"/api/v1/executions/{execution['id']}/graph")
    assert legacy.json()["edges"] == graph["edges"]


async def test_subflows_are_accepted(client: httpx.AsyncClient) -> None:
    execution = await run(client, "loop")
    url = f"{API}/executions/{execution['id']}/graph"
    plain = await client.get(url)
    asked = await client.get(url, params=[("subflows", "root.each"), ("subflows", "x")])
    assert asked.status_code == 200
    assert asked.json()["edges"] == plain.json()["edges"]


async def test_the_graph_of_an_unknown_execution_is_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/executions/nope/graph")
    assert response.status_code == 404
    assert response.json()["message"] == "Not Found: Unable to find execution 'nope'"
