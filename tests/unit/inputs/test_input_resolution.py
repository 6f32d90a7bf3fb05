from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from lanner.exceptions import ExpressionError, InputError, UndefinedVariableError
from lanner.inputs import (
    InputDeclaration,
    Upload,
    parse_input,
    resolve_inputs,
    undeclared_inputs,
)

Template = Callable[[Mapping[str, Any]], Any]

SHARED = Path(__file__).resolve().parents[4] / "shared"
CONFORMANCE = SHARED / "kestra-conformance"


class FakeRenderer:
    """Render the few templates a test knows, and remember what it was asked."""

    def __init__(self, templates: Mapping[str, Template] | None = None) -> None:
        self.templates = dict(templates or {})
        self.calls: list[tuple[str, Mapping[str, Any]]] = []

    def __call__(self, template: str, variables: Mapping[str, Any]) -> Any:
        self.calls.append((template, variables))
        if template not in self.templates:
            raise ExpressionError(f"Unable to render `{template}`")
        return self.templates[template](variables)


def _inputs(variables: Mapping[str, Any]) -> Mapping[str, Any]:
    inputs: Mapping[str, Any] = variables["inputs"]
    return inputs


def _decls(*raws: dict[str, Any]) -> list[InputDeclaration]:
    return [parse_input(raw) for raw in raws]


def _resolve(
    raws: list[dict[str, Any]],
    submitted: Mapping[str, Any],
    renderer: FakeRenderer | None = None,
) -> dict[str, Any]:
    return resolve_inputs(_decls(*raws), submitted, render_typed=renderer or FakeRenderer())


def _problems(
    raws: list[dict[str, Any]],
    submitted: Mapping[str, Any],
    renderer: FakeRenderer | None = None,
) -> list[str]:
    with pytest.raises(InputError) as caught:
        _resolve(raws, submitted, renderer)
    return caught.value.problems


SEED_PAYLOAD = {
    "id": "payload",
    "type": "JSON",
    "defaults": '{"name": "Bob", "job": "Developer"}\n',
}


def test_seed_json_input_resolves_its_defaults() -> None:
    assert _resolve([SEED_PAYLOAD], {}) == {"payload": {"name": "Bob", "job": "Developer"}}


def test_seed_json_input_is_overridden_by_a_cli_string() -> None:
    assert _resolve([SEED_PAYLOAD], {"payload": '{"name":"Alice"}'}) == {
        "payload": {"name": "Alice"}
    }


def _flow_inputs(path: Path) -> list[dict[str, Any]]:
    inputs: list[dict[str, Any]] = yaml.safe_load(path.read_text())["inputs"]
    return inputs


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared/ is not beside the project")
def test_seed_flow_inputs() -> None:
    raws = _flow_inputs(SHARED / "seed" / "flows_http_post.yml")
    assert _resolve(raws, {}) == {"payload": {"name": "Bob", "job": "Developer"}}
    assert _resolve(raws, {"payload": '{"name":"Alice"}'}) == {"payload": {"name": "Alice"}}


def _validated_conformance_cases() -> list[Any]:
    if not CONFORMANCE.is_dir():
        return []
    cases = json.loads((CONFORMANCE / "expected.json").read_text())
    return [
        pytest.param(case, id=f"{case['flow']}-{index}")
        for index, case in enumerate(cases)
        if case.get("inputMode") == "validated"
    ]


@pytest.mark.skipif(not CONFORMANCE.is_dir(), reason="shared/ is not beside the project")
@pytest.mark.parametrize("case", _validated_conformance_cases())
def test_conformance_inputs_resolve(case: dict[str, Any]) -> None:
    submitted = dict(case["inputs"])
    for input_id, generated in (case.get("inputsGenerated") or {}).items():
        submitted[input_id] = generated["repeat"] * generated["count"]
    resolved = _resolve(_flow_inputs(CONFORMANCE / "flows" / case["flow"]), submitted)
    assert set(resolved) == set(submitted)


