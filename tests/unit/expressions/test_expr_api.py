"""The public API of lanner.expressions, as other modules use it."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import lanner.expressions as expressions
from lanner.exceptions import ExpressionError
from lanner.expressions import (
    CallContext,
    Template,
    compile_template,
    is_template,
    is_truthy_text,
    render,
    render_typed,
    render_value,
    to_json,
    to_text,
)


def test_public_names() -> None:
    assert sorted(expressions.__all__) == [
        "CallContext",
        "Function",
        "Template",
        "compile_template",
        "is_template",
        "is_truthy_text",
        "render",
        "render_typed",
        "render_value",
        "to_json",
        "to_text",
    ]
    for name in expressions.__all__:
        assert getattr(expressions, name) is not None


def test_compile_template_is_cached_by_source() -> None:
    template = compile_template("{{ cached }}")
    assert isinstance(template, Template)
    assert template.source == "{{ cached }}"
    assert compile_template("{{ cached }}") is template


def test_a_template_renders_many_times_with_different_variables() -> None:
    template = compile_template("Hello {{ name }}")
    assert [template.render({"name": n}) for n in ("a", "b")] == ["Hello a", "Hello b"]


def test_text_without_a_brace_is_returned_unparsed() -> None:
    assert render("plain }} %} text", {}) == "plain }} %} text"
    assert render_typed("plain", {}) == "plain"


TYPED = [
    ("{{ 5 }}", {}, 5),
    ("  {{ [1, 'a'] }}\n", {}, [1, "a"]),
    ("{{ flag }}", {"flag": False}, False),
    ("{{ nothing }}", {"nothing": None}, None),
    ("{{ 1.5 }}", {}, 1.5),
    ("a{{ 5 }}", {}, "a5"),
    ("{{ 1 }}{{ 2 }}", {}, "12"),
    ("{% if true %}{{ 5 }}{% endif %}", {}, "5"),
]


@pytest.mark.parametrize(("template", "variables", "expected"), TYPED)
def test_render_typed(template: str, variables: dict[str, Any], expected: Any) -> None:
    assert render_typed(template, variables) == expected


def test_render_typed_returns_the_value_itself() -> None:
    value = {"a": [1, 2]}
    assert render_typed("{{ v }}", {"v": value}) is value
    assert compile_template("{{ v }}").render_typed({"v": value}) is value


def test_render_value_renders_every_string_leaf_and_key() -> None:
    value = {"{{ k }}": ["{{ v }}", 3, None, {"n": "{{ v | upper }}"}], "plain": True}
    assert render_value(value, {"k": "key", "v": "val"}) == {
        "key": ["val", 3, None, {"n": "VAL"}],
        "plain": True,
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [("{{ x }}", True), ("{% if %}", True), ("{# c #}", True), ("{ x }", False), ("", False)],
)
def test_is_template(text: str, expected: bool) -> None:
    assert is_template(text) is expected


TEXT = [
    (None, ""),
    ("s", "s"),
    (True, "true"),
    (False, "false"),
    (42, "42"),
    (1.0, "1.0"),
    (42.42, "42.42"),
    (1e7, "1.0E7"),
    (1.5e-5, "1.5E-5"),
    (0.001, "0.001"),
    (Decimal("1.50"), "1.50"),
    ({"a": 1, "b": [1, 2], "c": None}, '{"a":1,"b":[1,2]}'),
    ([1, None, "é"], '[1,null,"é"]'),
    (datetime(2019, 10, 6, 18, 27, 49, tzinfo=UTC), "2019-10-06T18:27:49Z"),
    (datetime(2019, 10, 6, 18, 27, 49, 120000, tzinfo=UTC), "2019-10-06T18:27:49.120Z"),
    (datetime(2013, 9, 8, 16, 19, tzinfo=timezone(timedelta(hours=2))), "2013-09-08T16:19+02:00"),
    (
        datetime(2013, 9, 8, 16, 19, 5, tzinfo=ZoneInfo("Europe/Paris")),
        "2013-09-08T16:19:05+02:00[Europe/Paris]",
    ),
    (datetime(2013, 9, 8, 16, 19, 5, 123456), "2013-09-08T16:19:05.123456"),
    (date(2013, 9, 8), "2013-09-08"),
]


@pytest.mark.parametrize(("value", "expected"), TEXT, ids=[repr(t[0]) for t in TEXT])
def test_to_text(value: Any, expected: str) -> None:
    assert to_text(value) == expected


def test_to_json_is_compact_and_keeps_nulls() -> None:
    value = {
        "a": None,
        "é": [1, 1.5, True],
        "d": datetime(2019, 10, 6, 18, 27, 49, tzinfo=UTC),
        "n": Decimal("2.5"),
        "t": (1, 2),
    }
    assert to_json(value) == (
        '{"a":null,"é":[1,1.5,true],"d":"2019-10-06T18:27:49Z","n":2.5,"t":[1,2]}'
    )
    assert to_json({"a": None}, include_nulls=False) == "{}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, False),
        ("", False),
        ("false", False),
        ("0", False),
        ("-0", False),
        ("true", True),
        ("1", True),
        ("False", True),
        (" ", True),
        ("anything", True),
    ],
)
def test_is_truthy_text(text: str | None, expected: bool) -> None:
    assert is_truthy_text(text) is expected


def test_extra_functions_receive_the_call_context() -> None:
    seen: dict[str, Any] = {}

    def secret(call: CallContext, key: str, *, upper: bool = False) -> str:
        seen.update(variables=call.variables, source=call.template_source)
        return key.upper() if upper else key

    variables = {"x": 1}
    result = render(
        "{{ secret('k') }}-{{ secret('k', upper=true) }}", variables, {"secret": secret}
    )
    assert result == "k-K"
    assert seen == {
        "variables": variables,
        "source": "{{ secret('k') }}-{{ secret('k', upper=true) }}",
    }


def test_extra_functions_override_builtins() -> None:
    def now(call: CallContext) -> str:
        return "frozen"

    assert render("{{ now() }}", {}, {"now": now}) == "frozen"


def test_call_context_render_uses_the_same_variables_and_functions() -> None:
    def kv(call: CallContext, key: str) -> str:
        return call.render("{{ prefix }}-" + key)

    functions = {"kv": kv}
    assert render("{{ render('{{ kv(\"a\") }}') }}", {"prefix": "p"}, functions) == "p-a"


def test_raw_content_survives_nested_rendering() -> None:
    variables = {"inner": "{% raw %}{{ kept }}{% endraw %}"}
    assert render("{{ render(inner) }}", variables) == "{{ kept }}"
    assert compile_template("{% raw %}{{ x }}{% endraw %}").render_pass({}) == (
        "{% raw %}{{ x }}{% endraw %}"
    )


def test_values_with_templates_are_not_rendered_again() -> None:
    assert render("{{ a }}", {"a": "{{ b }}", "b": "no"}) == "{{ b }}"


def test_rendering_is_thread_safe() -> None:
    template = compile_template("{% for i in items %}{{ i * factor }},{% endfor %}")
    errors: list[str] = []

    def work(factor: int) -> None:
        for _ in range(200):
            result = template.render({"items": [1, 2], "factor": factor})
            if result != f"{factor},{2 * factor},":
                errors.append(result)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_errors_never_escape_as_foreign_exceptions() -> None:
    bad = ["{{ x[[]] }}", "{{ {[1]: 2} }}", "{{ x | slice(5) }}", "{{ 1 | merge(2) }}"]
    for template in bad:
        with pytest.raises(ExpressionError):
            render(template, {"x": {"a": 1}})
