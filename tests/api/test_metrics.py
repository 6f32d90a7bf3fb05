"""Metrics API: what a flow's Publish task reported, by execution, name, task and aggregate."""

from __future__ import annotations

import httpx

from lanner.services import Services
from tests.api.conftest import API
from tests.api.test_logs import run

FLOW = """
id: measured
namespace: company.team
tasks:
  - id: publish
    type: io.kestra.plugin.core.metric.Publish
    metrics:
      - type: counter
        name: rows
        value: "{{ 40 + 2 }}"
        tags:
          flow: "{{ flow.id }}"
      - type: timer
        name: duration
        value: PT1.5S
  - id: again
    type: io.kestra.plugin.core.metric.Publish
    metrics:
      - type: counter
        name: rows
        value: 8
"""


async def test_metrics_of_an_execution(client: httpx.AsyncClient, services: Services) -> None:
    execution = await run(services, FLOW)
    assert execution.current.name == "SUCCESS"
    response = await client.get(f"{API}/metrics/{execution.id}", params={"size": 50})
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 3
    rows, duration, again = body["results"]
    assert (rows["name"], rows["type"], rows["value"]) == ("rows", "counter", 42.0)
    assert rows["tags"] == {"flow": "measured"}
    assert (rows["taskId"], rows["executionId"], rows["namespace"]) == (
        "publish",
        execution.id,
        "company.team",
    )
    assert (duration["type"], duration["value"]) == ("timer", 1500.0)
    assert again["taskId"] == "again"
    by_task = await client.get(f"{API}/metrics/{execution.id}", params={"taskId": "again"})
    assert [item["value"] for item in by_task.json()["results"]] == [8.0]


async def test_names_tasks_and_aggregates(client: httpx.AsyncClient, services: Services) -> None:
    await run(services, FLOW)
    await run(services, FLOW)
    names = await client.get(f"{API}/metrics/names/company.team/measured")
    assert names.json() == ["duration", "rows"]
    of_task = await client.get(f"{API}/metrics/names/company.team/measured/again")
    assert of_task.json() == ["rows"]
    tasks = await client.get(f"{API}/metrics/tasks/company.team/measured")
    assert tasks.json() == ["again", "publish"]
    summed = await client.get(f"{API}/metrics/aggregates/company.team/measured/rows")
    body = summed.json()
    assert body["groupBy"] == "day"
    assert sum(item["value"] for item in body["aggregations"]) == 100.0
    task_max = await client.get(
        f"{API}/metrics/aggregates/company.team/measured/publish/rows",
        params={"aggregation": "max"},
    )
    assert [item["value"] for item in task_max.json()["aggregations"]] == [42.0]


async def test_bad_metric_values_fail_the_task(services: Services) -> None:
    execution = await run(
        services,
        """
id: badly
namespace: company.team
tasks:
  - id: publish
    type: io.kestra.plugin.core.metric.Publish
    metrics:
      - type: timer
        name: duration
        value: soon
""",
    )
    assert execution.current.name == "FAILED"
    logs = await services.store.get_logs(execution.id)
    assert any(
        "Metric 'duration' needs a duration such as PT1M, got 'soon'" in line.message
        for line in logs
    )


async def test_an_inverted_range_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get(
        f"{API}/metrics/aggregates/company.team/measured/rows",
        params={"startDate": "2026-03-05T00:00:00Z", "endDate": "2026-03-04T00:00:00Z"},
    )
    assert response.status_code == 422
    assert response.json()["message"] == "Illegal argument: startDate must be before endDate"
