"""Property test: any template text fails only with the library's own errors, and quickly."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lanner.exceptions import ExpressionError
from lanner.expressions import compile_template

VARIABLES: dict[str, Any] = {
    "a": 1,
    "b": "text",
    "items": [1, 2, 3],
    "map": {"k": "v", "n": None},
    "outputs": {"t": {"body": '{"x": 1}', "code": 200}},
}

VALID = [
    "{{ a }}",
    "{{ a + 1 }} and {{ b | upper }}",
    "{% for x in items %}{{ loop.index }}:{{ x }}{% else %}none{% endfor %}",
    "{% for k, v in map %}{{ k }}={{ v ?? 'null' }}{% endfor %}",
    "{% if a > 0 and b is defined %}yes{% elseif a == 0 %}zero{% else %}no{% endif %}",
    "{% set y = [1, 'a', {'k': a}] %}{{ y | length }}",
    "{% raw %}{{ kept }}{% endraw %}",
    "{% filter upper %}{{ b }}{% endfilter %}",
    "{% macro m(p, q='x') %}{{ p }}{{ q }}{% endmacro %}{{ m(1) }}",
    "{% block \"post\" %}body{% endblock %}{{ block('post') }}",
    '{{ "a #{b} c" ~ (a ? 1 : 2) }}',
    "{{ missing ??? map.n ?? 'd' }} {{ 1..3 }} {{ -7 / 2 }} {{ 7 % -3 }}",
    "{{ outputs.t.body | jq('.x') | first }} {{ items contains 2 }}",
    "{{- a -}} {# comment #} {{ map['k'] | default('z') }}",
    "{{ range(1, 5, 2) | join(',') }} {{ 'x' | indent(2) }} {{ now() is defined }}",
]

TOKENS = [
    "{{", "}}", "{%", "%}", "{#", "#}", "{{-", "-}}", "{%-", "-%}", "{", "}", "%", "#", "|",
    "'", '"', "\\", "#{", "(", ")", "[", "]", ",", ":", ".", "..", "?", "??", "???", "~",
    "+", "-", "*", "/", "==", "!=", "<", ">=", "=", " ", "\n", "if", "elseif", "else", "endif",
    "for", "in", "endfor", "set", "raw", "endraw", "filter", "endfilter", "macro", "endmacro",
    "block", "endblock", "and", "or", "not", "is", "defined", "null", "true", "contains",
    "loop", "a", "b", "items", "map", "upper", "default", "length", "range", "0", "1", "-1",
    "2.5", "99999999999999999999", "__class__", "x", "é", "\x00",
]  # fmt: skip

random_text = st.lists(
    st.sampled_from(TOKENS) | st.text(alphabet="{}%#|'\"\\ ()[]-+*/.?:~=<>!ab01", max_size=4),
    max_size=30,
).map("".join)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """A valid template with a few pieces deleted, duplicated, swapped or inserted."""
    text = draw(st.sampled_from(VALID))
    for _ in range(draw(st.integers(1, 4))):
        if not text:
            break
        start = draw(st.integers(0, len(text) - 1))
        end = draw(st.integers(start, min(len(text), start + 6)))
        action = draw(st.sampled_from(["delete", "duplicate", "insert", "replace"]))
        piece = text[start:end]
        if action == "delete":
            text = text[:start] + text[end:]
        elif action == "duplicate":
            text = text[:end] + piece + text[end:]
        else:
            token = draw(st.sampled_from(TOKENS))
            text = text[:start] + token + (text[start:] if action == "insert" else text[end:])
    return text


def check(source: str) -> None:
    try:
        template = compile_template(source)
        template.render(VARIABLES)
        template.render_typed(VARIABLES)
    except ExpressionError:
        pass


@settings(max_examples=400, deadline=500, suppress_health_check=[HealthCheck.too_slow])
@given(random_text)
def test_random_text_fails_only_with_expression_errors(source: str) -> None:
    check(source)


@settings(max_examples=400, deadline=500, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_templates_fail_only_with_expression_errors(source: str) -> None:
    check(source)


def test_valid_seed_templates_render() -> None:
    for source in VALID:
        assert isinstance(compile_template(source).render(VARIABLES), str)