def test_conformance_empty_variables() -> None:
    raws: list[dict[str, Any]] = [
        {"id": "emptyKey", "type": "JSON"},
        {"id": "emptySubObject", "type": "JSON"},
    ]
    submitted = {"emptyKey": '{ "foo": "" }', "emptySubObject": '{"json":{"someEmptyObject":{}}}'}
    assert _resolve(raws, submitted) == {
        "emptyKey": {"foo": ""},
        "emptySubObject": {"json": {"someEmptyObject": {}}},
    }


@pytest.mark.parametrize(
    ("raw", "submitted", "expected"),
    [
        pytest.param({"type": "INT"}, "42", 42, id="int"),
        pytest.param({"type": "FLOAT"}, "42.42", 42.42, id="float"),
        pytest.param({"type": "ARRAY", "itemType": "INT"}, "[1, 2, 3]", [1, 2, 3], id="array"),
        pytest.param({"type": "JSON"}, "{}", {}, id="json-empty"),
        pytest.param({"type": "STRING"}, "myString", "myString", id="string"),
        pytest.param({"type": "BOOLEAN"}, "true", True, id="boolean"),
        pytest.param({"type": "BOOL"}, "false", False, id="bool"),
        pytest.param(
            {"type": "DATETIME"},
            "2019-10-06T18:27:49Z",
            datetime(2019, 10, 6, 18, 27, 49, tzinfo=UTC),
            id="datetime",
        ),
        pytest.param({"type": "DATE"}, "2019-10-06", date(2019, 10, 6), id="date"),
        pytest.param({"type": "TIME"}, "18:27:49", time(18, 27, 49), id="time"),
        pytest.param(
            {"type": "DURATION"}, "PT5M6S", timedelta(minutes=5, seconds=6), id="duration"
        ),
        pytest.param({"type": "YAML"}, "- a\n- b\n", ["a", "b"], id="yaml"),
        pytest.param({"type": "URI"}, "https://kestra.io", "https://kestra.io", id="uri"),
        pytest.param({"type": "SECRET"}, "password", "password", id="secret"),
        pytest.param({"type": "EMAIL"}, "a@b.io", "a@b.io", id="email"),
        pytest.param({"type": "SELECT", "values": ["A", "B"]}, "B", "B", id="select"),
        pytest.param({"type": "ENUM", "values": ["A", "B"]}, "A", "A", id="enum"),
        pytest.param(
            {"type": "SELECT", "values": ["A"], "allowCustomValue": True}, "Z", "Z", id="custom"
        ),
        pytest.param(
            {"type": "MULTISELECT", "options": ["A", "B", "C"]},
            '["A", "C"]',
            ["A", "C"],
            id="multiselect",
        ),
        pytest.param(
            {"type": "MULTISELECT", "values": ["1", "2"], "itemType": "INT"},
            "[1, 2]",
            [1, 2],
            id="multiselect-int",
        ),
        pytest.param(
            {"type": "FILE"}, "kestra:///io/f/in.csv", "kestra:///io/f/in.csv", id="file-uri"
        ),
        pytest.param({"type": "INT"}, 42, 42, id="native-int"),
        pytest.param({"type": "JSON"}, {"a": [1]}, {"a": [1]}, id="native-json"),
        pytest.param({"type": "ARRAY", "itemType": "STRING"}, ["x"], ["x"], id="native-array"),
    ],
)
def test_submitted_values_are_typed(raw: dict[str, Any], submitted: Any, expected: Any) -> None:
    assert _resolve([{"id": "x", **raw}], {"x": submitted}) == {"x": expected}


