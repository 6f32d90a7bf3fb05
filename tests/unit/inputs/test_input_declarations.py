from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from lanner.inputs import (
    INPUT_TYPES,
    TYPE_NAMES,
    ArrayInput,
    BooleanInput,
    DateInput,
    DateTimeInput,
    DependsOn,
    DurationInput,
    EmailInput,
    EnumInput,
    FileInput,
    FloatInput,
    InputDeclaration,
    IntInput,
    JsonInput,
    MultiselectInput,
    SecretInput,
    SelectInput,
    StringInput,
    TimeInput,
    UriInput,
    YamlInput,
    check_declarations,
    parse_input,
    secret_input_ids,
)

CONFORMANCE_FLOWS = Path(__file__).resolve().parents[4] / "shared" / "kestra-conformance" / "flows"


@pytest.mark.parametrize(
    ("raw", "expected_class"),
    [
        pytest.param({"type": "STRING", "validator": "^a+$"}, StringInput, id="string"),
        pytest.param({"type": "INT", "min": 1, "max": 9}, IntInput, id="int"),
        pytest.param({"type": "FLOAT", "min": 0.5}, FloatInput, id="float"),
        pytest.param({"type": "BOOLEAN"}, BooleanInput, id="boolean"),
        pytest.param({"type": "BOOL"}, BooleanInput, id="bool"),
        pytest.param({"type": "DATETIME", "after": "2023-01-01T00:00:00Z"}, DateTimeInput, id="dt"),
        pytest.param({"type": "DATE", "before": "2023-01-01"}, DateInput, id="date"),
        pytest.param({"type": "TIME", "after": "08:00:00"}, TimeInput, id="time"),
        pytest.param({"type": "DURATION", "min": "PT1M", "max": "PT1H"}, DurationInput, id="dur"),
        pytest.param({"type": "FILE", "extension": ".csv"}, FileInput, id="file"),
        pytest.param({"type": "JSON"}, JsonInput, id="json"),
        pytest.param({"type": "YAML"}, YamlInput, id="yaml"),
        pytest.param({"type": "URI"}, UriInput, id="uri"),
        pytest.param({"type": "SECRET", "validator": "\\w+"}, SecretInput, id="secret"),
        pytest.param({"type": "ARRAY", "itemType": "INT"}, ArrayInput, id="array"),
        pytest.param(
            {"type": "SELECT", "values": ["A"], "allowCustomValue": True, "isRadio": True},
            SelectInput,
            id="select",
        ),
        pytest.param({"type": "SELECT", "expression": "{{ [1] }}"}, SelectInput, id="select-expr"),
        pytest.param({"type": "ENUM", "values": ["A", "B"]}, EnumInput, id="enum"),
        pytest.param({"type": "MULTISELECT", "values": ["A"]}, MultiselectInput, id="multiselect"),
        pytest.param({"type": "MULTISELECT", "options": ["A"]}, MultiselectInput, id="ms-options"),
        pytest.param({"type": "EMAIL"}, EmailInput, id="email"),
    ],
)
def test_parse_input_picks_the_class_by_type(
    raw: dict[str, Any], expected_class: type[InputDeclaration]
) -> None:
    decl = parse_input({"id": "x", **raw})
    assert type(decl) is expected_class
    assert decl.type == raw["type"]
    assert decl.required is True


def test_input_types_cover_every_type_name() -> None:
    assert set(INPUT_TYPES) == set(TYPE_NAMES)


def test_common_fields() -> None:
    decl = parse_input(
        {
            "id": "nested.more.int",
            "type": "INT",
            "description": "A number",
            "displayName": "Number",
            "required": False,
            "defaults": 3,
            "prefill": 4,
            "dependsOn": {"inputs": ["a"], "condition": "{{ inputs.a }}"},
        }
    )
    assert decl.id == "nested.more.int"
    assert decl.display_name == "Number"
    assert decl.required is False
    assert decl.defaults == 3
    assert decl.prefill == 4
    assert decl.depends_on == DependsOn(inputs=("a",), condition="{{ inputs.a }}")
    assert decl.dependencies() == ("a",)


def test_old_name_alias_gives_the_id() -> None:
    assert parse_input({"name": "namespace", "type": "STRING"}).id == "namespace"


def test_python_names_are_rejected_as_kestra_does() -> None:
    with pytest.raises(ValidationError, match="item_type"):
        parse_input({"id": "a", "type": "ARRAY", "item_type": "INT"})


