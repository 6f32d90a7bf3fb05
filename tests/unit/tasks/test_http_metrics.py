"""Metrics of the HTTP tasks: Kestra's counters and tags per response, and a duration timer."""

from __future__ import annotations

from typing import Any

import pytest

from lanner.metrics import MetricEntry, MetricType
from tests.httpservers import HELLO, REQUEST, SAMPLE_CSV, Server, TaskHarness

pytestmark = pytest.mark.timeout(60)


async def run(harness: TaskHarness, **task: Any) -> list[MetricEntry]:
    runnable, ctx = harness.context({"id": "t", "type": REQUEST, **task})
    try:
        await runnable.run(ctx)
    finally:
        metrics = list(ctx.metrics)
    return metrics


def values(metrics: list[MetricEntry], name: str) -> list[float]:
    return [metric.value for metric in metrics if metric.name == name]


async def test_get_reports_kestra_counters_and_tags(
    harness: TaskHarness, mock_server: Server
) -> None:
    metrics = await run(harness, uri=f"{mock_server.url}/hello")
    counters = {m.name: m.value for m in metrics if m.type is MetricType.COUNTER}
    assert counters == {
        "request.count": 1,
        "request.bytes": 0,
        "response.count": 1,
        "response.bytes": len(HELLO),
        "response.length": len(HELLO),
    }
    assert {tuple(sorted(m.tags.items())) for m in metrics} == {
        (
            ("request.hostname", "127.0.0.1"),
            ("request.method", "GET"),
            ("request.scheme", "http"),
            ("response.code", "200"),
        )
    }
    (timer,) = [m for m in metrics if m.type is MetricType.TIMER]
    assert timer.name == "duration"
    # Milliseconds, as Kestra stores timers.
    assert 0 < timer.value < 10_000


async def test_each_redirect_hop_is_counted(harness: TaskHarness, mock_server: Server) -> None:
    metrics = await run(harness, uri=f"{mock_server.url}/redirect")
    counts = [m.tags["response.code"] for m in metrics if m.name == "request.count"]
    assert counts == ["301", "200"]
    assert len(values(metrics, "duration")) == 1


async def test_post_counts_the_bytes_sent(harness: TaskHarness, mock_server: Server) -> None:
    metrics = await run(
        harness, uri=f"{mock_server.url}/post/json", method="POST", body='{"hello":"world"}'
    )
    assert values(metrics, "request.bytes") == [len('{"hello":"world"}')]


async def test_unknown_length_is_minus_one(harness: TaskHarness, mock_server: Server) -> None:
    metrics = await run(harness, uri=f"{mock_server.url}/chunked")
    assert values(metrics, "response.length") == [-1]
    assert values(metrics, "response.bytes") == [120_000]


async def test_head_has_no_response_length(harness: TaskHarness, mock_server: Server) -> None:
    metrics = await run(harness, uri=f"{mock_server.url}/headonly", method="HEAD")
    assert values(metrics, "response.length") == []
    assert values(metrics, "request.count") == [1]


async def test_failed_status_is_still_measured(harness: TaskHarness, mock_server: Server) -> None:
    runnable, ctx = harness.context({"id": "t", "type": REQUEST, "uri": f"{mock_server.url}/500"})
    with pytest.raises(Exception, match="response code '500'"):
        await runnable.run(ctx)
    assert [m.tags["response.code"] for m in ctx.metrics if m.name == "response.count"] == ["500"]


async def test_download_reports_the_same_metrics(harness: TaskHarness, mock_server: Server) -> None:
    task = {
        "id": "d",
        "type": "io.kestra.plugin.core.http.Download",
        "uri": f"{mock_server.url}/sample.csv",
    }
    runnable, ctx = harness.context(task)
    await runnable.run(ctx)
    assert values(ctx.metrics, "response.bytes") == [len(SAMPLE_CSV)]
    assert values(ctx.metrics, "request.count") == [1]


async def test_metrics_reach_the_worker_result(harness: TaskHarness, mock_server: Server) -> None:
    from lanner.executions import Execution, TaskRun
    from lanner.flows import Flow
    from lanner.jobs import WorkerJob
    from lanner.tasks.base import RunnableTask

    flow = Flow.model_validate(
        {
            "id": "test",
            "namespace": "io.kestra.tests",
            "tasks": [{"id": "t", "type": REQUEST, "uri": f"{mock_server.url}/hello"}],
        }
    )
    harness._flow = flow
    execution = Execution.create(flow.namespace, flow.id, 1)
    task = flow.tasks[0]
    assert isinstance(task, RunnableTask)
    result = await harness.worker.run(WorkerJob(execution, TaskRun.create(execution, "t"), task))
    assert {m.name for m in result.metrics} >= {"request.count", "duration"}
