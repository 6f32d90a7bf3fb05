from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from lanner.exceptions import FlowError, Problem
from lanner.flow_parser import FlowReport, parse_flow, validate_flow
from lanner.tasks import lookup
from lanner.yamlsource import load_yaml

FIXTURES = Path(__file__).parent.parent / "fixtures" / "flows"
CONFORMANCE = Path(__file__).parents[3] / "shared" / "kestra-conformance" / "flows"

Located = tuple[int | None, int | None, str, str]


def located(report: FlowReport) -> list[Located]:
    return [(p.line, p.column, p.path, p.message) for p in report.problems]


def broken(name: str) -> FlowReport:
    return validate_flow((FIXTURES / "broken" / name).read_text(encoding="utf-8"))


_BROKEN: list[Any] = [
    pytest.param(
        "unknown-property-top.yml",
        [
            (
                3,
                1,
                "descripton",
                'Unrecognized field "descripton" (class Flow), not marked as ignorable '
                '(did you mean "description"?)',
            )
        ],
        id="unknown-property-top-level",
    ),
    pytest.param(
        "unknown-property-task.yml",
        [
            (
                7,
                5,
                "hello.colour",
                'Unrecognized field "colour" (class io.kestra.plugin.core.log.Log), '
                "not marked as ignorable",
            )
        ],
        id="unknown-property-in-task",
    ),
    pytest.param(
        "unknown-property-retry.yml",
        [
            (
                10,
                7,
                "hello.retry.maxAttempts",
                'Unrecognized field "maxAttempts" (class ConstantRetry), not marked as ignorable '
                '(did you mean "maxAttempt"?)',
            )
        ],
        id="unknown-property-in-retry",
    ),
    pytest.param(
        "duplicate-key-top.yml",
        [(7, 1, "", "Duplicate field 'namespace'")],
        id="duplicate-key-top-level",
    ),
    pytest.param(
        "duplicate-key-nested.yml",
        [
            (10, 9, "inner", "Duplicate field 'inner.message'"),
            (14, 11, "inner.retry", "Duplicate field 'inner.retry.interval'"),
        ],
        id="duplicate-key-nested",
    ),
    pytest.param(
        "bad-id.yml",
        [
            (1, 5, "id", "must match \"^[a-zA-Z0-9][a-zA-Z0-9._-]*$\", got 'my flow'"),
            (2, 12, "namespace", "must match \"^[a-z0-9][a-z0-9._-]*$\", got 'Company.Team'"),
            (4, 9, "tasks[0].id", "must match \"^[a-zA-Z0-9][a-zA-Z0-9_-]*$\", got 'hello.world'"),
        ],
        id="bad-ids",
    ),
    pytest.param(
        "duplicate-task-ids.yml",
        [(14, 13, "", "Duplicate task id with name [first, check, group]")],
        id="duplicate-task-ids-nested",
    ),
    pytest.param(
        "unknown-type.yml",
        [
            (
                5,
                11,
                "hello.type",
                "Invalid type: io.kestra.plugin.core.log.Logg "
                "(did you mean io.kestra.plugin.core.log.Log?)",
            )
        ],
        id="unknown-type-with-suggestion",
    ),
    pytest.param(
        "missing-message.yml",
        [(4, 5, "hello.message", "must not be null")],
        id="missing-property",
    ),
    pytest.param(
        "wrong-type.yml",
        [
            (6, 17, "loop.concurrent", "expected an integer, got 'many'"),
            (10, 19, "wait.duration", "expected an ISO-8601 duration like PT5M, got 'forever'"),
            (11, 23, "wait.allowFailure", "expected a boolean (true or false), got 'maybe'"),
        ],
        id="wrong-types",
    ),
    pytest.param(
        "empty-tasks.yml",
        [(3, 8, "tasks", "must not be empty")],
        id="empty-tasks",
    ),
    pytest.param(
        "many-problems.yml",
        [
            (1, 1, "namespace", "must not be null"),
            (1, 5, "id", "must match \"^[a-zA-Z0-9][a-zA-Z0-9._-]*$\", got 'many problems'"),
            (3, 5, "hello.message", "must not be null"),
            (
                5,
                5,
                "hello.mesage",
                'Unrecognized field "mesage" (class io.kestra.plugin.core.log.Log), '
                'not marked as ignorable (did you mean "message"?)',
            ),
            (
                7,
                11,
                "later.type",
                "Invalid type: io.kestra.plugin.core.flow.Sequentiel "
                "(did you mean io.kestra.plugin.core.flow.Sequential?)",
            ),
            (9, 5, "tasks[2].id", "must not be null"),
            (12, 10, "concurrency.limit", "must be greater than 0, got 0"),
        ],
        id="several-problems-at-once",
    ),
    pytest.param(
        "syntax-error.yml",
        [
            (
                7,
                7,
                "",
                "Invalid YAML: did not find expected ',' or ']' "
                "(while parsing a flow sequence started at 6:14)",
            )
        ],
        id="yaml-syntax-error",
    ),
]


