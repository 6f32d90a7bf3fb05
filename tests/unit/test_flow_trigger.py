"""The Flow trigger's decision: states, conditions, `where` filters, upstream flows in a window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lanner.flow_parser import parse_flow, validate_flow
from lanner.store.triggers import TriggerState
from lanner.triggers.flow import FlowTrigger, TimeWindow

NOW = datetime(2026, 3, 4, 10, 30, tzinfo=UTC)


def trigger(body: str) -> FlowTrigger:
    flow = parse_flow(
        "id: downstream\nnamespace: company.team\n"
        "tasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
        "triggers:\n  - id: after\n    type: io.kestra.plugin.core.trigger.Flow\n" + body
    )
    found = (flow.triggers or [])[0]
    assert isinstance(found, FlowTrigger)
    return found


def upstream(flow_id: str = "extract", state: str = "SUCCESS", **extra: Any) -> dict[str, Any]:
    return {
        "executionId": f"exec-{flow_id}",
        "namespace": "company.team",
        "flowId": flow_id,
        "flowRevision": 1,
        "state": state,
        "executionLabels": {"team": "data"},
        "outputs": {flow_id: True},
        **extra,
    }


MEMORY = TriggerState("company.team", "downstream", "after")


def decide(
    found: FlowTrigger,
    execution: dict[str, Any],
    memory: TriggerState = MEMORY,
    now: datetime = NOW,
) -> tuple[bool, TriggerState]:
    variables = {"flow": {"namespace": "company.team", "id": "downstream"}, "trigger": execution}
    outcome = found.evaluate(memory, execution, variables, {}, now)
    return outcome.fire, outcome.state


@pytest.mark.parametrize(
    ("state", "fires"),
    [("SUCCESS", True), ("FAILED", True), ("PAUSED", True), ("RUNNING", False)],
)
def test_by_default_every_terminated_state_and_paused_fire(state: str, fires: bool) -> None:
    assert decide(trigger("    preconditions: {}\n"), upstream(state=state))[0] is fires


def test_states_narrow_what_fires() -> None:
    found = trigger("    states: [FAILED, WARNING]\n")
    assert decide(found, upstream(state="FAILED"))[0]
    assert not decide(found, upstream(state="SUCCESS"))[0]


@pytest.mark.parametrize(
    ("condition", "fires"),
    [
        (
            "type: io.kestra.plugin.core.condition.ExecutionFlow\n"
            "        namespace: company.team\n        flowId: extract",
            True,
        ),
        (
            "type: io.kestra.plugin.core.condition.ExecutionFlow\n"
            "        namespace: company.team\n        flowId: other",
            False,
        ),
        ("type: io.kestra.plugin.core.condition.ExecutionStatus\n        in: [SUCCESS]", True),
        ("type: io.kestra.plugin.core.condition.ExecutionStatus\n        notIn: [SUCCESS]", False),
        (
            "type: io.kestra.plugin.core.condition.ExecutionNamespace\n"
            "        namespace: company\n        comparison: PREFIX",
            True,
        ),
        (
            "type: io.kestra.plugin.core.condition.ExecutionNamespace\n        namespace: company",
            False,
        ),
        (
            "type: io.kestra.core.models.conditions.types.ExecutionNamespaceCondition\n"
            "        namespace: company\n        prefix: true",
            True,
        ),
        (
            "type: io.kestra.plugin.core.condition.ExecutionLabels\n        labels: {team: data}",
            True,
        ),
        (
            "type: io.kestra.plugin.core.condition.ExecutionLabels\n"
            "        labels: [{key: team, value: ops}]",
            False,
        ),
        (
            "type: io.kestra.plugin.core.condition.ExecutionOutputs\n"
            '        expression: "{{ trigger.outputs.extract }}"',
            True,
        ),
        (
            "type: io.kestra.plugin.core.condition.Expression\n"
            "        expression: \"{{ trigger.flowId == 'extract' }}\"",
            True,
        ),
        (
            "type: io.kestra.plugin.core.condition.Flow\n"
            "        namespace: company.team\n        flowId: downstream",
            True,
        ),
        (
            "type: io.kestra.plugin.core.condition.FlowNamespace\n        namespace: elsewhere",
            False,
        ),
    ],
    ids=[
        "flow",
        "other-flow",
        "status-in",
        "status-not-in",
        "namespace-prefix",
        "namespace-equals",
        "legacy-prefix",
        "labels-map",
        "labels-list",
        "outputs",
        "expression",
        "flow-being-started",
        "namespace-being-started",
    ],
)
def test_conditions_on_the_upstream_execution(condition: str, fires: bool) -> None:
    found = trigger(f"    conditions:\n      - {condition}\n")
    assert decide(found, upstream())[0] is fires


@pytest.mark.parametrize(
    ("where", "fires"),
    [
        ("{field: NAMESPACE, type: STARTS_WITH, value: company}", True),
        ("{field: FLOW_ID, type: IN, values: [a, b]}", False),
        ("{field: STATE, type: NOT_EQUAL_TO, value: FAILED}", True),
        ("{field: FLOW_ID, type: REGEX, value: 'ext.*'}", True),
        ("{field: EXPRESSION, type: IS_TRUE, value: \"{{ trigger.state == 'SUCCESS' }}\"}", True),
        ("{field: EXPRESSION, type: IS_FALSE, value: \"{{ trigger.state == 'SUCCESS' }}\"}", False),
    ],
    ids=["starts-with", "in", "not-equal", "regex", "expression-true", "expression-false"],
)
def test_where_filters(where: str, fires: bool) -> None:
    found = trigger(f"    preconditions:\n      where:\n        - filters: [{where}]\n")
    assert decide(found, upstream())[0] is fires


def test_an_or_group_needs_one_filter() -> None:
    found = trigger(
        "    preconditions:\n      where:\n        - operand: OR\n          filters:\n"
        "            - {field: FLOW_ID, type: EQUAL_TO, value: nope}\n"
        "            - {field: FLOW_ID, type: EQUAL_TO, value: extract}\n"
    )
    assert decide(found, upstream())[0]


TWO_FLOWS = (
    "    preconditions:\n      flows:\n"
    "        - {namespace: company.team, flowId: extract, states: [SUCCESS]}\n"
    "        - {namespace: company.team, flowId: load}\n"
)


def test_every_upstream_flow_must_match_in_the_window_then_it_resets() -> None:
    found = trigger(TWO_FLOWS)
    fired, memory = decide(found, upstream("extract"))
    assert not fired
    assert memory.preconditions is not None
    assert set(memory.preconditions) == {"company.team.extract"}
    outcome = found.evaluate(memory, upstream("load"), {"trigger": upstream("load")}, {}, NOW)
    assert outcome.fire
    assert outcome.outputs == {"extract": True, "load": True}
    assert outcome.state.preconditions is None
    assert not decide(found, upstream("load"), outcome.state)[0]


def test_an_upstream_state_that_is_not_listed_does_not_count() -> None:
    found = trigger(TWO_FLOWS)
    _, memory = decide(found, upstream("extract", state="FAILED"))
    assert memory.preconditions is None


def test_a_match_from_a_previous_window_is_forgotten() -> None:
    found = trigger(TWO_FLOWS)
    _, memory = decide(found, upstream("extract"), now=NOW - timedelta(days=1))
    fired, memory = decide(found, upstream("load"), memory)
    assert not fired
    assert set(memory.preconditions or {}) == {"company.team.load"}


def test_without_reset_the_trigger_fires_again() -> None:
    found = trigger(TWO_FLOWS + "      resetOnSuccess: false\n")
    _, memory = decide(found, upstream("extract"))
    fired, memory = decide(found, upstream("load"), memory)
    assert fired
    assert decide(found, upstream("load"), memory)[0]


@pytest.mark.parametrize(
    ("window", "now", "expected"),
    [
        ("{}", NOW, ("2026-03-04T00:00:00", "2026-03-05T00:00:00")),
        ("{window: PT6H}", NOW, ("2026-03-04T06:00:00", "2026-03-04T12:00:00")),
        (
            "{window: PT6H, windowAdvance: PT1H}",
            NOW,
            ("2026-03-04T07:00:00", "2026-03-04T13:00:00"),
        ),
        (
            "{type: SLIDING_WINDOW, window: PT2H}",
            NOW,
            ("2026-03-04T08:30:00", "2026-03-04T10:30:00"),
        ),
        ("{type: DAILY_TIME_DEADLINE, deadline: '09:00:00'}", NOW, None),
        (
            "{type: DAILY_TIME_DEADLINE, deadline: '11:00:00'}",
            NOW,
            ("2026-03-04T00:00:00", "2026-03-04T11:00:00"),
        ),
        (
            "{type: DAILY_TIME_WINDOW, startTime: '10:00:00', endTime: '12:00:00'}",
            NOW,
            ("2026-03-04T10:00:00", "2026-03-04T12:00:00"),
        ),
    ],
    ids=[
        "default-day",
        "six-hours",
        "advanced",
        "sliding",
        "after-deadline",
        "before-deadline",
        "daily",
    ],
)
def test_time_windows(window: str, now: datetime, expected: tuple[str, str] | None) -> None:
    flows = "      flows: [{namespace: a, flowId: b}]\n"
    found = trigger(f"    preconditions:\n{flows}      timeWindow: {window}\n")
    assert found.preconditions is not None
    span = found.preconditions.time_window.span(now)
    if expected is None:
        assert span is None
    else:
        assert span is not None
        assert tuple(moment.replace(tzinfo=None).isoformat() for moment in span) == expected


def test_a_window_type_is_checked_when_the_flow_is_validated() -> None:
    source = (
        "id: downstream\nnamespace: company.team\n"
        "tasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
        "triggers:\n  - id: after\n    type: io.kestra.plugin.core.trigger.Flow\n"
        "    preconditions:\n      timeWindow:\n        type: HOURLY\n"
    )
    [problem] = [str(item) for item in validate_flow(source).problems]
    assert problem.startswith("12:15: triggers[0].preconditions.timeWindow.type:")
    assert "DURATION_WINDOW" in problem


def test_default_window_is_a_day() -> None:
    assert TimeWindow().span(NOW) == (
        datetime(2026, 3, 4, tzinfo=UTC),
        datetime(2026, 3, 5, tzinfo=UTC),
    )