@pytest.mark.parametrize(
    ("raw", "submitted", "problem"),
    [
        pytest.param(
            {"type": "STRING"},
            None,
            "x: Invalid input for `x`, missing required input, but received `null`",
            id="missing",
        ),
        pytest.param(
            {"type": "STRING", "validator": "^[a-z]+$"},
            "ABC",
            "x: Invalid input for `x`, it must match the pattern `^[a-z]+$`, but received `ABC`",
            id="regex",
        ),
        pytest.param(
            {"type": "STRING", "validator": "[a-z]+"},
            "abc1",
            "x: Invalid input for `x`, it must match the pattern `[a-z]+`, but received `abc1`",
            id="regex-full-match",
        ),
        pytest.param(
            {"type": "INT", "min": 10},
            "9",
            "x: Invalid input for `x`, it must be more than `10`, but received `9`",
            id="int-min",
        ),
        pytest.param(
            {"type": "INT", "max": 20},
            "21",
            "x: Invalid input for `x`, it must be less than `20`, but received `21`",
            id="int-max",
        ),
        pytest.param(
            {"type": "FLOAT", "min": 10.5},
            "1.5",
            "x: Invalid input for `x`, it must be more than `10.5`, but received `1.5`",
            id="float-min",
        ),
        pytest.param(
            {"type": "FLOAT", "max": 10},
            "10.01",
            "x: Invalid input for `x`, it must be less than `10.0`, but received `10.01`",
            id="float-max",
        ),
        pytest.param(
            {"type": "DURATION", "min": "PT10S"},
            "PT5S",
            "x: Invalid input for `x`, It must be more than `PT10S`, but received `PT5S`",
            id="duration-min",
        ),
        pytest.param(
            {"type": "DURATION", "max": "PT20S"},
            "PT1M",
            "x: Invalid input for `x`, It must be less than `PT20S`, but received `PT1M`",
            id="duration-max",
        ),
        pytest.param(
            {"type": "DATETIME", "after": "2023-12-24T00:00:00Z"},
            "2023-12-23T23:59:59Z",
            "x: Invalid input for `x`, it must be after `2023-12-24T00:00:00Z`, "
            "but received `2023-12-23T23:59:59Z`",
            id="datetime-after",
        ),
        pytest.param(
            {"type": "DATETIME", "before": "2023-12-24T00:00:00Z"},
            "2023-12-25T00:00:00Z",
            "x: Invalid input for `x`, it must be before `2023-12-24T00:00:00Z`, "
            "but received `2023-12-25T00:00:00Z`",
            id="datetime-before",
        ),
        pytest.param(
            {"type": "DATE", "after": "2023-12-24"},
            "2023-12-01",
            "x: Invalid input for `x`, it must be after `2023-12-24`, but received `2023-12-01`",
            id="date-after",
        ),
        pytest.param(
            {"type": "DATE", "before": "2023-12-24"},
            "2024-01-01",
            "x: Invalid input for `x`, it must be before `2023-12-24`, but received `2024-01-01`",
            id="date-before",
        ),
        pytest.param(
            {"type": "TIME", "after": "08:00:00"},
            "07:59:00",
            "x: Invalid input for `x`, it must be after `08:00`, but received `07:59:00`",
            id="time-after",
        ),
        pytest.param(
            {"type": "TIME", "before": "18:30:15"},
            "19:00:00",
            "x: Invalid input for `x`, it must be before `18:30:15`, but received `19:00:00`",
            id="time-before",
        ),
        pytest.param(
            {"type": "SELECT", "values": ["A", "B"]},
            "C",
            "x: Invalid input for `x`, it must match the values `[A, B]`, but received `C`",
            id="select",
        ),
        pytest.param(
            {"type": "ENUM", "values": ["A", "B"]},
            "C",
            "x: Invalid input for `x`, it must match the values `[A, B]`, but received `C`",
            id="enum",
        ),
        pytest.param(
            {"type": "MULTISELECT", "values": ["A", "B"]},
            '["A", "C"]',
            "x: Invalid input for `x`, it must match the values `[A, B]`, "
            'but received `["A", "C"]`',
            id="multiselect",
        ),
        pytest.param(
            {"type": "INT"},
            "abc",
            "x: Invalid input for `x`, Expected `INT` but received `abc`, but received `abc`",
            id="parse-failure",
        ),
        pytest.param(
            {"type": "URI"},
            "http:/bla",
            "x: Invalid input for `x`, Expected `URI` but received `http:/bla`, "
            "but received `http:/bla`",
            id="uri",
        ),
        pytest.param(
            {"type": "ARRAY", "itemType": "INT"},
            '["s1", "s2"]',
            "x: Invalid input for `x`, Unable to parse array element as `INT` on `s1`, "
            'but received `["s1", "s2"]`',
            id="array-element",
        ),
        pytest.param(
            {"type": "EMAIL"},
            "not an email",
            "x: Invalid input for `x`, The input must be a valid email, "
            "but received `not an email`",
            id="email",
        ),
        pytest.param(
            {"type": "FILE"},
            "/etc/passwd",
            "x: Invalid input for `x`, Expected `FILE` but received `/etc/passwd`, "
            "but received `/etc/passwd`",
            id="file-path",
        ),
        pytest.param(
            {"type": "SECRET", "validator": "^[0-9]+$"},
            "hunter2",
            "x: Invalid input for `x`, it must match the pattern `^[0-9]+$`, "
            "but received `********`",
            id="secret-is-masked",
        ),
    ],
)
def test_invalid_values_are_reported(raw: dict[str, Any], submitted: Any, problem: str) -> None:
    values = {} if submitted is None else {"x": submitted}
    assert _problems([{"id": "x", **raw}], values) == [problem]