@pytest.mark.parametrize(("name", "expected"), _BROKEN)
def test_broken_flows_list_every_problem_where_it_is(name: str, expected: list[Located]) -> None:
    report = broken(name)
    assert located(report) == expected
    assert report.model is None
    assert not report.valid


def test_missing_required_property_of_request() -> None:
    if lookup("io.kestra.plugin.core.http.Request") is None:
        pytest.skip("the Request task is not registered")
    assert located(broken("missing-uri.yml")) == [(4, 5, "send.uri", "must not be null")]


@pytest.mark.parametrize("name", ["hello.yml", "legacy-types.yml", "plugin-defaults.yml"])
def test_valid_fixtures_have_no_problem(name: str) -> None:
    report = validate_flow((FIXTURES / "valid" / name).read_text(encoding="utf-8"))
    assert report.problems == []
    assert report.model is not None


def test_parse_flow_returns_the_flow() -> None:
    flow = parse_flow((FIXTURES / "valid" / "hello.yml").read_text(encoding="utf-8"))
    assert (flow.id, flow.namespace) == ("hello", "company.team")
    assert [task.id for task in flow.walk()] == [
        "hello",
        "branch",
        "everyone",
        "someone",
        "alert",
        "done",
    ]


def test_parse_flow_raises_every_problem_with_the_source_name() -> None:
    text = (FIXTURES / "broken" / "wrong-type.yml").read_text(encoding="utf-8")
    with pytest.raises(FlowError) as caught:
        parse_flow(text, "wrong-type.yml")
    assert caught.value.source_name == "wrong-type.yml"
    assert [problem.path for problem in caught.value.problems] == [
        "loop.concurrent",
        "wait.duration",
        "wait.allowFailure",
    ]
    assert "6:17: loop.concurrent: expected an integer, got 'many'" in str(caught.value)


def test_ids_are_read_even_from_an_invalid_flow() -> None:
    report = broken("unknown-type.yml")
    assert (report.flow, report.namespace) == ("unknown-type", "company.team")


def test_constraints_text() -> None:
    assert broken("duplicate-key-nested.yml").constraints() == (
        "inner: Duplicate field 'inner.message'\n"
        "inner.retry: Duplicate field 'inner.retry.interval'"
    )
    assert validate_flow(_minimal()).constraints() is None


def _minimal(extra: str = "", task: str = "    message: hi\n") -> str:
    return (
        "id: minimal\n"
        "namespace: company.team\n"
        f"{extra}"
        "tasks:\n"
        "  - id: hello\n"
        "    type: io.kestra.plugin.core.log.Log\n"
        f"{task}"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "",
            [
                (
                    1,
                    1,
                    "",
                    "expected a flow (a mapping with id, namespace and tasks), "
                    "got an empty document",
                )
            ],
            id="empty",
        ),
        pytest.param(
            "just words\n",
            [
                (
                    1,
                    1,
                    "",
                    "expected a flow (a mapping with id, namespace and tasks), got 'just words'",
                )
            ],
            id="text",
        ),
        pytest.param(
            "\n- id: a\n",
            [
                (
                    2,
                    1,
                    "",
                    "expected a flow (a mapping with id, namespace and tasks), got [{id: 'a'}]",
                )
            ],
            id="list",
        ),
    ],
)
def test_a_document_that_is_not_a_mapping(text: str, expected: list[Located]) -> None:
    assert located(validate_flow(text)) == expected


