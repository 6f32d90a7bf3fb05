"""Trigger models: validation in flows, cron dates in time zones (DST included), conditions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lanner.exceptions import ExpressionError
from lanner.executions import Label, Level
from lanner.flow_parser import parse_flow, validate_flow
from lanner.states import State
from lanner.triggers import RecoverMissedSchedules, Schedule, Webhook, known_types
from lanner.triggers.conditions import ExpressionCondition, NotCondition, OrCondition
from lanner.triggers.cron import CronError, parse_cron
from lanner.triggers.webhook import parse_body

HEAD = (
    "id: hello\n"
    "namespace: company.team\n"
    "tasks:\n"
    "  - id: log\n"
    "    type: io.kestra.plugin.core.log.Log\n"
    "    message: hi\n"
    "triggers:\n"
)


def flow_with(triggers: str) -> str:
    return HEAD + triggers


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def problems(text: str) -> list[str]:
    return [str(problem) for problem in validate_flow(text).problems]


# -- models in flows ------------------------------------------------------------------------------


def test_builtin_trigger_types_are_registered() -> None:
    assert known_types() == [
        "io.kestra.plugin.core.trigger.Flow",
        "io.kestra.plugin.core.trigger.Schedule",
        "io.kestra.plugin.core.trigger.Webhook",
    ]


def test_a_schedule_with_every_common_property_parses() -> None:
    flow = parse_flow(
        flow_with(
            "  - id: nightly\n"
            "    type: io.kestra.plugin.core.trigger.Schedule\n"
            "    description: every night\n"
            "    cron: '0 2 * * *'\n"
            "    timezone: Europe/Paris\n"
            "    disabled: false\n"
            "    logLevel: WARN\n"
            "    stopAfter: [FAILED, KILLED]\n"
            "    inputs: {who: night}\n"
            "    labels: {team: data}\n"
            "    recoverMissedSchedules: LAST\n"
            "    lateMaximumDelay: PT1H\n"
            "    backfill:\n"
            "      start: 2024-01-01T00:00:00Z\n"
            "      labels: [{key: source, value: backfill}]\n"
            "    conditions:\n"
            "      - type: io.kestra.plugin.core.condition.Expression\n"
            "        expression: '{{ true }}'\n"
        )
    )
    trigger = flow.find_trigger("nightly")
    assert isinstance(trigger, Schedule)
    assert trigger.log_level is Level.WARN
    assert trigger.stop_after == [State.FAILED, State.KILLED]
    assert trigger.inputs == {"who": "night"}
    assert trigger.labels == (Label("team", "data"),)
    assert trigger.recovery is RecoverMissedSchedules.LAST
    assert trigger.late_maximum_delay == timedelta(hours=1)
    assert trigger.backfill is not None
    assert trigger.backfill.start == at("2024-01-01T00:00:00+00:00")
    assert trigger.backfill.labels == (Label("source", "backfill"),)
    assert isinstance(trigger.conditions and trigger.conditions[0], ExpressionCondition)


def test_legacy_type_names_resolve_and_are_reported() -> None:
    text = flow_with(
        "  - id: daily\n"
        "    type: io.kestra.core.models.triggers.types.Schedule\n"
        "    cron: '@daily'\n"
        "    conditions:\n"
        "      - type: io.kestra.core.models.conditions.types.VariableCondition\n"
        "        expression: '{{ true }}'\n"
        "  - id: hook\n"
        "    type: io.kestra.core.models.triggers.types.Webhook\n"
        "    key: abc\n"
    )
    report = validate_flow(text)
    assert report.problems == []
    assert report.model is not None
    triggers = report.model.triggers or []
    assert [trigger.type for trigger in triggers] == [Schedule.TYPE, Webhook.TYPE]
    assert "io.kestra.core.models.triggers.types.Schedule is replaced by " + Schedule.TYPE in (
        report.infos
    )


@pytest.mark.parametrize(
    ("triggers", "expected"),
    [
        pytest.param(
            "  - id: x\n    type: io.kestra.plugin.core.trigger.Schedul\n    cron: '@daily'\n",
            "9:11: triggers[0].type: Invalid type: io.kestra.plugin.core.trigger.Schedul "
            "(did you mean io.kestra.plugin.core.trigger.Schedule?)",
            id="unknown-type",
        ),
        pytest.param(
            "  - id: poll\n    type: io.kestra.plugin.core.http.Trigger\n    uri: http://x\n",
            "9:11: triggers[0].type: Invalid type: io.kestra.plugin.core.http.Trigger",
            id="http-trigger-not-yet",
        ),
        pytest.param(
            "  - id: x\n    type: io.kestra.plugin.core.trigger.Schedule\n"
            "    cron: '@daily'\n    crn: '@daily'\n",
            '11:5: triggers[0].crn: Unrecognized field "crn" (class '
            "io.kestra.plugin.core.trigger.Schedule), not marked as ignorable "
            '(did you mean "cron"?)',
            id="unknown-property",
        ),
        pytest.param(
            "  - id: x\n    type: io.kestra.plugin.core.trigger.Schedule\n    cron: '* * *'\n",
            "10:11: triggers[0].cron: Invalid cron expression '* * *': expected 5 fields, got 3",
            id="cron-fields",
        ),
        pytest.param(
            "  - id: x\n    type: io.kestra.plugin.core.trigger.Schedule\n"
            "    cron: '0 0 * * *'\n    withSeconds: true\n",
            "10:11: triggers[0].cron: Invalid cron expression '0 0 * * *': expected 6 fields "
            "(withSeconds is set), got 5",
            id="cron-with-seconds",
        ),
        pytest.param(
            "  - id: x\n    type: io.kestra.plugin.core.trigger.Schedule\n    cron: '61 * * * *'\n",
            "10:11: triggers[0].cron: Invalid cron expression '61 * * * *'",
            id="cron-range",
        ),
        pytest.param(
            "  - id: x\n    type: io.kestra.plugin.core.trigger.Schedule\n"
            "    cron: '@daily'\n    timezone: Mars/Olympus\n",
            "11:15: triggers[0].timezone: Invalid time zone 'Mars/Olympus'",
            id="timezone",
        ),
        pytest.param(
            "  - id: x\n    type: io.kestra.plugin.core.trigger.Schedule\n",
            "8:5: triggers[0].cron: must not be null",
            id="missing-cron",
        ),
        pytest.param(
            "  - id: x\n    type: io.kestra.plugin.core.trigger.Webhook\n"
            "    key: k\n    conditions:\n"
            "      - type: io.kestra.plugin.core.condition.DayWeek\n        dayOfWeek: MONDAY\n",
            "12:15: triggers[0].conditions[0].type: Invalid type: "
            "io.kestra.plugin.core.condition.DayWeek (lanner does not evaluate this condition)",
            id="unsupported-condition",
        ),
        pytest.param(
            "  - id: x\n    type: io.kestra.plugin.core.trigger.Webhook\n"
            "    key: k\n    stopAfter: [DONE]\n",
            "11:17: triggers[0].stopAfter[0]: expected one of 'CREATED', 'SUBMITTED', 'RUNNING', "
            "'PAUSED', 'RESTARTED', 'KILLING', 'SUCCESS', 'WARNING', 'FAILED', 'KILLED', "
            "'CANCELLED', 'QUEUED', 'RETRYING', 'RETRIED', 'SKIPPED' or 'BREAKPOINT', got 'DONE'",
            id="stop-after-state",
        ),
        pytest.param(
            "  - id: daily\n    type: io.kestra.plugin.core.trigger.Webhook\n    key: a\n"
            "  - id: daily\n    type: io.kestra.plugin.core.trigger.Webhook\n    key: b\n",
            "11:5: Duplicate trigger id with name [daily]",
            id="duplicate-ids",
        ),
    ],
)
def test_invalid_triggers_are_located(triggers: str, expected: str) -> None:
    assert problems(flow_with(triggers)) == [expected]


def test_plugin_defaults_apply_to_triggers() -> None:
    text = (
        flow_with("  - id: daily\n    type: io.kestra.plugin.core.trigger.Schedule\n")
        + "pluginDefaults:\n"
        "  - type: io.kestra.plugin.core.trigger.Schedule\n"
        "    values:\n"
        "      cron: '0 6 * * *'\n"
        "      timezone: Europe/Paris\n"
    )
    trigger = parse_flow(text).find_trigger("daily")
    assert isinstance(trigger, Schedule)
    assert (trigger.cron, trigger.timezone) == ("0 6 * * *", "Europe/Paris")


# -- cron expressions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cron", "after", "expected"),
    [
        ("* * * * *", "2024-01-01T10:00:00+00:00", "2024-01-01T10:01:00+00:00"),
        ("* * * * *", "2024-01-01T10:00:30+00:00", "2024-01-01T10:01:00+00:00"),
        ("*/15 * * * *", "2024-01-01T10:01:00+00:00", "2024-01-01T10:15:00+00:00"),
        ("0 11 * * 1", "2024-01-01T11:00:00+00:00", "2024-01-08T11:00:00+00:00"),
        ("0 0 * * 7", "2024-01-01T00:00:00+00:00", "2024-01-07T00:00:00+00:00"),
        ("@hourly", "2024-01-01T10:00:00+00:00", "2024-01-01T11:00:00+00:00"),
        ("@daily", "2024-01-01T10:00:00+00:00", "2024-01-02T00:00:00+00:00"),
        ("@midnight", "2024-01-01T10:00:00+00:00", "2024-01-02T00:00:00+00:00"),
        ("@weekly", "2024-01-01T10:00:00+00:00", "2024-01-07T00:00:00+00:00"),
        ("@monthly", "2024-01-01T10:00:00+00:00", "2024-02-01T00:00:00+00:00"),
        ("@yearly", "2024-01-01T10:00:00+00:00", "2025-01-01T00:00:00+00:00"),
        ("@annually", "2024-01-01T10:00:00+00:00", "2025-01-01T00:00:00+00:00"),
    ],
)
def test_next_date_in_utc(cron: str, after: str, expected: str) -> None:
    assert parse_cron(cron).next_after(at(after)) == at(expected)


def test_six_fields_put_the_seconds_first() -> None:
    schedule = parse_cron("*/20 * * * * *", with_seconds=True)
    assert schedule.next_after(at("2024-01-01T10:00:05+00:00")) == at("2024-01-01T10:00:20+00:00")
    assert parse_cron("@hourly", with_seconds=True).next_after(
        at("2024-01-01T10:00:00+00:00")
    ) == at("2024-01-01T11:00:00+00:00")


def test_previous_date_is_strictly_before() -> None:
    schedule = parse_cron("0 * * * *")
    assert schedule.previous_before(at("2024-01-01T10:00:00+00:00")) == at(
        "2024-01-01T09:00:00+00:00"
    )
    assert schedule.previous_before(at("2024-01-01T10:00:01+00:00")) == at(
        "2024-01-01T10:00:00+00:00"
    )


def test_first_from_includes_the_moment_itself() -> None:
    schedule = parse_cron("0 * * * *")
    assert schedule.first_from(at("2024-01-01T10:00:00+00:00")) == at("2024-01-01T10:00:00+00:00")


def test_a_time_zone_moves_the_dates() -> None:
    schedule = parse_cron("0 9 * * *", timezone="America/New_York")
    assert schedule.next_after(at("2024-01-15T00:00:00+00:00")) == at("2024-01-15T14:00:00+00:00")
    assert schedule.next_after(at("2024-07-15T00:00:00+00:00")) == at("2024-07-15T13:00:00+00:00")


def test_a_date_that_never_comes_is_none() -> None:
    assert parse_cron("0 0 30 2 *").next_after(at("2024-01-01T00:00:00+00:00")) is None


@pytest.mark.parametrize(
    ("cron", "timezone", "with_seconds", "message"),
    [
        ("* * * *", "UTC", False, "expected 5 fields, got 4"),
        ("* * * * * *", "UTC", False, "expected 5 fields, got 6"),
        ("0 0 * * 8", "UTC", False, "Invalid cron expression '0 0 * * 8'"),
        ("@sometimes", "UTC", False, "Invalid cron expression '@sometimes'"),
        ("@daily", "Nowhere/City", False, "Invalid time zone 'Nowhere/City'"),
    ],
)
def test_invalid_crons_are_refused(
    cron: str, timezone: str, with_seconds: bool, message: str
) -> None:
    with pytest.raises(CronError, match=message.replace("*", r"\*")):
        parse_cron(cron, with_seconds, timezone)


# -- daylight saving time (Europe/Paris: 2024-03-31 02:00 -> 03:00, 2024-10-27 03:00 -> 02:00) ---


def paris(cron: str) -> Any:
    return parse_cron(cron, timezone="Europe/Paris")


def test_a_skipped_wall_time_fires_when_the_clocks_resume() -> None:
    schedule = paris("30 2 * * *")
    day_before = at("2024-03-30T12:00:00+01:00")
    assert schedule.next_after(day_before) == at("2024-03-31T03:00:00+02:00")
    assert schedule.next_after(at("2024-03-31T03:00:00+02:00")) == at("2024-04-01T02:30:00+02:00")


def test_minutes_skipped_by_the_jump_collapse_into_one_date() -> None:
    schedule = paris("* * * * *")
    moment = at("2024-03-31T01:59:00+01:00")
    dates = []
    for _ in range(3):
        moment = schedule.next_after(moment) or moment
        dates.append(moment)
    assert dates == [
        at("2024-03-31T03:00:00+02:00"),
        at("2024-03-31T03:01:00+02:00"),
        at("2024-03-31T03:02:00+02:00"),
    ]


def test_a_repeated_wall_time_fires_once_at_its_first_occurrence() -> None:
    schedule = paris("30 2 * * *")
    first = schedule.next_after(at("2024-10-26T12:00:00+02:00"))
    assert first == at("2024-10-27T02:30:00+02:00")
    assert schedule.next_after(first) == at("2024-10-28T02:30:00+01:00")


def test_hourly_dates_across_the_repeated_hour() -> None:
    schedule = paris("0 * * * *")
    moment = at("2024-10-27T01:30:00+02:00")
    dates = []
    for _ in range(3):
        moment = schedule.next_after(moment) or moment
        dates.append(moment)
    assert dates == [
        at("2024-10-27T02:00:00+02:00"),
        at("2024-10-27T03:00:00+01:00"),
        at("2024-10-27T04:00:00+01:00"),
    ]


def test_previous_dates_around_the_changes() -> None:
    hourly = paris("0 * * * *")
    # 02:30 the second time (CET): the last 02:00 that fired was the first one (CEST).
    assert hourly.previous_before(at("2024-10-27T02:30:00+01:00")) == at(
        "2024-10-27T02:00:00+02:00"
    )
    daily = paris("30 2 * * *")
    assert daily.previous_before(at("2024-03-31T03:10:00+02:00")) == at("2024-03-31T03:00:00+02:00")


def test_schedule_variables_are_written_in_the_trigger_zone() -> None:
    trigger = Schedule.model_validate(
        {"id": "t", "type": Schedule.TYPE, "cron": "0 9 * * *", "timezone": "Europe/Paris"}
    )
    assert trigger.variables(at("2024-01-15T09:00:00+01:00")) == {
        "date": "2024-01-15T09:00:00+01:00",
        "next": "2024-01-16T09:00:00+01:00",
        "previous": "2024-01-14T09:00:00+01:00",
    }
    utc = Schedule.model_validate({"id": "t", "type": Schedule.TYPE, "cron": "@hourly"})
    assert utc.variables(at("2024-01-15T09:00:00+00:00"))["date"] == "2024-01-15T09:00:00Z"


# -- conditions -----------------------------------------------------------------------------------


def expression(text: str) -> ExpressionCondition:
    return ExpressionCondition(type=ExpressionCondition.TYPE, expression=text)


@pytest.mark.parametrize(
    ("text", "holds"),
    [
        ("{{ trigger.body.hello == 'world' }}", True),
        ("{{ trigger.body.hello == 'moon' }}", False),
        ("{{ 0 }}", False),
        ("{{ '' }}", False),
        ("no", True),
    ],
)
def test_expression_conditions_use_kestra_truthiness(text: str, holds: bool) -> None:
    variables = {"trigger": {"body": {"hello": "world"}}}
    assert expression(text).test(variables, {}) is holds


def test_not_and_or_combine_conditions() -> None:
    yes, no = expression("true"), expression("false")
    assert OrCondition(type=OrCondition.TYPE, conditions=[no, yes]).test({}, {})
    assert not OrCondition(type=OrCondition.TYPE, conditions=[no, no]).test({}, {})
    assert NotCondition(type=NotCondition.TYPE, conditions=[no]).test({}, {})
    assert not NotCondition(type=NotCondition.TYPE, conditions=[no, yes]).test({}, {})


def test_a_condition_that_cannot_render_raises() -> None:
    with pytest.raises(ExpressionError):
        expression("{{ missing.value }}").test({}, {})


# -- webhooks -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "body"),
    [
        (b'{"a": [1, 2]}', {"a": [1, 2]}),
        (b"[1, 2]", [1, 2]),
        (b"42", "42"),
        (b'"text"', '"text"'),
        (b"hello=world", "hello=world"),
        (b"", None),
    ],
)
def test_webhook_bodies_are_json_objects_and_arrays_or_text(raw: bytes, body: Any) -> None:
    assert parse_body(raw) == body


def test_webhook_keys_render_with_the_flow_variables() -> None:
    hook = Webhook.model_validate({"id": "w", "type": Webhook.TYPE, "key": "{{ flow.id }}-k"})
    assert hook.rendered_key({"flow": {"id": "hello"}}, {}) == "hello-k"