def test_every_problem_is_reported_in_declaration_order() -> None:
    problems = _problems(
        [
            {"id": "a", "type": "INT"},
            {"id": "b", "type": "STRING"},
            {"id": "c", "type": "INT", "max": 3, "dependsOn": {"inputs": ["d"]}},
            {"id": "d", "type": "BOOLEAN"},
        ],
        {"a": "one", "c": "4", "d": "true"},
    )
    assert problems == [
        "a: Invalid input for `a`, Expected `INT` but received `one`, but received `one`",
        "b: Invalid input for `b`, missing required input, but received `null`",
        "c: Invalid input for `c`, it must be less than `3`, but received `4`",
    ]


def test_input_error_message_has_one_line_per_problem() -> None:
    with pytest.raises(InputError) as caught:
        _resolve([{"id": "a", "type": "INT"}, {"id": "b", "type": "INT"}], {})
    assert str(caught.value).splitlines() == caught.value.problems


def test_optional_input_without_value_is_null() -> None:
    assert _resolve([{"id": "x", "type": "INT", "required": False}], {}) == {"x": None}


def test_native_defaults_are_typed() -> None:
    raws: list[dict[str, Any]] = [
        {"name": "namespace", "type": "STRING", "required": False, "defaults": "io.kestra.tests"},
        {"name": "errorOnMissing", "type": "BOOLEAN", "required": False, "defaults": False},
        {"id": "delay", "type": "DURATION", "defaults": "PT1S"},
        {"id": "count", "type": "INT", "defaults": 3},
        {"id": "when", "type": "DATE", "defaults": date(2024, 1, 2)},
    ]
    assert _resolve(raws, {"errorOnMissing": "true"}) == {
        "namespace": "io.kestra.tests",
        "errorOnMissing": True,
        "delay": timedelta(seconds=1),
        "count": 3,
        "when": date(2024, 1, 2),
    }


def test_submitted_value_wins_over_defaults_without_rendering() -> None:
    renderer = FakeRenderer()
    raws = [{"id": "x", "type": "STRING", "defaults": "{{ now() }}"}]
    assert _resolve(raws, {"x": "given"}, renderer) == {"x": "given"}
    assert renderer.calls == []


def test_template_defaults_are_rendered_with_the_inputs_so_far() -> None:
    now = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    renderer = FakeRenderer(
        {
            "{{ now() }}": lambda _: now,
            "{{ inputs.user.name ~ '@example.com' }}": (
                lambda v: _inputs(v)["user"]["name"] + "@example.com"
            ),
        }
    )
    raws: list[dict[str, Any]] = [
        {"id": "user.name", "type": "STRING"},
        {"id": "start", "type": "DATETIME", "defaults": "{{ now() }}"},
        {"id": "email", "type": "EMAIL", "defaults": "{{ inputs.user.name ~ '@example.com' }}"},
    ]
    assert _resolve(raws, {"user.name": "ada"}, renderer) == {
        "user": {"name": "ada"},
        "start": now,
        "email": "ada@example.com",
    }
    assert renderer.calls[1][1] == {"inputs": {"user": {"name": "ada"}, "start": now}}