@pytest.mark.parametrize(
    ("task", "expected"),
    [
        pytest.param(
            "    message: {text: hi}\n",
            [(6, 14, "hello.message", "expected a string or a list of strings, got {text: 'hi'}")],
            id="union-of-string-and-list",
        ),
        pytest.param(
            "    message:\n",
            [(6, 13, "hello.message", "must not be null")],
            id="null-required-union",
        ),
        pytest.param(
            "    message: hi\n    allowFailure: ~\n",
            [(7, 19, "hello.allowFailure", "must not be null")],
            id="null-boolean",
        ),
        pytest.param(
            "    message: hi\n    retry:\n      type: forever\n",
            [
                (
                    8,
                    13,
                    "hello.retry.type",
                    "expected one of 'constant', 'exponential', 'random', got 'forever'",
                )
            ],
            id="unknown-retry-type",
        ),
        pytest.param(
            "    message: hi\n    retry:\n      maxAttempt: 2\n",
            [(8, 7, "hello.retry.type", "must not be null")],
            id="retry-without-type",
        ),
        pytest.param(
            "    message: hi\n    timeout: 12 minutes\n",
            [
                (
                    7,
                    14,
                    "hello.timeout",
                    "expected an ISO-8601 duration like PT5M, got '12 minutes'",
                )
            ],
            id="bad-duration",
        ),
    ],
)
def test_wrong_values_say_what_was_expected(task: str, expected: list[Located]) -> None:
    text = _minimal().replace("    message: hi\n", task)
    assert located(validate_flow(text)) == expected


def test_a_task_without_type_is_located_at_its_mapping() -> None:
    text = "id: a\nnamespace: b\ntasks:\n  - id: lonely\n    message: hi\n"
    assert located(validate_flow(text)) == [(4, 5, "lonely.type", "must not be null")]


def test_a_task_that_is_not_a_mapping() -> None:
    text = "id: a\nnamespace: b\ntasks:\n  - just text\n"
    assert located(validate_flow(text)) == [
        (4, 5, "tasks[0]", "expected a task (a mapping with id and type), got 'just text'")
    ]


def test_tasks_in_switch_cases_and_dag_are_named_by_id() -> None:
    text = """\
id: a
namespace: b
tasks:
  - id: choose
    type: io.kestra.plugin.core.flow.Switch
    value: "{{ inputs.x }}"
    cases:
      "1":
        - id: one
          type: io.kestra.plugin.core.log.Log
  - id: graph
    type: io.kestra.plugin.core.flow.Dag
    tasks:
      - task:
          id: node
          type: io.kestra.plugin.core.log.Log
          message: hi
          colour: red
"""
    report = validate_flow(text)
    assert located(report) == [
        (9, 11, "one.message", "must not be null"),
        (
            18,
            11,
            "node.colour",
            'Unrecognized field "colour" (class io.kestra.plugin.core.log.Log), '
            "not marked as ignorable",
        ),
    ]


# -- semantic checks ------------------------------------------------------------------------------


def test_duplicate_task_ids_point_at_the_second_occurrence() -> None:
    report = broken("duplicate-task-ids.yml")
    assert report.problems == [
        Problem("", "Duplicate task id with name [first, check, group]", 14, 13)
    ]


def test_task_level_checks_are_located_at_the_task() -> None:
    text = _minimal(
        task="    message: hi\n"
        "  - id: choose\n"
        "    type: io.kestra.plugin.core.flow.Switch\n"
        "    value: x\n"
    )
    assert located(validate_flow(text)) == [
        (7, 5, "choose", "No task defined, neither cases or default have any tasks")
    ]


