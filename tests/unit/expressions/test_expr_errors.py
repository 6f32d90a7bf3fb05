"""Error messages: every failure is an ExpressionError that names the template and the line."""

from __future__ import annotations

from typing import Any

import pytest

from lanner.exceptions import (
    ExpressionError,
    ExpressionSyntaxError,
    UndefinedVariableError,
)
from lanner.expressions import CallContext, compile_template, render


def message(template: str, variables: dict[str, Any] | None = None, **kwargs: Any) -> str:
    with pytest.raises(ExpressionError) as error:
        render(template, variables or {}, **kwargs)
    return str(error.value)


def test_undefined_variable_message_is_exact() -> None:
    assert message("{{ missing }}") == (
        "Unable to find `missing` used in the expression `{{ missing }}` at line 1"
    )


def test_undefined_variable_names_the_line_of_the_expression() -> None:
    template = "first\nsecond\n{{ outputs.t.body }}"
    assert message(template, {"outputs": {}}) == (
        f"Unable to find `t` used in the expression `{template}` at line 3"
    )


def test_syntax_error_points_at_the_column_with_a_caret() -> None:
    assert message("{{ a + }}") == (
        'Unexpected token "}}" in `{{ a + }}` at line 1, column 8\n{{ a + }}\n       ^'
    )


def test_syntax_error_on_a_later_line_shows_that_line() -> None:
    template = "a\n  {{ x | }}\nb"
    assert message(template) == (
        f'Unexpected token "}}}}" in `{template}` at line 2, column 10\n  {{{{ x | }}}}\n         ^'
    )


def test_division_by_zero_names_the_template() -> None:
    assert message("{{ 1 / 0 }}") == "Division by zero in `{{ 1 / 0 }}` at line 1"


def test_unknown_filter_names_the_template_and_line() -> None:
    text = message("x\n{{ value | foo }}")
    assert text.startswith("Unknown filter 'foo' in `x\n{{ value | foo }}` at line 2, column 12")


def test_errors_raised_below_a_statement_report_its_line() -> None:
    template = "a\n{% for x in items %}\n{{ x | chunk(2) }}\n{% endfor %}"
    text = message(template, {"items": ["not a list"]})
    assert text == f"'chunk' filter expects a list, got string in `{template}` at line 3"


def test_foreign_errors_are_wrapped_with_their_cause() -> None:
    with pytest.raises(ExpressionError) as error:
        render("{{ 'a' | upper(1, 2) }}", {})
    assert "upper() takes 1 positional argument" in str(error.value)
    assert isinstance(error.value.__cause__, TypeError)
    assert str(error.value).endswith("in `{{ 'a' | upper(1, 2) }}` at line 1")


def test_errors_of_extra_functions_are_wrapped() -> None:
    def broken(call: CallContext) -> Any:
        raise KeyError("boom")

    with pytest.raises(ExpressionError) as error:
        render("{{ broken() }}", {}, {"broken": broken})
    assert isinstance(error.value.__cause__, KeyError)
    assert "in `{{ broken() }}` at line 1" in str(error.value)


def test_expression_errors_of_extra_functions_pass_through() -> None:
    def secret(call: CallContext, key: str) -> Any:
        raise ExpressionError(f"Cannot find secret for key '{key}'.")

    with pytest.raises(ExpressionError) as error:
        render("{{ secret('x') }}", {}, {"secret": secret})
    assert str(error.value) == "Cannot find secret for key 'x'."


def test_a_guard_does_not_hide_other_errors() -> None:
    with pytest.raises(ExpressionError, match="Division by zero"):
        render("{{ (1 / 0) ?? 'x' }}", {})


SYNTAX = [
    ("{{ }}", 'Unexpected token "}}"'),
    ("{{ 1 2 }}", 'Unexpected token "2"'),
    ("{{ 'open }}", 'Unclosed "\'"'),
    ("{{ (1 + 2 }}", 'Unclosed "("'),
    ("{{ [1, 2 }}", 'Unclosed "["'),
    ("{{ 1 ] }}", 'Unexpected "]"'),
    ("{{ x", 'Unclosed "{{"'),
    ("{% if true %}x", 'Expected "else" or "elseif" or "endif"'),
    ("{% for x in y %}", 'Expected "else" or "endfor"'),
    ("{% endif %}", 'Unknown tag "endif"'),
    ("{% include 'x' %}", 'Unknown tag "include"'),
    ("{# never closed", "Unclosed comment"),
    ("{{ x is foo }}", "Unknown test 'foo'"),
    ("{{ x | escape }}", "Unknown filter 'escape'"),
    ("{{ x.y() }}", "Method calls are not supported"),
    ("{% set null = 1 %}", "Can not assign a value to null"),
    ("{{ f(a=1, 2) }}", "Positional arguments must come before named arguments"),
    ("{{ 1 $ 2 }}", 'Unexpected character "$"'),
]


@pytest.mark.parametrize(("template", "expected"), SYNTAX, ids=[s[0] for s in SYNTAX])
def test_syntax_errors(template: str, expected: str) -> None:
    with pytest.raises(ExpressionSyntaxError) as error:
        compile_template(template)
    assert str(error.value).startswith(expected)
    assert f"in `{template}` at line 1, column" in str(error.value)


RUNTIME = [
    ("{{ unknown() }}", "Unknown function 'unknown'"),
    ("{% if 'yes' %}{% endif %}", "Expected a boolean condition, got string"),
    ("{% if [1] %}{% endif %}", "Expected a boolean condition, got list"),
    ("{{ 'a' * 2 }}", "Cannot apply '*' to string and integer"),
    ("{{ {} < 1 }}", "Cannot compare map and integer with '<'"),
    ("{{ 1 contains 1 }}", "'contains' cannot be applied to integer"),
    ("{{ 1.5..3 }}", "A range needs integers"),
    ("{{ 'x' is even }}", "Test 'even' expects a number"),
    ("{% for k, v in [1] %}{% endfor %}", "'for key, value in …' needs a map"),
    ("{{ 'x' | jq('.[') }}", "Invalid jq expression '.['"),
    ("{{ 'not json' | jq('.') }}", "Failed to resolve JQ expression '.'"),
    ("{{ 'x' | date(timeZone='Nowhere/City') }}", "Unknown time zone 'Nowhere/City'"),
    ("{{ 'not a date' | date }}", "Text 'not a date' could not be parsed as an ISO date"),
    ("{{ fromJson(1) }}", "The 'fromJson' function expects a string"),
    ("{{ yaml('a: [') }}", "Invalid yaml: "),
    ("{{ 'x' | number }}", "'number' filter can't read 'x' as a number"),
    ("{{ 1 | sha256 }}", "'sha256' filter expects a string"),
    ("{{ 'x' | escapeChar('nope') }}", "The 'escapeChar' filter expects 'type'"),
    ("{{ block('nope') }}", "Unknown block 'nope'"),
    ("{{ render(1, recursive='x') }}", "The 'render' function expects 'recursive' to be a boolean"),
]


@pytest.mark.parametrize(("template", "expected"), RUNTIME, ids=[r[0] for r in RUNTIME])
def test_runtime_errors(template: str, expected: str) -> None:
    text = message(template)
    assert text.startswith(expected)
    assert text.endswith(f"in `{template}` at line 1")


def test_undefined_inside_a_nested_render_keeps_its_own_template() -> None:
    with pytest.raises(UndefinedVariableError) as error:
        render("{{ render(inner) }}", {"inner": "{{ nope }}"})
    assert str(error.value) == (
        "Unable to find `nope` used in the expression `{{ nope }}` at line 1"
    )
