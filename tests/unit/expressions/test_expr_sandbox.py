"""The sandbox: templates reach only data, call only known functions, and stay within limits."""

from __future__ import annotations

from typing import Any

import pytest

from lanner.exceptions import ExpressionError, UndefinedVariableError
from lanner.expressions import render

VARIABLES: dict[str, Any] = {"x": {"a": 1}, "outputs": {"t": {"code": 200}}}


def failure(template: str, variables: dict[str, Any] | None = None) -> ExpressionError:
    with pytest.raises(ExpressionError) as error:
        render(template, VARIABLES if variables is None else variables)
    return error.value


@pytest.mark.parametrize(
    ("template", "name"),
    [
        ("{{ ''.__class__ }}", "__class__"),
        ("{{ x.__dict__ }}", "__dict__"),
        ("{{ outputs.__init__ }}", "__init__"),
        ("{{ x.__class__.__mro__ }}", "__class__"),
        ("{{ x['__class__'] }}", "__class__"),
        ("{{ (1..3).__len__ }}", "__len__"),
        ("{{ __builtins__ }}", "__builtins__"),
    ],
)
def test_python_attributes_are_not_reachable(template: str, name: str) -> None:
    error = failure(template)
    assert isinstance(error, UndefinedVariableError)
    assert str(error) == f"Unable to find `{name}` used in the expression `{template}` at line 1"


@pytest.mark.parametrize(
    ("template", "name"),
    [
        ("{{ open('/etc/passwd') }}", "open"),
        ("{{ __import__('os') }}", "__import__"),
        ("{{ eval('1') }}", "eval"),
        ("{{ getattr(x, 'a') }}", "getattr"),
    ],
)
def test_unknown_functions_are_refused(template: str, name: str) -> None:
    assert str(failure(template)) == f"Unknown function '{name}' in `{template}` at line 1"


@pytest.mark.parametrize(
    ("template", "size"),
    [
        ("{{ range(0, 1000000000000) }}", 1000000000001),
        ("{{ 0..1000000000000 }}", 1000000000001),
        ("{{ range(0, 1000000) }}", 1000001),
        ("{{ range(10000000, 0, -1) }}", 10000001),
    ],
)
def test_a_range_is_limited_to_a_million_elements(template: str, size: int) -> None:
    assert str(failure(template)) == (
        f"A range of {size} elements is larger than the limit of 1000000 in `{template}` at line 1"
    )


def test_a_range_at_the_limit_is_allowed() -> None:
    assert render("{{ range(1, 1000000) | length }}", {}) == "1000000"


def test_power_operator_does_not_exist() -> None:
    template = "{{ range(0, 10**12) }}"
    assert str(failure(template)).startswith(f'Unexpected token "*" in `{template}` at line 1')


def test_loop_iterations_of_one_render_are_limited() -> None:
    template = "{% for a in items %}{% for b in items %}{% endfor %}{% endfor %}"
    error = failure(template, {"items": list(range(1_000_000))})
    assert str(error) == (
        f"The loops of this render run more than 10000000 iterations in `{template}` at line 1"
    )


def test_nested_ranges_count_against_the_same_limit() -> None:
    template = (
        "{% for a in 0..999 %}{% for b in 0..999 %}{% for c in 0..999 %}"
        "{% endfor %}{% endfor %}{% endfor %}"
    )
    assert str(failure(template, {})) == (
        f"The loops of this render run more than 10000000 iterations in `{template}` at line 1"
    )


def test_the_loop_limit_is_per_render() -> None:
    template = "{% for a in items %}{% endfor %}done"
    variables = {"items": list(range(6_000_000))}
    assert render(template, variables) == "done"
    assert render(template, variables) == "done"


def test_string_multiplication_is_not_an_operator() -> None:
    template = "{{ 'ab' * 1000000000 }}"
    assert str(failure(template)) == (
        f"Cannot apply '*' to string and integer in `{template}` at line 1"
    )


@pytest.mark.parametrize("operator", ["~", "+"])
def test_doubling_a_text_stops_at_the_size_limit(operator: str) -> None:
    template = (
        f"{{% set s = 'x' %}}{{% for i in 0..40 %}}{{% set s = s {operator} s %}}{{% endfor %}}"
    )
    assert str(failure(template, {})) == (
        "A text of 134217728 characters is larger than the limit of 100000000"
        f" in `{template}` at line 1"
    )


def test_doubling_a_list_stops_at_the_size_limit() -> None:
    template = "{% set s = [1] %}{% for i in 0..40 %}{% set s = s + s %}{% endfor %}"
    assert str(failure(template, {})) == (
        f"A list of 16777216 items is larger than the limit of 10000000 in `{template}` at line 1"
    )


def test_squaring_an_integer_stops_at_the_size_limit() -> None:
    template = "{% set s = 2 %}{% for i in 0..40 %}{% set s = s * s %}{% endfor %}"
    assert str(failure(template, {})) == (
        f"The result of '*' is larger than the limit of 4096 bits in `{template}` at line 1"
    )


def test_a_huge_indent_is_refused() -> None:
    template = "{{ 'a' | indent(100000000000) }}"
    assert str(failure(template, {})) == (
        "A text of 100000000001 characters is larger than the limit of 100000000"
        f" in `{template}` at line 1"
    )


def test_runaway_macro_recursion_is_an_expression_error() -> None:
    template = "{% macro m(n) %}{{ m(n) }}{% endmacro %}{{ m(1) }}"
    assert str(failure(template, {})) == (
        f"maximum recursion depth exceeded in `{template}` at line 1"
    )