def test_flow_level_checks_are_located() -> None:
    text = """\
id: a
namespace: b
labels:
  team: data
  system.secret: x
inputs:
  - id: x
    type: STRING
  - id: x
    type: INT
outputs:
  - id: out
    value: "1"
  - id: out
    value: "2"
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: hi
"""
    assert located(validate_flow(text)) == [
        (
            5,
            3,
            "",
            "System labels can only be set by Kestra itself, offending label: system.secret=x",
        ),
        (9, 5, "", "Duplicate input with name [x]"),
        (14, 5, "", "Duplicate output with name [out]"),
    ]


def test_input_type_rules_point_at_the_property() -> None:
    text = _minimal(
        "inputs:\n"
        "  - id: upload\n"
        "    type: FILE\n"
        "    defaults: nope\n"
        "  - id: matrix\n"
        "    type: ARRAY\n"
        "    itemType: ARRAY\n"
    )
    assert located(validate_flow(text)) == [
        (6, 5, "", "no `defaults` can be set for inputs of type 'FILE'"),
        (9, 5, "", "`itemType` cannot be `ARRAY`"),
    ]


def test_duplicate_trigger_ids_point_at_the_repeat() -> None:
    text = _minimal(
        "triggers:\n"
        "  - id: daily\n"
        "    type: io.kestra.plugin.core.trigger.Schedule\n"
        "    cron: '0 0 * * *'\n"
        "  - id: daily\n"
        "    type: io.kestra.plugin.core.trigger.Schedule\n"
        "    cron: '0 1 * * *'\n"
    )
    assert located(validate_flow(text)) == [(7, 5, "", "Duplicate trigger id with name [daily]")]


def test_input_dependency_problems_point_at_the_input() -> None:
    text = _minimal(
        "inputs:\n  - id: first\n    type: STRING\n    dependsOn:\n      inputs: [nowhere]\n"
    )
    assert located(validate_flow(text)) == [
        (4, 5, "", "Input with id 'first' depends on a non-existent input 'nowhere'.")
    ]


# -- plugin defaults ------------------------------------------------------------------------------


def _defaults_flow(defaults: str, tasks: str, key: str = "pluginDefaults") -> str:
    return f"id: d\nnamespace: company.team\n{key}:\n{defaults}tasks:\n{tasks}"


def test_plugin_defaults_fill_a_missing_message() -> None:
    flow = parse_flow((FIXTURES / "valid" / "plugin-defaults.yml").read_text(encoding="utf-8"))
    filled, own = flow.tasks
    assert filled.model_dump()["message"] == "filled by pluginDefaults"
    assert own.model_dump()["message"] == "the task's own message wins"
    assert filled.model_dump()["level"] == own.model_dump()["level"]


@pytest.mark.parametrize(
    ("defaults", "task_message", "expected"),
    [
        pytest.param("    values: {message: default}\n", "", "default", id="fills"),
        pytest.param(
            "    values: {message: default}\n", "    message: own\n", "own", id="task-wins"
        ),
        pytest.param(
            "    forced: true\n    values: {message: forced}\n",
            "    message: own\n",
            "forced",
            id="forced-wins",
        ),
        pytest.param(
            "    values: {message: default}\n", "    message:\n", "default", id="null-keeps"
        ),
        pytest.param(
            "    values: {message: [a, b]}\n",
            "    message: [b, c]\n",
            ["a", "b", "c"],
            id="lists-are-joined",
        ),
    ],
)
def test_plugin_default_merge(defaults: str, task_message: str, expected: Any) -> None:
    text = _defaults_flow(
        f"  - type: io.kestra.plugin.core.log.Log\n{defaults}",
        f"  - id: t\n    type: io.kestra.plugin.core.log.Log\n{task_message}",
    )
    flow = parse_flow(text)
    assert flow.tasks[0].model_dump()["message"] == expected


def test_first_listed_default_wins() -> None:
    text = _defaults_flow(
        "  - type: io.kestra.plugin.core.log.Log\n    values: {message: first}\n"
        "  - type: io.kestra.plugin.core.log\n    values: {message: second}\n",
        "  - id: t\n    type: io.kestra.plugin.core.log.Log\n",
    )
    assert parse_flow(text).tasks[0].model_dump()["message"] == "first"


