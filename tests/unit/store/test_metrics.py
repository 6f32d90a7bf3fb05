"""Task-run metrics in the store: append, read by execution, names, tasks, flow values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lanner.metrics import MetricEntry, MetricType
from lanner.store import Store

AT = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


def metric(
    name: str,
    value: float,
    *,
    execution: str = "e1",
    task: str = "t1",
    run: str = "r1",
    flow: str = "f",
    at: datetime = AT,
) -> MetricEntry:
    return MetricEntry(
        "company", flow, execution, task, run, MetricType.COUNTER, name, value, at, {"k": "v"}
    )


async def test_metrics_of_an_execution_come_back_in_order_with_filters(store: Store) -> None:
    entries = [
        metric("b", 1),
        metric("a", 2, task="t2", run="r2"),
        metric("c", 3),
        metric("a", 9, execution="e2"),
    ]
    await store.append_metrics(entries)
    page = await store.get_metrics("e1")
    assert (page.total, page.results) == (3, entries[:3])
    assert (await store.get_metrics("e1", task_id="t2")).results == [entries[1]]
    assert (await store.get_metrics("e1", task_run_id="r1")).results == [entries[0], entries[2]]
    second = await store.get_metrics("e1", page=2, size=2)
    assert (second.total, second.results) == (3, [entries[2]])


async def test_names_and_tasks_of_a_flow(store: Store) -> None:
    await store.append_metrics(
        [metric("b", 1), metric("a", 2, task="t2"), metric("a", 3), metric("z", 1, flow="g")]
    )
    assert await store.metric_names("company", "f") == ["a", "b"]
    assert await store.metric_names("company", "f", "t2") == ["a"]
    assert await store.tasks_with_metrics("company", "f") == ["t1", "t2"]
    assert await store.tasks_with_metrics("company", "nothing") == []


async def test_flow_values_between_two_dates(store: Store) -> None:
    early = metric("a", 1, at=AT - timedelta(days=2))
    inside = metric("a", 2, at=AT)
    other_task = metric("a", 3, task="t2", at=AT + timedelta(hours=1))
    await store.append_metrics([other_task, early, inside, metric("b", 4)])
    start, end = AT - timedelta(days=1), AT + timedelta(days=1)
    assert await store.flow_metrics("company", "f", "a", start=start, end=end) == [
        inside,
        other_task,
    ]
    assert await store.flow_metrics("company", "f", "a", task_id="t2", start=start, end=end) == [
        other_task
    ]


async def test_deleting_an_execution_deletes_its_metrics(store: Store) -> None:
    await store.append_metrics([metric("a", 1), metric("a", 2, execution="e2")])
    await store.delete_execution("e1")
    assert (await store.get_metrics("e1")).total == 0
    assert (await store.get_metrics("e2")).total == 1
