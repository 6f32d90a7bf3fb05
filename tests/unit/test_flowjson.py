"""Parsed flows written as Kestra's API writes them."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from lanner.exceptions import FlowError, Problem
from lanner.executions import Label, Level
from lanner.flow_parser import parse_flow
from lanner.flowjson import flow_json, plain
from lanner.properties import Expr
from lanner.store import FlowRecord

UPDATED = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(Expr("{{ x }}"), "{{ x }}", id="expression"),
        pytest.param(Level.WARN, "WARN", id="int-enum-by-name"),
        pytest.param(timedelta(minutes=1, seconds=30), "PT1M30S", id="duration"),
        pytest.param(UPDATED, "2026-01-02T03:04:05.678Z", id="instant"),
        pytest.param(date(2026, 1, 2), "2026-01-02", id="date"),
        pytest.param(math.inf, "Infinity", id="infinity"),
        pytest.param(-math.inf, "-Infinity", id="minus-infinity"),
        pytest.param(math.nan, "NaN", id="nan"),
        pytest.param(Label("k", "v"), {"key": "k", "value": "v"}, id="record"),
        pytest.param((1, {2: [3]}), [1, {"2": [3]}], id="collections"),
    ],
)
def test_plain(value: Any, expected: Any) -> None:
    assert plain(value) == expected


SOURCE = """\
id: hello
namespace: company.team
tasks:
  - id: wait
    type: io.kestra.core.tasks.flows.Sleep
    duration: PT1S
    timeout: "{{ inputs.limit }}"
finally:
  - id: done
    type: io.kestra.plugin.core.log.Log
    message: done
    level: DEBUG
"""


def record(deleted: bool = False) -> FlowRecord:
    return FlowRecord("company.team", "hello", 4, SOURCE, deleted, UPDATED)


def test_a_flow_is_written_with_canonical_types_and_yaml_names() -> None:
    body = flow_json(record(), parse_flow(SOURCE), source=True)
    assert body["tasks"][0]["type"] == "io.kestra.plugin.core.flow.Sleep"
    assert body["tasks"][0]["duration"] == "PT1S"
    assert body["tasks"][0]["timeout"] == "{{ inputs.limit }}"
    assert body["finally"][0]["level"] == "DEBUG"
    assert (body["revision"], body["deleted"], body["draft"]) == (4, False, False)
    assert body["updated"] == "2026-01-02T03:04:05.678Z"
    assert body["source"] == SOURCE
    assert "source" not in flow_json(record(), parse_flow(SOURCE))


def test_a_revision_that_no_longer_parses_says_why() -> None:
    error = FlowError([Problem("tasks", "must not be empty", 3, 8)])
    body = flow_json(record(deleted=True), error)
    assert body == {
        "id": "hello",
        "namespace": "company.team",
        "tasks": [],
        "disabled": False,
        "exception": "3:8: tasks: must not be empty",
        "revision": 4,
        "deleted": True,
        "draft": False,
        "updated": "2026-01-02T03:04:05.678Z",
    }
