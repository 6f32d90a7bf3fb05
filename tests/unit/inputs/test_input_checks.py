"""`check_inputs`: the report on each input of a form, from the same resolution as execution."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tests.unit.inputs.test_input_resolution import FakeRenderer

from lanner.exceptions import UndefinedVariableError
from lanner.inputs import InputCheck, check_inputs, parse_input


def _check(
    raws: list[dict[str, Any]],
    submitted: Mapping[str, Any],
    renderer: FakeRenderer | None = None,
) -> list[InputCheck]:
    decls = [parse_input(raw) for raw in raws]
    return check_inputs(decls, submitted, render_typed=renderer or FakeRenderer())


def _summary(checks: list[InputCheck]) -> list[tuple[str, Any, bool, tuple[str, ...]]]:
    return [(c.declaration.id, c.value, c.enabled, c.problems) for c in checks]


def test_every_declared_input_is_reported_in_declaration_order() -> None:
    raws: list[dict[str, Any]] = [
        {"id": "count", "type": "INT"},
        {"id": "name", "type": "STRING", "required": False},
        {"id": "size", "type": "INT", "defaults": 3},
        {"id": "when", "type": "DATE"},
    ]
    checks = _check(raws, {"count": "7", "when": "soon", "other": "ignored"})
    assert _summary(checks) == [
        ("count", 7, True, ()),
        ("name", None, True, ()),
        ("size", 3, True, ()),
        (
            "when",
            "soon",
            True,
            (
                "when: Invalid input for `when`, Expected `DATE` but received `soon`, "
                "but received `soon`",
            ),
        ),
    ]


def test_a_missing_required_input_is_enabled_with_its_problem_and_no_value() -> None:
    checks = _check([{"id": "count", "type": "INT"}], {})
    assert _summary(checks) == [
        (
            "count",
            None,
            True,
            ("count: Invalid input for `count`, missing required input, but received `null`",),
        )
    ]


def test_inputs_left_out_by_depends_on_are_disabled_without_problems() -> None:
    renderer = FakeRenderer(
        {"{{ inputs.kind == 'custom' }}": lambda v: v["inputs"]["kind"] == "custom"}
    )
    raws: list[dict[str, Any]] = [
        {"id": "kind", "type": "SELECT", "values": ["default", "custom"]},
        {
            "id": "custom",
            "type": "INT",
            "dependsOn": {"inputs": ["kind"], "condition": "{{ inputs.kind == 'custom' }}"},
        },
    ]
    checks = _check(raws, {"kind": "default", "custom": "x"}, renderer)
    assert _summary(checks) == [("kind", "default", True, ()), ("custom", "x", False, ())]


def test_a_condition_that_does_not_render_disables_the_input_with_its_problem() -> None:
    def undefined(_: Mapping[str, Any]) -> Any:
        raise UndefinedVariableError("Missing variable: 'other'")

    renderer = FakeRenderer({"{{ inputs.other }}": undefined})
    raws = [{"id": "x", "type": "STRING", "dependsOn": {"condition": "{{ inputs.other }}"}}]
    assert _summary(_check(raws, {"x": "v"}, renderer)) == [
        ("x", "v", False, ("x: Invalid condition: Missing variable: 'other'",))
    ]


def test_the_declaration_reported_has_its_expression_rendered() -> None:
    expression = "{{ ['A', 'B'] }}"
    renderer = FakeRenderer({expression: lambda _: ["A", "B"]})
    raws = [{"id": "x", "type": "SELECT", "expression": expression}]
    [check] = _check(raws, {"x": "C"}, renderer)
    assert check.declaration.model_dump()["values"] == ("A", "B")
    assert check.problems
    assert "x: Invalid input for `x`" in check.problems[0]