def test_defaults_without_a_template_are_not_rendered() -> None:
    renderer = FakeRenderer()
    assert _resolve([{"id": "x", "type": "STRING", "defaults": "a { b }"}], {}, renderer) == {
        "x": "a { b }"
    }
    assert renderer.calls == []


def test_defaults_that_do_not_render_are_reported() -> None:
    problems = _problems([{"id": "x", "type": "STRING", "defaults": "{{ nope }}"}], {})
    assert problems == [
        "x: Invalid input for `x`, Cannot render 'defaults'. Cause: Unable to render "
        "`{{ nope }}`, but received `{{ nope }}`"
    ]


def test_dotted_ids_are_nested() -> None:
    raws: list[dict[str, Any]] = [
        {"id": "nested.more.int", "type": "INT"},
        {"id": "nested.more.string", "type": "STRING"},
        {"id": "nested.bool", "type": "BOOLEAN"},
        {"id": "flat", "type": "STRING"},
    ]
    submitted = {"nested.more.int": "1", "nested.more.string": "s", "nested.bool": "true"}
    assert _resolve(raws, {**submitted, "flat": "f"}) == {
        "nested": {"more": {"int": 1, "string": "s"}, "bool": True},
        "flat": "f",
    }


def test_undeclared_submitted_values_are_ignored_and_listed() -> None:
    raws = [{"id": "a", "type": "STRING"}]
    submitted = {"a": "x", "b": "y"}
    assert _resolve(raws, submitted) == {"a": "x"}
    assert undeclared_inputs(_decls(*raws), submitted) == ["b"]


CONDITION = "{{ inputs.kind == 'custom' }}"


def _kind_renderer() -> FakeRenderer:
    return FakeRenderer({CONDITION: lambda v: _inputs(v).get("kind") == "custom"})


def _conditional_raws() -> list[dict[str, Any]]:
    # The dependent is declared first: resolution must still take its dependency first.
    return [
        {
            "id": "custom",
            "type": "STRING",
            "dependsOn": {"inputs": ["kind"], "condition": CONDITION},
        },
        {"id": "kind", "type": "SELECT", "values": ["default", "custom"]},
        {"id": "after", "type": "STRING", "required": False, "dependsOn": {"inputs": ["custom"]}},
    ]


def test_depends_on_condition_true_keeps_the_input() -> None:
    submitted = {"kind": "custom", "custom": "mine", "after": "x"}
    assert _resolve(_conditional_raws(), submitted, _kind_renderer()) == {
        "custom": "mine",
        "kind": "custom",
        "after": "x",
    }


def test_depends_on_condition_false_drops_the_input_and_its_dependents() -> None:
    submitted = {"kind": "default", "after": "x"}
    assert _resolve(_conditional_raws(), submitted, _kind_renderer()) == {"kind": "default"}


def test_depends_on_condition_must_be_boolean_true() -> None:
    renderer = FakeRenderer({"{{ 'true' }}": lambda _: "true"})
    raws = [{"id": "x", "type": "STRING", "dependsOn": {"condition": "{{ 'true' }}"}}]
    assert _resolve(raws, {"x": "v"}, renderer) == {}


def test_depends_on_condition_that_does_not_render_is_reported() -> None:
    def undefined(_: Mapping[str, Any]) -> Any:
        raise UndefinedVariableError("Missing variable: 'other'")

    renderer = FakeRenderer({"{{ inputs.other }}": undefined})
    raws = [{"id": "x", "type": "STRING", "dependsOn": {"condition": "{{ inputs.other }}"}}]
    assert _problems(raws, {"x": "v"}, renderer) == [
        "x: Invalid condition: Missing variable: 'other'"
    ]


def test_dependents_of_a_failed_input_are_not_reported_again() -> None:
    raws: list[dict[str, Any]] = [
        {"id": "a", "type": "INT"},
        {"id": "b", "type": "STRING", "dependsOn": {"inputs": ["a"]}},
    ]
    assert _problems(raws, {"a": "x"}) == [
        "a: Invalid input for `a`, Expected `INT` but received `x`, but received `x`"
    ]