def test_first_listed_forced_default_wins() -> None:
    text = _defaults_flow(
        "  - type: io.kestra.plugin.core.log.Log\n    forced: true\n    values: {message: first}\n"
        "  - type: io.kestra.plugin.core\n    forced: true\n    values: {message: second}\n",
        "  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: own\n",
    )
    assert parse_flow(text).tasks[0].model_dump()["message"] == "first"


def test_prefix_defaults_reach_nested_tasks_and_skip_properties_a_class_lacks() -> None:
    text = _defaults_flow(
        "  - type: io.kestra.plugin.core\n    values: {description: shared, message: m}\n",
        "  - id: group\n"
        "    type: io.kestra.plugin.core.flow.Sequential\n"
        "    tasks:\n"
        "      - id: inner\n"
        "        type: io.kestra.core.tasks.log.Log\n",
    )
    report = validate_flow(text)
    assert report.problems == []
    assert report.warnings == []
    assert report.model is not None
    assert [task.description for task in report.model.walk()] == ["shared", "shared"]
    assert report.model.find_task("inner").model_dump()["message"] == "m"


def test_defaults_named_by_a_legacy_type_apply() -> None:
    text = _defaults_flow(
        "  - type: io.kestra.core.tasks.log.Log\n    values: {message: legacy}\n",
        "  - id: t\n    type: io.kestra.plugin.core.log.Log\n",
    )
    assert parse_flow(text).tasks[0].model_dump()["message"] == "legacy"


def test_task_defaults_is_the_old_name() -> None:
    text = _defaults_flow(
        "  - type: io.kestra.plugin.core.log.Log\n    values: {message: old}\n",
        "  - id: t\n    type: io.kestra.plugin.core.log.Log\n",
        key="taskDefaults",
    )
    report = validate_flow(text)
    assert report.model is not None
    assert report.model.tasks[0].model_dump()["message"] == "old"
    assert report.deprecation_paths == ["taskDefaults"]


def test_unknown_default_property_is_a_warning() -> None:
    text = _defaults_flow(
        "  - type: io.kestra.plugin.core.log.Log\n    values: {message: m, colour: red}\n",
        "  - id: t\n    type: io.kestra.plugin.core.log.Log\n",
    )
    report = validate_flow(text)
    assert report.problems == []
    assert report.warnings == [
        "No property 'colour' exists in plugin 'io.kestra.plugin.core.log.Log'"
    ]


def test_a_malformed_default_is_reported_not_applied() -> None:
    text = _defaults_flow(
        "  - type: io.kestra.plugin.core.log.Log\n    value: {message: m}\n",
        "  - id: t\n    type: io.kestra.plugin.core.log.Log\n",
    )
    assert [(p.line, p.column, p.path) for p in validate_flow(text).problems] == [
        (5, 5, "pluginDefaults[0].value"),
        (7, 5, "t.message"),
    ]


# -- infos and deprecations -----------------------------------------------------------------------


def test_legacy_types_are_reported_as_infos() -> None:
    report = validate_flow((FIXTURES / "valid" / "legacy-types.yml").read_text(encoding="utf-8"))
    assert report.infos == [
        "io.kestra.core.tasks.flows.Parallel is replaced by io.kestra.plugin.core.flow.Parallel",
        "io.kestra.core.tasks.log.Log is replaced by io.kestra.plugin.core.log.Log",
        "io.kestra.core.tasks.debugs.Return is replaced by io.kestra.plugin.core.debug.Return",
    ]
    assert report.model is not None
    assert report.model.tasks[0].type == "io.kestra.plugin.core.flow.Parallel"


def test_deprecated_tasks_are_listed_by_path() -> None:
    text = """\
id: a
namespace: b
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.EachSequential
    value: [1, 2]
    tasks:
      - id: echo
        type: io.kestra.core.tasks.debugs.Echo
        format: "{{ taskrun.value }}"
"""
    report = validate_flow(text)
    assert report.problems == []
    assert report.deprecation_paths == ["tasks[0]", "tasks[0].tasks[0]"]