def test_declarations_are_frozen() -> None:
    decl = StringInput(id="a")
    with pytest.raises(ValidationError):
        decl.id = "b"


def test_typed_properties_are_read() -> None:
    assert parse_input({"id": "d", "type": "DURATION", "min": "PT1M"}) == DurationInput(
        id="d", min=timedelta(minutes=1)
    )
    moment = parse_input({"id": "t", "type": "DATETIME", "after": "2023-12-24T01:00:00+01:00"})
    assert isinstance(moment, DateTimeInput)
    assert moment.after == datetime(2023, 12, 24, tzinfo=UTC)
    # PyYAML reads unquoted timestamps itself; a naive one is taken as UTC.
    native = parse_input({"id": "t", "type": "DATETIME", "before": datetime(2023, 12, 24)})
    assert isinstance(native, DateTimeInput)
    assert native.before == datetime(2023, 12, 24, tzinfo=UTC)
    day = parse_input({"id": "d", "type": "DATE", "after": date(2023, 1, 1)})
    assert isinstance(day, DateInput)
    assert day.after == date(2023, 1, 1)
    clock = parse_input({"id": "c", "type": "TIME", "before": "18:00"})
    assert isinstance(clock, TimeInput)
    assert clock.before == time(18)


def test_select_values_are_read_as_text() -> None:
    decl = parse_input({"id": "s", "type": "SELECT", "values": [1, 2.5, True, "x"]})
    assert isinstance(decl, SelectInput)
    assert decl.values == ("1", "2.5", "true", "x")


def _error(raw: Mapping[str, Any]) -> dict[str, Any]:
    with pytest.raises(ValidationError) as caught:
        parse_input(raw)
    errors = caught.value.errors()
    assert len(errors) == 1
    return dict(errors[0])


@pytest.mark.parametrize(
    ("raw", "location", "message"),
    [
        pytest.param({"id": "a", "type": "NUMBER"}, ("type",), "Invalid type: NUMBER", id="type"),
        pytest.param({"id": "a", "type": 3}, ("type",), "Invalid type: 3", id="type-not-text"),
        pytest.param({"id": "a"}, ("type",), "Field required", id="type-missing"),
        pytest.param({"type": "STRING"}, ("id",), "Field required", id="id-missing"),
        pytest.param({"id": "a b", "type": "STRING"}, ("id",), "should match", id="id-pattern"),
        pytest.param({"id": ".a", "type": "STRING"}, ("id",), "should match", id="id-leading-dot"),
        pytest.param(
            {"id": "a", "type": "STRING", "displayName": "x" * 65},
            ("displayName",),
            "at most 64 characters",
            id="display-name-length",
        ),
        pytest.param(
            {"id": "a", "type": "STRING", "foo": 1},
            ("foo",),
            "Extra inputs are not permitted",
            id="unknown-field",
        ),
        pytest.param(
            {"id": "a", "type": "INT", "validator": "x"},
            ("validator",),
            "Extra inputs are not permitted",
            id="field-of-another-type",
        ),
        pytest.param(
            {"id": "a", "type": "STRING", "validator": "("},
            ("validator",),
            "invalid regular expression",
            id="bad-regex",
        ),
        pytest.param({"id": "a", "type": "ARRAY"}, ("itemType",), "Field required", id="no-item"),
        pytest.param(
            {"id": "a", "type": "ARRAY", "itemType": "NUMBER"},
            ("itemType",),
            "Invalid type: NUMBER",
            id="bad-item-type",
        ),
        pytest.param(
            {"id": "a", "type": "DURATION", "min": "5 minutes"},
            ("min",),
            "cannot be parsed to a Duration",
            id="bad-duration",
        ),
        pytest.param(
            {"id": "a", "type": "SELECT"}, (), "one of `values` or `expression`", id="select-empty"
        ),
        pytest.param({"id": "a", "type": "ENUM"}, ("values",), "Field required", id="enum-empty"),
        pytest.param(
            {"id": "a", "type": "MULTISELECT", "values": ["A"], "options": ["B"]},
            (),
            "you can't define both `values` and `options`",
            id="multiselect-both",
        ),
        pytest.param(
            {"id": "a", "type": "STRING", "dependsOn": {"input": ["b"]}},
            ("dependsOn", "input"),
            "Extra inputs are not permitted",
            id="depends-on-field",
        ),
    ],
)
def test_parse_input_refuses(raw: dict[str, Any], location: tuple[str, ...], message: str) -> None:
    error = _error(raw)
    assert error["loc"] == location
    assert message in error["msg"]


