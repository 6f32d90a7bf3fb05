"""JSON schemas for the flow editor, built from the models that validate flows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from pydantic import BaseModel

from lanner.flow_parser import validate_flow
from lanner.schemas import (
    TEMPLATE_SCHEMA,
    attribute_docs,
    plugin_schema,
    registered_types,
    schema_document,
    type_names,
)
from lanner.tasks import known_types, lookup
from lanner.yamlsource import load_yaml

SEED = Path(__file__).parents[3] / "shared" / "seed"
CONFORMANCE = Path(__file__).parents[3] / "shared" / "kestra-conformance" / "flows"
LOG = "io.kestra.plugin.core.log.Log"


@pytest.fixture(scope="module")
def flow_schema() -> dict[str, Any]:
    return schema_document("flow")


@pytest.fixture(scope="module")
def validator(flow_schema: dict[str, Any]) -> jsonschema_rs.Draft7Validator:
    return jsonschema_rs.Draft7Validator(flow_schema)


def definition(document: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = document["definitions"][name]
    return found


def test_the_flow_document_is_draft_07_with_kestra_layout(flow_schema: dict[str, Any]) -> None:
    assert flow_schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert flow_schema["$ref"] == "#/definitions/Flow"
    flow = definition(flow_schema, "Flow")
    assert flow["required"] == ["id", "namespace", "tasks"]
    assert flow["properties"]["tasks"]["items"] == {"$ref": "#/definitions/Task"}
    assert flow["additionalProperties"] is False
    json.dumps(flow_schema)


@pytest.mark.parametrize(("kind", "ref"), [("task", "Task"), ("trigger", "Trigger")])
def test_task_and_trigger_documents_point_at_their_union(kind: str, ref: str) -> None:
    document = schema_document(kind)
    assert document["$ref"] == f"#/definitions/{ref}"
    assert "oneOf" in definition(document, ref)


def test_a_list_document_describes_an_array() -> None:
    document = schema_document("flow", array=True)
    assert document["type"] == "array"
    assert document["items"] == {"$ref": "#/definitions/Flow"}


def test_every_registered_task_is_one_member_of_the_task_union(
    flow_schema: dict[str, Any],
) -> None:
    members = definition(flow_schema, "Task")["oneOf"]
    assert members == [{"$ref": f"#/definitions/{name}"} for name in known_types()]


def test_a_task_type_lists_its_canonical_name_first_then_its_aliases(
    flow_schema: dict[str, Any],
) -> None:
    log = definition(flow_schema, LOG)
    assert log["properties"]["type"]["enum"] == [LOG, "io.kestra.core.tasks.log.Log"]
    assert log["x-aliases"] == ["io.kestra.core.tasks.log.Log"]
    assert log["required"] == ["id", "type", "message"]
    assert log["description"] == "Write one log line per message, at `level`."


def test_enums_defaults_and_log_levels_are_written_as_in_flows(
    flow_schema: dict[str, Any],
) -> None:
    log = definition(flow_schema, LOG)["properties"]
    assert log["level"]["default"] == "INFO"
    assert definition(flow_schema, "Level")["enum"] == ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"]
    request = definition(flow_schema, "io.kestra.plugin.core.http.Request")["properties"]
    assert request["method"]["default"] == "GET"


def test_a_dynamic_property_accepts_its_type_or_an_expression(
    flow_schema: dict[str, Any],
) -> None:
    duration = definition(flow_schema, "io.kestra.plugin.core.flow.Sleep")["properties"]["duration"]
    assert {"format": "duration", "type": "string"} in duration["anyOf"]
    assert {"$ref": "#/definitions/Expr"} in duration["anyOf"]
    assert definition(flow_schema, "Expr") == TEMPLATE_SCHEMA


def test_property_titles_are_left_out(flow_schema: dict[str, Any]) -> None:
    assert "title" not in definition(flow_schema, LOG)["properties"]["message"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param(LOG, [LOG, "io.kestra.core.tasks.log.Log"], id="moved"),
        pytest.param(
            "io.kestra.plugin.core.http.Request",
            ["io.kestra.plugin.core.http.Request", "io.kestra.plugin.fs.http.Request"],
            id="moved-plugin",
        ),
        pytest.param(
            "io.kestra.plugin.core.kv.Get", ["io.kestra.plugin.core.kv.Get"], id="no-alias"
        ),
    ],
)
def test_type_names(name: str, expected: list[str]) -> None:
    assert type_names(name) == expected


def test_registered_types_give_each_family_by_name() -> None:
    tasks = registered_types("Task")
    assert [item.name for item in tasks] == known_types()
    assert all(item.cls is lookup(item.name) for item in tasks)
    triggers = [item.name for item in registered_types("Trigger")]
    assert "io.kestra.plugin.core.trigger.Schedule" in triggers
    conditions = {item.name: item.names for item in registered_types("Condition")}
    expression = conditions["io.kestra.plugin.core.condition.Expression"]
    assert "io.kestra.plugin.core.condition.ExpressionCondition" in expression


def test_an_input_may_still_be_named_by_its_old_name_property(
    flow_schema: dict[str, Any],
) -> None:
    string = definition(flow_schema, "Input.STRING")
    assert string["properties"]["name"]["deprecated"] is True
    assert {"required": ["name"]} in string["anyOf"]
    assert string["properties"]["type"]["const"] == "STRING"


class _Documented(BaseModel):
    plain: int = 0

    documented: str = ""
    """What this property is for.

    More about it."""


def test_attribute_docstrings_become_descriptions() -> None:
    assert attribute_docs(_Documented) == {
        "documented": "What this property is for.\n\nMore about it."
    }


def test_a_plugin_schema_holds_the_type_properties_and_the_definitions() -> None:
    log = lookup(LOG)
    assert log is not None
    schema = plugin_schema(log)
    assert schema["properties"]["message"]
    assert "message" in schema["required"]
    assert schema["outputs"] == {}
    assert "Task" in schema["definitions"]


def _valid_flows() -> list[Any]:
    paths = sorted(SEED.glob("*.yml")) + sorted(CONFORMANCE.glob("*.y*ml"))
    found = []
    for path in paths:
        text = path.read_text(encoding="utf-8")
        if validate_flow(text).model is not None:
            found.append(pytest.param(text, id=path.name))
    return found


@pytest.mark.parametrize("source", _valid_flows())
def test_every_flow_lanner_accepts_is_valid_for_the_schema(
    validator: jsonschema_rs.Draft7Validator, source: str
) -> None:
    errors = [error.message for error in validator.iter_errors(load_yaml(source).value)]
    assert errors == []


@pytest.mark.parametrize(
    "tasks",
    [
        pytest.param("[{id: a, type: io.kestra.plugin.core.log.Nope, message: x}]", id="type"),
        pytest.param(f"[{{id: a, type: {LOG}, message: x, colour: red}}]", id="property"),
        pytest.param(f"[{{id: a, type: {LOG}}}]", id="required"),
        pytest.param(f"[{{id: a, type: {LOG}, message: x, level: LOUD}}]", id="enum"),
    ],
)
def test_the_schema_refuses_what_the_parser_refuses(
    validator: jsonschema_rs.Draft7Validator, tasks: str
) -> None:
    source = f"id: f\nnamespace: n\ntasks: {tasks}\n"
    assert validate_flow(source).model is None
    assert not validator.is_valid(load_yaml(source).value)


CHECKS_FLOW = """id: c
namespace: t
checks:
  - %s: "{{ inputs.n > 0 }}"
    message: n must be positive
tasks:
  - id: a
    type: io.kestra.plugin.core.log.Log
    message: hi
"""


@pytest.mark.parametrize("name", ["condition", "when"])
def test_a_check_is_valid_with_condition_or_when(
    validator: jsonschema_rs.Draft7Validator, name: str
) -> None:
    assert validator.is_valid(load_yaml(CHECKS_FLOW % name).value)
    assert validate_flow(CHECKS_FLOW % name).model is not None


def test_a_check_without_condition_is_invalid_for_the_schema(
    validator: jsonschema_rs.Draft7Validator,
) -> None:
    without_condition = CHECKS_FLOW.replace(
        '  - %s: "{{ inputs.n > 0 }}"\n    message', "  - message"
    )
    assert not validator.is_valid(load_yaml(without_condition).value)