# -- documents in a larger text -------------------------------------------------------------------


def test_first_line_numbers_a_document_inside_a_larger_text() -> None:
    text = (FIXTURES / "broken" / "missing-message.yml").read_text(encoding="utf-8")
    assert located(validate_flow(text, first_line=21)) == [
        (24, 5, "hello.message", "must not be null")
    ]


def test_a_200_task_flow_validates_in_milliseconds() -> None:
    tasks = "".join(
        f"  - id: group{n}\n"
        "    type: io.kestra.plugin.core.flow.Sequential\n"
        "    tasks:\n"
        f"      - id: log{n}\n"
        "        type: io.kestra.core.tasks.log.Log\n"
        f"        message: 'hello {{{{ inputs.name }}}} {n}'\n"
        "        retry: {type: constant, interval: PT1S, maxAttempt: 3}\n"
        for n in range(100)
    )
    text = f"id: big\nnamespace: company.team\ntasks:\n{tasks}"
    validate_flow(text)
    started = time.perf_counter()
    report = validate_flow(text)
    elapsed = time.perf_counter() - started
    assert report.problems == []
    assert elapsed < 0.5


# -- Kestra's own flows ---------------------------------------------------------------------------


def _conformance_flows() -> list[Path]:
    return sorted(CONFORMANCE.glob("*.y*ml")) if CONFORMANCE.is_dir() else []


def _plugin_types(value: Any) -> list[str]:
    if isinstance(value, dict):
        own = [value["type"]] if "." in str(value.get("type", "")) else []
        return own + [
            t for key, item in value.items() if key != "triggers" for t in _plugin_types(item)
        ]
    if isinstance(value, list):
        return [t for item in value for t in _plugin_types(item)]
    return []


@pytest.mark.parametrize("path", _conformance_flows(), ids=lambda path: path.name)
def test_conformance_flows_parse(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    unknown = sorted({t for t in _plugin_types(load_yaml(text).value) if lookup(t) is None})
    if unknown:
        pytest.skip(f"unregistered task types: {', '.join(unknown)}")
    report = validate_flow(text)
    assert [str(problem) for problem in report.problems] == []


@pytest.mark.parametrize(
    "type_name",
    ["io.kestra.plugin.core.flow.Template", "io.kestra.core.tasks.flows.Template"],
)
def test_a_template_task_is_refused_with_the_reason(type_name: str) -> None:
    source = (
        "id: templated\nnamespace: company.team\ntasks:\n"
        f"  - id: shared\n    type: {type_name}\n    namespace: company.team\n"
        "    templateId: common\n"
    )
    [problem] = [str(item) for item in validate_flow(source).problems]
    assert problem == (
        f"5:11: shared.type: Invalid type: {type_name} (templates are deprecated and disabled,"
        " as in Kestra by default: use a Subflow task)"
    )


CHECKED = """id: c
namespace: t
checks:
%s
tasks:
  - id: a
    type: io.kestra.plugin.core.log.Log
    message: hi
"""


def test_checks_take_condition_or_when_with_their_defaults() -> None:
    flow = parse_flow(
        CHECKED % "  - condition: '{{ true }}'\n    message: a\n  - when: x\n    message: b"
    )
    assert flow.checks is not None
    first, second = flow.checks
    assert (first.condition, first.style, first.behavior) == (
        "{{ true }}",
        "INFO",
        "BLOCK_EXECUTION",
    )
    assert second.condition == "x"


def test_bad_checks_are_located() -> None:
    report = validate_flow(
        CHECKED % "  - condition: a\n    when: b\n    message: m\n  - message: ''\n    style: LOUD"
    )
    assert [(p.line, p.column, p.path, p.message) for p in report.problems] == [
        (4, 5, "checks[0]", "give `condition` or `when`, not both"),
        (7, 5, "checks[1].condition", "must not be null"),
        (7, 14, "checks[1].message", "must not be empty"),
        (
            8,
            12,
            "checks[1].style",
            "expected one of 'ERROR', 'SUCCESS', 'WARNING' or 'INFO', got 'LOUD'",
        ),
    ]