def test_invalid_type_lists_the_known_types() -> None:
    assert "known types: STRING, INT, FLOAT" in _error({"id": "a", "type": "NUMBER"})["msg"]


def _decls(*raws: dict[str, Any]) -> list[InputDeclaration]:
    return [parse_input(raw) for raw in raws]


def _string(input_id: str, *depends_on: str) -> dict[str, Any]:
    raw: dict[str, Any] = {"id": input_id, "type": "STRING"}
    if depends_on:
        raw["dependsOn"] = {"inputs": list(depends_on)}
    return raw


@pytest.mark.parametrize(
    ("raws", "expected"),
    [
        pytest.param([_string("a"), _string("b", "a")], [], id="valid"),
        pytest.param(
            [_string("x"), _string("y"), _string("x"), _string("y"), _string("x")],
            ["Duplicate input with name [x, y]"],
            id="duplicates",
        ),
        pytest.param(
            [_string("a", "b")],
            ["Input with id 'a' depends on a non-existent input 'b'."],
            id="unknown-dependency",
        ),
        pytest.param(
            [_string("a", "b"), _string("b", "a")],
            [
                "Cycle dependency detected for input with id 'a': [a, b]",
                "Cycle dependency detected for input with id 'b': [b, a]",
            ],
            id="cycle",
        ),
        pytest.param(
            [_string("a", "a")],
            ["Cycle dependency detected for input with id 'a': [a]"],
            id="self-dependency",
        ),
        pytest.param(
            [_string("c", "a"), _string("a", "b"), _string("b", "a")],
            [
                "Cycle dependency detected for input with id 'c': [a, b]",
                "Cycle dependency detected for input with id 'a': [a, b]",
                "Cycle dependency detected for input with id 'b': [b, a]",
            ],
            id="reaching-a-cycle",
        ),
        pytest.param(
            [{"id": "f", "type": "FILE", "defaults": "kestra:///a"}],
            ["no `defaults` can be set for inputs of type 'FILE'"],
            id="file-defaults",
        ),
        pytest.param(
            [{"id": "a", "type": "ARRAY", "itemType": "ARRAY"}],
            ["`itemType` cannot be `ARRAY`"],
            id="array-of-arrays",
        ),
        pytest.param(
            [_string("a"), _string("a.b")],
            ["Input with id 'a.b' conflicts with input 'a'"],
            id="nesting-conflict",
        ),
    ],
)
def test_check_declarations(raws: list[dict[str, Any]], expected: list[str]) -> None:
    assert check_declarations(_decls(*raws)) == expected


def test_check_declarations_reports_every_problem() -> None:
    problems = check_declarations(
        _decls(
            _string("a", "missing"),
            _string("a"),
            {"id": "f", "type": "FILE", "defaults": "x"},
        )
    )
    assert problems == [
        "Duplicate input with name [a]",
        "Input with id 'a' depends on a non-existent input 'missing'.",
        "no `defaults` can be set for inputs of type 'FILE'",
    ]


def test_secret_input_ids() -> None:
    decls = _decls(
        {"id": "password", "type": "SECRET"},
        {"id": "user", "type": "STRING"},
        {"id": "db.token", "type": "SECRET"},
    )
    assert secret_input_ids(decls) == {"password", "db.token"}


def _conformance_inputs() -> list[Any]:
    if not CONFORMANCE_FLOWS.is_dir():
        return []
    params = []
    for path in sorted(CONFORMANCE_FLOWS.iterdir()):
        flow = yaml.safe_load(path.read_text())
        if isinstance(flow, dict) and flow.get("inputs"):
            params.append(pytest.param(flow["inputs"], id=path.name))
    return params


@pytest.mark.skipif(not CONFORMANCE_FLOWS.is_dir(), reason="shared/ is not beside the project")
@pytest.mark.parametrize("raws", _conformance_inputs())
def test_conformance_flow_inputs_parse_and_validate(raws: list[dict[str, Any]]) -> None:
    assert check_declarations(_decls(*raws)) == []


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        pytest.param("ada@example.com", None, id="valid"),
        pytest.param("", None, id="blank"),
        pytest.param("ada@example.com\n", "The input must be a valid email", id="newline"),
        pytest.param("ada.example.com", "The input must be a valid email", id="no-at"),
    ],
)
def test_email_check(value: str, reason: str | None) -> None:
    assert EmailInput(id="e").check_value(value) == reason