def test_dependency_cycles_do_not_loop() -> None:
    raws: list[dict[str, Any]] = [
        {"id": "a", "type": "STRING", "dependsOn": {"inputs": ["b"]}},
        {"id": "b", "type": "STRING", "dependsOn": {"inputs": ["a", "b", "unknown"]}},
    ]
    assert _resolve(raws, {"a": "1", "b": "2"}) == {"a": "1", "b": "2"}


def test_select_expression_gives_the_values() -> None:
    expression = "{{ ['A', 'B', null, 3] }}"
    renderer = FakeRenderer({expression: lambda _: ["A", "B", None, 3]})
    raws = [{"id": "x", "type": "SELECT", "expression": expression}]
    assert _resolve(raws, {"x": "3"}, renderer) == {"x": "3"}
    assert _problems(raws, {"x": "C"}, renderer) == [
        "x: Invalid input for `x`, it must match the values `[A, B, 3]`, but received `C`"
    ]


def test_multiselect_expression_replaces_the_options() -> None:
    expression = "{{ inputs.region == 'eu' ? ['paris'] : ['ohio'] }}"
    renderer = FakeRenderer(
        {expression: lambda v: ["paris"] if _inputs(v)["region"] == "eu" else ["ohio"]}
    )
    raws: list[dict[str, Any]] = [
        {"id": "region", "type": "STRING"},
        {
            "id": "cities",
            "type": "MULTISELECT",
            "options": ["unused"],
            "expression": expression,
            "dependsOn": {"inputs": ["region"]},
        },
    ]
    assert _resolve(raws, {"region": "eu", "cities": '["paris"]'}, renderer) == {
        "region": "eu",
        "cities": ["paris"],
    }


def test_expression_that_is_not_a_list_is_reported() -> None:
    renderer = FakeRenderer({"{{ 'A' }}": lambda _: "A"})
    raws = [{"id": "x", "type": "SELECT", "expression": "{{ 'A' }}"}]
    assert _problems(raws, {"x": "A"}, renderer) == [
        "x: Invalid input for `x`, Invalid expression result. Expected a list of strings, "
        "but received String, but received `{{ 'A' }}`"
    ]


def test_expression_that_does_not_render_is_reported() -> None:
    raws = [{"id": "x", "type": "SELECT", "expression": "{{ broken }}"}]
    assert _problems(raws, {"x": "A"}) == [
        "x: Invalid input for `x`, Cannot render 'expression'. Cause: Unable to render "
        "`{{ broken }}`, but received `{{ broken }}`"
    ]


class FakeStorage:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def store(self, input_id: str, filename: str, data: bytes) -> str:
        uri = f"kestra:///io/kestra/tests/flow/executions/e1/inputs/{input_id}/{filename}"
        self.files[uri] = data
        return uri


@pytest.mark.parametrize(
    ("raw", "upload", "filename"),
    [
        pytest.param({}, Upload("data.csv", b"a,b"), "data.csv", id="named-upload"),
        pytest.param({}, b"a,b", "file.upl", id="bytes"),
        pytest.param({"extension": "csv"}, b"a,b", "file.csv", id="bytes-with-extension"),
    ],
)
def test_file_uploads_are_stored(raw: dict[str, Any], upload: Any, filename: str) -> None:
    storage = FakeStorage()
    decls = _decls({"id": "file", "type": "FILE", **raw})
    resolved = resolve_inputs(
        decls, {"file": upload}, render_typed=FakeRenderer(), store_file=storage.store
    )
    uri = f"kestra:///io/kestra/tests/flow/executions/e1/inputs/file/{filename}"
    assert resolved == {"file": uri}
    assert storage.files == {uri: b"a,b"}


def test_file_upload_without_storage_is_reported() -> None:
    assert _problems([{"id": "file", "type": "FILE"}], {"file": b"x"}) == [
        "file: Invalid input for `file`, the file `file.upl` cannot be uploaded here, "
        "but received `file.upl`"
    ]


def test_no_inputs_resolve_to_nothing() -> None:
    assert resolve_inputs([], {"a": "1"}, render_typed=FakeRenderer()) == {}
