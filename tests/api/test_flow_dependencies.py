"""`GET /flows/{namespace}/{id}/dependencies`: Kestra's flow topology read from stored flows.

Subflow tasks and Flow triggers may be unknown to the engine, so the flows that use them are
written to the store directly, as a newer engine sharing the database would have saved them.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from lanner.api.flow_models import FlowDependenciesModel
from lanner.services import Services
from tests.api.conftest import API

LOG = "    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
TARGET = f"id: target\nnamespace: team\ntasks:\n  - id: say\n{LOG}"
CALLER = """\
id: caller
namespace: team
tasks:
  - id: group
    type: io.kestra.plugin.core.flow.Sequential
    tasks:
      - id: call
        type: io.kestra.plugin.core.flow.Subflow
        namespace: team
        flowId: target
  - id: legacy
    type: io.kestra.core.tasks.flows.Flow
    namespace: other
    flowId: downstream
  - id: templated
    type: io.kestra.plugin.core.flow.Subflow
    namespace: "{{ inputs.ns }}"
    flowId: target
"""
WATCHER = """\
id: watcher
namespace: other
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: hi
triggers:
  - id: after_target
    type: io.kestra.plugin.core.trigger.Flow
    preconditions:
      flows:
        - namespace: team
          flowId: target
          states: [SUCCESS]
  - id: legacy_condition
    type: io.kestra.core.models.triggers.types.Flow
    conditions:
      - type: io.kestra.core.models.conditions.types.ExecutionFlowCondition
        namespace: team
        flowId: caller
"""


async def store_flows(services: Services, *sources: tuple[str, str, str]) -> None:
    for namespace, flow_id, source in sources:
        await services.store.save_flow(namespace, flow_id, source)


def edges(body: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(edge["source"], edge["target"], edge["relation"]) for edge in body["edges"]}


@pytest.fixture
async def stored(services: Services) -> None:
    await store_flows(
        services,
        ("team", "target", TARGET),
        ("team", "caller", CALLER),
        ("other", "watcher", WATCHER),
    )


@pytest.mark.usefixtures("stored")
async def test_a_flow_lists_its_callers_and_the_flows_its_end_triggers(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(f"{API}/flows/team/target/dependencies")
    assert response.status_code == 200, response.text
    body = response.json()
    FlowDependenciesModel.model_validate(body)
    assert edges(body) == {
        ("main_team_caller", "main_team_target", "FLOW_TASK"),
        ("main_team_target", "main_other_watcher", "FLOW_TRIGGER"),
    }
    nodes = {node["uid"]: node for node in body["nodes"]}
    assert set(nodes) == {"main_team_target", "main_team_caller", "main_other_watcher"}
    assert nodes["main_other_watcher"] == {
        "uid": "main_other_watcher",
        "tenantId": "main",
        "namespace": "other",
        "id": "watcher",
    }


@pytest.mark.usefixtures("stored")
async def test_nested_and_legacy_subflow_tasks_count_but_templated_targets_do_not(
    client: httpx.AsyncClient,
) -> None:
    body = (await client.get(f"{API}/flows/team/caller/dependencies")).json()
    assert edges(body) == {
        ("main_team_caller", "main_team_target", "FLOW_TASK"),
        ("main_team_caller", "main_other_downstream", "FLOW_TASK"),
        ("main_team_caller", "main_other_watcher", "FLOW_TRIGGER"),
    }


@pytest.mark.usefixtures("stored")
async def test_destination_only_leaves_out_the_flows_leading_to_this_one(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(
        f"{API}/flows/team/target/dependencies", params={"destinationOnly": "true"}
    )
    assert edges(response.json()) == {
        ("main_team_target", "main_other_watcher", "FLOW_TRIGGER"),
    }


async def test_a_flow_without_relations_is_alone(
    client: httpx.AsyncClient, services: Services
) -> None:
    await store_flows(services, ("team", "target", TARGET))
    body = (await client.get(f"{API}/flows/team/target/dependencies")).json()
    assert body == {
        "nodes": [
            {"uid": "main_team_target", "tenantId": "main", "namespace": "team", "id": "target"}
        ],
        "edges": [],
    }


async def test_an_unknown_flow_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/flows/team/nope/dependencies")
    assert response.status_code == 404
    assert response.json()["message"] == "Not Found: Unable to find flow team.nope"
