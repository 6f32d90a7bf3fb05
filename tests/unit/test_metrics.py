"""Metric entries: validation, Kestra's JSON, and aggregation per time bucket."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from lanner.exceptions import LannerError
from lanner.metrics import MetricEntry, MetricType, aggregate, group_by, metric_entry

AT = datetime(2026, 3, 4, 10, 17, 30, tzinfo=UTC)
BASE = MetricEntry("company", "f", "e1", "t", "tr1", MetricType.COUNTER, "", 0.0, AT)


def entry(name: str, value: float, at: datetime = AT) -> MetricEntry:
    return metric_entry(replace(BASE, timestamp=at), name, value, "counter", {})


def test_a_timer_is_kept_in_milliseconds_and_tags_become_text() -> None:
    timer = metric_entry(BASE, "duration", 1.5, "TIMER", {"code": 200})
    assert timer.type is MetricType.TIMER
    assert timer.value == 1500.0
    assert timer.tags == {"code": "200"}


def test_json_has_kestras_fields_and_reads_back() -> None:
    counter = metric_entry(BASE, "rows", 3, "counter", None)
    data = counter.to_json()
    assert data == {
        "namespace": "company",
        "flowId": "f",
        "taskId": "t",
        "executionId": "e1",
        "taskRunId": "tr1",
        "type": "counter",
        "name": "rows",
        "value": 3.0,
        "timestamp": "2026-03-04T10:17:30Z",
        "tags": {},
        "deleted": False,
    }
    assert MetricEntry.from_json(data) == counter


@pytest.mark.parametrize(
    ("name", "value", "kind", "message"),
    [
        ("", 1, "counter", "A metric needs a name"),
        ("x", 1, "histogram", "Unknown metric type 'histogram', expected one of: counter"),
        ("x", float("nan"), "counter", "Metric 'x' needs a finite number, got nan"),
        ("x", True, "counter", "Metric 'x' needs a finite number, got True"),
    ],
    ids=["no-name", "unknown-type", "nan", "bool"],
)
def test_bad_metrics_are_refused(name: str, value: float, kind: str, message: str) -> None:
    with pytest.raises(LannerError, match=message):
        metric_entry(BASE, name, value, kind, None)


@pytest.mark.parametrize(
    ("span", "expected"),
    [
        (timedelta(hours=1), "minute"),
        (timedelta(hours=7), "hour"),
        (timedelta(days=2), "day"),
        (timedelta(days=200), "week"),
        (timedelta(days=400), "month"),
    ],
)
def test_the_bucket_grows_with_the_range(span: timedelta, expected: str) -> None:
    assert group_by(AT, AT + span) == expected


def test_aggregate_sums_per_day_in_date_order() -> None:
    entries = [
        entry("rows", 5, AT + timedelta(days=1)),
        entry("rows", 1, AT),
        entry("rows", 2, AT + timedelta(hours=3)),
    ]
    found = aggregate(entries, "sum", AT - timedelta(days=3), AT + timedelta(days=3))
    assert found == {
        "groupBy": "day",
        "aggregations": [
            {"name": "rows", "value": 3.0, "date": "2026-03-04T00:00:00Z"},
            {"name": "rows", "value": 5.0, "date": "2026-03-05T00:00:00Z"},
        ],
    }


@pytest.mark.parametrize(("how", "value"), [("avg", 2.0), ("min", 1.0), ("MAX", 3.0)])
def test_other_aggregations(how: str, value: float) -> None:
    entries = [entry("rows", 1), entry("rows", 3)]
    found = aggregate(entries, how, AT - timedelta(minutes=5), AT + timedelta(minutes=5))
    assert found["aggregations"] == [
        {"name": "rows", "value": value, "date": "2026-03-04T10:17:00Z"}
    ]


def test_an_unknown_aggregation_is_refused() -> None:
    with pytest.raises(LannerError, match="Unknown aggregation 'median'"):
        aggregate([], "median", AT, AT)
