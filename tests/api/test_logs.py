"""Logs API: list, download, search and delete the log lines of executions."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest

from lanner.clock import format_instant
from lanner.executions import Execution
from lanner.services import Services
from tests.api.conftest import API

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)


FLOW = """
id: chatty
namespace: company.team
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: ["one", "two"]
  - id: careful
    type: io.kestra.plugin.core.log.Log
    level: WARN
    message: mind the gap
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["a", "b"]
    tasks:
      - id: echo
        type: io.kestra.plugin.core.log.Log
        level: DEBUG
        message: "value {{ taskrun.value }}"
"""


async def run(services: Services, source: str = FLOW) -> Execution:
    """Save a flow, run it to its end and return the finished execution."""
    stored = await services.flows.save(source)
    execution = await services.runner.submit(stored.flow, stored.revision)
    return await services.runner.wait(execution.id, timeout=30)


def task_messages(entries: list[dict[str, object]]) -> list[object]:
    """Return the messages written by tasks (the engine may add lines of its own)."""
    return [entry["message"] for entry in entries if "taskId" in entry]


@pytest.fixture
async def finished(services: Services) -> Execution:
    return await run(services)


async def test_list_returns_every_line_in_order_with_kestras_fields(
    client: httpx.AsyncClient, finished: Execution
) -> None:
    response = await client.get(f"{API}/logs/{finished.id}")

    assert response.status_code == 200
    entries = response.json()
    assert task_messages(entries) == ["one", "two", "mind the gap", "value a", "value b"]
    first = next(entry for entry in entries if entry.get("message") == "one")
    assert first["namespace"] == "company.team"
    assert first["flowId"] == "chatty"
    assert first["executionId"] == finished.id
    assert first["taskId"] == "hello"
    assert first["taskRunId"] == finished.task_runs[0].id
    assert first["attemptNumber"] == 1
    assert first["level"] == "INFO"
    assert first["timestamp"].endswith("Z")
    assert None not in first.values()


FILTERS = [
    ("min-level-warn", {"minLevel": "WARN"}, ["mind the gap"]),
    ("min-level-info", {"minLevel": "INFO"}, ["one", "two", "mind the gap"]),
    (
        "min-level-trace",
        {"minLevel": "TRACE"},
        ["one", "two", "mind the gap", "value a", "value b"],
    ),
    ("task", {"taskId": "echo"}, ["value a", "value b"]),
    ("attempt", {"taskId": "hello", "attempt": "1"}, ["one", "two"]),
    ("other-attempt", {"attempt": "2"}, []),
    ("task-and-level", {"taskId": "echo", "minLevel": "INFO"}, []),
]


@pytest.mark.parametrize(
    ("params", "expected"),
    [(params, expected) for _, params, expected in FILTERS],
    ids=[name for name, _, _ in FILTERS],
)
async def test_list_filters(
    client: httpx.AsyncClient, finished: Execution, params: dict[str, str], expected: list[str]
) -> None:
    response = await client.get(f"{API}/logs/{finished.id}", params=params)

    assert response.status_code == 200
    assert task_messages(response.json()) == expected


async def test_list_filters_by_task_run(client: httpx.AsyncClient, finished: Execution) -> None:
    careful = next(run for run in finished.task_runs if run.task_id == "careful")

    response = await client.get(f"{API}/logs/{finished.id}", params={"taskRunId": careful.id})

    assert [entry["message"] for entry in response.json()] == ["mind the gap"]


async def test_an_unknown_level_is_refused_with_kestras_error_body(
    client: httpx.AsyncClient, finished: Execution
) -> None:
    response = await client.get(f"{API}/logs/{finished.id}", params={"minLevel": "LOUD"})

    assert response.status_code == 422
    assert response.json()["message"].startswith("Invalid entity: query.minLevel")


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("GET", ""), ("GET", "/download"), ("GET", "/follow"), ("DELETE", "")],
    ids=["list", "download", "follow", "delete"],
)
async def test_an_unknown_execution_is_not_found(
    client: httpx.AsyncClient, method: str, suffix: str
) -> None:
    response = await client.request(method, f"{API}/logs/nope{suffix}")

    assert response.status_code == 404
    body = response.json()
    assert body["message"] == "Not Found: Unable to find execution 'nope'"
    assert body["_links"]["self"]["href"] == f"{API}/logs/nope{suffix}"


async def test_the_legacy_path_family_serves_logs_too(
    client: httpx.AsyncClient, finished: Execution
) -> None:
    legacy = await client.get(f"/api/v1/logs/{finished.id}")
    tenant = await client.get(f"{API}/logs/{finished.id}")

    assert legacy.status_code == 200
    assert legacy.json() == tenant.json()


async def test_download_is_one_text_line_per_entry(
    client: httpx.AsyncClient, finished: Execution
) -> None:
    response = await client.get(f"{API}/logs/{finished.id}/download")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    disposition = response.headers["content-disposition"]
    assert disposition == f'attachment; filename="{finished.id}.log"'
    assert "no-cache" not in response.headers.get("cache-control", "")
    entries = (await client.get(f"{API}/logs/{finished.id}")).json()
    expected = "".join(f"{e['timestamp']} {e['level']} {e['message']}\n" for e in entries)
    assert response.text == expected
    assert re.search(r"^\S+Z WARN mind the gap$", response.text, re.MULTILINE)


async def test_download_takes_the_same_filters(
    client: httpx.AsyncClient, finished: Execution
) -> None:
    response = await client.get(
        f"{API}/logs/{finished.id}/download", params={"minLevel": "WARN", "taskId": "careful"}
    )

    assert response.text.endswith(" WARN mind the gap\n")
    assert response.text.count("\n") == 1


async def test_download_keeps_multi_line_messages(
    client: httpx.AsyncClient, services: Services
) -> None:
    source = FLOW.replace('["one", "two"]', '"first\\nsecond"').replace("chatty", "multi")
    execution = await run(services, source)

    response = await client.get(f"{API}/logs/{execution.id}/download", params={"taskId": "hello"})

    assert re.fullmatch(r"\S+Z INFO first\nsecond\n", response.text)


async def test_follow_a_finished_execution_sends_its_lines_then_closes(
    client: httpx.AsyncClient, finished: Execution
) -> None:
    response = await client.get(f"{API}/logs/{finished.id}/follow", params={"minLevel": "INFO"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [block for block in response.text.split("\n\n") if block]
    assert all(block.startswith("id: progress\ndata: {") for block in events)
    assert '"message":"mind the gap"' in events[2]
    assert len([block for block in events if '"taskId"' in block]) == 3


# -- search ---------------------------------------------------------------------------------


@pytest.fixture
async def two_flows(services: Services) -> tuple[Execution, Execution]:
    first = await run(services)
    other = FLOW.replace("company.team", "other").replace("chatty", "quiet")
    return first, await run(services, other)


async def search(client: httpx.AsyncClient, **params: str) -> dict[str, object]:
    response = await client.get(f"{API}/logs/search", params=params)
    assert response.status_code == 200, response.text
    page: dict[str, object] = response.json()
    return page


SEARCHES = [
    ("text", {"q": "GAP"}, 2),
    ("namespace", {"namespace": "company", "q": "value"}, 2),
    ("flow", {"flowId": "quiet", "q": "one"}, 1),
    ("level", {"minLevel": "WARN", "q": "gap"}, 2),
    ("nothing", {"q": "no such line"}, 0),
]


@pytest.mark.parametrize(
    ("params", "total"),
    [(params, total) for _, params, total in SEARCHES],
    ids=[name for name, _, _ in SEARCHES],
)
async def test_search_filters(
    client: httpx.AsyncClient,
    two_flows: tuple[Execution, Execution],
    params: dict[str, str],
    total: int,
) -> None:
    page = await search(client, **params)

    assert page["total"] == total
    assert isinstance(page["results"], list)
    assert len(page["results"]) == total


async def test_search_pages_newest_first(
    client: httpx.AsyncClient, two_flows: tuple[Execution, Execution]
) -> None:
    everything = await search(client, q="value", size="100")
    second_page = await search(client, q="value", size="3", page="2")

    assert everything["total"] == 4
    assert second_page["total"] == 4
    results = everything["results"]
    assert isinstance(results, list)
    stamps = [entry["timestamp"] for entry in results]
    assert stamps == sorted(stamps, reverse=True)
    assert second_page["results"] == results[3:]


async def test_search_between_dates(
    client: httpx.AsyncClient, two_flows: tuple[Execution, Execution]
) -> None:
    first, second = two_flows
    boundary = format_instant(second.state.start_date - timedelta(microseconds=1))
    later = format_instant(second.state.start_date + timedelta(days=1))

    before = await search(client, q="gap", endDate=boundary)
    after = await search(client, q="gap", startDate=boundary, endDate=later)

    assert [entry["executionId"] for entry in before["results"]] == [first.id]  # type: ignore[attr-defined]
    assert [entry["executionId"] for entry in after["results"]] == [second.id]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "params",
    [{"page": "0"}, {"size": str(2**31)}, {"startDate": "0.5"}, {"endDate": "tomorrow"}],
    ids=["page-zero", "size-too-big", "date-as-number", "date-as-word"],
)
async def test_search_refuses_invalid_parameters(
    client: httpx.AsyncClient, params: dict[str, str]
) -> None:
    response = await client.get(f"{API}/logs/search", params=params)

    assert response.status_code == 422
    assert response.json()["message"].startswith("Invalid entity: query.")


# -- delete ---------------------------------------------------------------------------------


async def test_delete_the_logs_of_an_execution(
    client: httpx.AsyncClient, two_flows: tuple[Execution, Execution]
) -> None:
    first, second = two_flows

    response = await client.delete(f"{API}/logs/{first.id}")

    assert response.status_code == 200
    assert response.content == b""
    assert (await client.get(f"{API}/logs/{first.id}")).json() == []
    assert (await client.get(f"{API}/logs/{second.id}")).json() != []


async def test_delete_the_logs_of_a_flow(
    client: httpx.AsyncClient, services: Services, two_flows: tuple[Execution, Execution]
) -> None:
    first, second = two_flows
    again = await run(services)

    response = await client.delete(f"{API}/logs/company.team/chatty")

    assert response.status_code == 200
    for gone in (first, again):
        assert (await client.get(f"{API}/logs/{gone.id}")).json() == []
    assert (await client.get(f"{API}/logs/{second.id}")).json() != []
