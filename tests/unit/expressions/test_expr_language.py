"""The language itself: literals, access, operators and precedence, tags, whitespace control."""

from __future__ import annotations

from typing import Any

import pytest

from lanner.exceptions import ExpressionError, UndefinedVariableError
from lanner.expressions import render

DATA: dict[str, Any] = {
    "n": 7,
    "f": 2.5,
    "s": "text",
    "items": [1, 2, 3],
    "m": {"a": 1, "b-c": 2, "nested": {"x": "deep"}, "1": "one"},
    "key": "a",
    "empty": [],
    "nothing": None,
    "flag": True,
}

CASES = [
    # literals
    ("{{ 'single' }} {{ \"double\" }}", "single double"),
    ("{{ 'it\\'s' }} {{ \"say \\\"hi\\\"\" }} {{ 'a\\\\b' }}", 'it\'s say "hi" a\\b'),
    ("{{ 'a\\nb' }}", "a\\nb"),
    ("{{ 42 }} {{ 4.50 }} {{ 3L }}", "42 4.5 3"),
    ("{{ true }} {{ FALSE }} {{ null }}{{ none }}{{ NULL }}", "true false "),
    ("{{ [1, 'a', [true]] }}", '[1,"a",[true]]'),
    ("{{ {'k': 1, 'n': {'x': null}} }}", '{"k":1,"n":{}}'),
    ("{{ [] }} {{ {} }}", "[] {}"),
    ("{{ 1..3 }} {{ 'a'..'c' }} {{ 3..1 }}", '[1,2,3] ["a","b","c"] []'),
    ('{{ "n=#{n}, twice=#{n * 2}!" }}', "n=7, twice=14!"),
    ("{{ \"#{ {'a': 1}.a }\" }}", "1"),
    ("{{ 'no #{interpolation}' }}", "no #{interpolation}"),
    # access
    ("{{ m.a }} {{ m['b-c'] }} {{ m[key] }} {{ m.nested.x }}", "1 2 1 deep"),
    ("{{ items[0] }} {{ items[n - 5] }} {{ items['1'] }} {{ m[1] }}", "1 3 2 one"),
    ("{{ (m).a }} {{ fromJson('[5]')[0] }}", "1 5"),
    ("{{ {'or': 9}.or }}", "9"),
    # arithmetic (Java semantics)
    (
        "{{ 7 / 2 }} {{ -7 / 2 }} {{ 7 / -2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 % -3 }}",
        "3 -3 -3 1 -1 1",
    ),
    (
        "{{ 7 / 2.0 }} {{ 1 + 1.5 }} {{ 2 * 1.5 }} {{ 10 - 0.5 }} {{ -7.5 % 2 }}",
        "3.5 2.5 3.0 9.5 -1.5",
    ),
    ("{{ 1.0 / 0 }} {{ -1 / 0.0 }}", "Infinity -Infinity"),
    ("{{ 1 + 'a' }} {{ 'a' + 1 }} {{ 'a' + null }} {{ s + f }}", "1a a1 anull text2.5"),
    ("{{ [1] + 2 }} {{ [1] + [2, 3] }} {{ [1, 2, 3] - 2 }}", "[1,2] [1,2,3] [1,3]"),
    ("{{ -n }} {{ +n }} {{ - -n }} {{ -f }}", "-7 7 7 -2.5"),
    # comparison
    (
        "{{ 1 == 1.0 }} {{ 1 == '1' }} {{ true == 1 }} {{ s == 'text' }} {{ s equals 'text' }}",
        "true false false true true",
    ),
    (
        "{{ 1 != 2 }} {{ null == null }} {{ nothing == null }} {{ items == [1, 2, 3] }}",
        "true true true true",
    ),
    (
        "{{ 2 > 1 }} {{ 2 >= 2 }} {{ 1 < 1.5 }} {{ 3 <= 2 }} {{ 'a' < 'b' }} {{ null < 1 }}",
        "true true true false true false",
    ),
    # logic
    (
        "{{ true and false }} {{ true or false }} {{ not true }} {{ not false and false }}",
        "false true false false",
    ),
    ("{{ false and missing }} {{ true or missing }}", "false true"),
    ("{{ 1 and 'true' }} {{ 0 or nothing }}", "true false"),
    # contains and tests
    (
        "{{ items contains 2 }} {{ items contains [1, 3] }} {{ s contains 'ex' }}"
        " {{ m contains 'a' }}",
        "true true true true",
    ),
    ("{{ nothing contains 1 }} {{ items contains 9 }}", "false false"),
    (
        "{{ n is odd }} {{ n is even }} {{ nothing is null }} {{ s is not null }}",
        "true false true true",
    ),
    (
        "{{ empty is empty }} {{ '  ' is empty }} {{ m is map }} {{ items is iterable }}"
        " {{ s is iterable }}",
        "true true true true false",
    ),
    (
        "{{ '[1]' is json }} {{ 'value 1' is json }} {{ m is json }} {{ n is json }}",
        "true false true false",
    ),
    (
        "{{ n is defined }} {{ nothing is defined }} {{ missing is defined }}"
        " {{ m.zz is not defined }}",
        "true false false true",
    ),
    # guards
    ("{{ missing ?? 'dflt' }} {{ nothing ?? 'dflt' }} {{ n ?? 'dflt' }}", "dflt dflt 7"),
    ("{{ missing ??? 'dflt' }} {{ nothing ??? 'dflt' }}|", "dflt |"),
    (
        "{{ missing.deep.path ?? 'safe' }} {{ m[missing] ?? 'safe' }} {{ items[9] ?? 'safe' }}",
        "safe safe safe",
    ),
    (
        "{{ missing | default('d') }} {{ nothing | default('d') }} {{ '' | default('d') }}"
        " {{ s | default('d') }}",
        "d d d text",
    ),
    ("{{ nothing.attr ?? 'null-safe' }}", "null-safe"),
    # ternary
    (
        "{{ flag ? 'yes' : 'no' }} {{ nothing ? 'yes' : 'no' }} {{ n > 5 ? 'big' : 'small' }}",
        "yes no big",
    ),
    ("{{ false ? 'a' : true ? 'b' : 'c' }}", "b"),
    ("{{ flag ? 'ok' : missing }}", "ok"),
    # precedence, loosest to tightest: or 10, and 15, is/contains 20, == 30,
    # + 40, * 60, | 100, ~ 110, .. ?? 120, unary 500
    ("{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 10 - 4 - 3 }} {{ 24 / 4 / 2 }}", "7 9 3 3"),
    ("{{ 1 + -2 | abs }} {{ -2 | abs }} {{ 2 * -3 | abs }}", "3 2 6"),
    ("{{ 'a' ~ 'b' | upper }} {{ 'a' | upper ~ 'b' }}", "AB Ab"),
    ("{{ 1 + 1 ~ 1 }}", "111"),
    ("{{ 1 + 2 == 3 }} {{ 1 == 1 and 2 == 2 }} {{ true or false and false }}", "true true true"),
    ("{{ 1..2 | length }} {{ missing ?? 1 + 1 }}", "2 2"),
    ("{{ not nothing is null }}", "false"),
]


@pytest.mark.parametrize(("template", "expected"), CASES, ids=[c[0] for c in CASES])
def test_expression(template: str, expected: str) -> None:
    assert render(template, DATA) == expected


TAGS = [
    ("{% if n > 5 %}big{% endif %}", "big"),
    ("{% if n > 50 %}a{% elseif n > 5 %}b{% else %}c{% endif %}", "b"),
    ("{% if 0 %}a{% elseif 'false' %}b{% elseif nothing %}c{% else %}d{% endif %}", "d"),
    ("{% if 2 %}num{% endif %}{% if 'true' %}str{% endif %}", "numstr"),
    ("{% for x in items %}{{ x }},{% endfor %}", "1,2,3,"),
    ("{% for x in empty %}x{% else %}none{% endfor %}", "none"),
    ("{% for x in nothing %}x{% else %}none{% endfor %}", "none"),
    ("{% for x in s %}[{{ x }}]{% endfor %}", "[text]"),
    (
        "{% for x in items %}{{ loop.index }}/{{ loop.revindex }}/{{ loop.length }}"
        "{% if loop.first %}F{% endif %}{% if loop.last %}L{% endif %} {% endfor %}",
        "0/2/3F 1/1/3 2/0/3L ",
    ),
    (
        "{% for x in [1] %}{{ loop }}{% endfor %}",
        '{"first":true,"index":0,"last":true,"length":1,"revindex":0}',
    ),
    (
        "{% for a in [1, 2] %}{% for b in [3, 4] %}{{ loop.index }}{{ a }}{{ b }} {% endfor %}"
        "{% endfor %}",
        "013 114 023 124 ",
    ),
    ("{% for k, v in m.nested %}{{ k }}={{ v }}{% endfor %}", "x=deep"),
    ("{% for e in {'a': 1, 'b': 2} %}{{ e.key }}{{ e.value }}{% endfor %}", "a1b2"),
    ("{% set x = n * 2 %}{{ x }}", "14"),
    ("{% set n = 1 %}{{ n }}", "1"),
    ("{% set t = 0 %}{% for i in items %}{% set t = t + i %}{% endfor %}{{ t }}", "6"),
    ("{% filter upper %}a{{ s }}{% endfilter %}", "ATEXT"),
    ("{% filter lower | capitalize %}HELLO{% endfilter %}", "Hello"),
    (
        "{% macro hi(who, greet='Hello') %}{{ greet }} {{ who }}{% endmacro %}{{ hi('you') }}"
        "|{{ hi('me', greet='Yo') }}",
        "Hello you|Yo me",
    ),
    ("{{ later(2) }}{% macro later(x) %}<{{ x * x }}>{% endmacro %}", "<4>"),
    ("{% macro m(a) %}{{ a ?? 'none' }}{% endmacro %}{{ m() }}", "none"),
    ('{% block "b" %}[{{ n }}]{% endblock %}{{ block("b") }}', "[7][7]"),
    ("{% block named %}x{% endblock named %}", "x"),
    ("a {# comment #}b", "a b"),
    ("{# {{ missing }} #}ok", "ok"),
    ("{% raw %}{{ missing }}{% endraw %}", "{{ missing }}"),
    ("{% raw %}\n{% if %}\n{% endraw %}", "\n{% if %}\n"),
]


@pytest.mark.parametrize(("template", "expected"), TAGS, ids=[t[0] for t in TAGS])
def test_tag(template: str, expected: str) -> None:
    assert render(template, DATA) == expected


WHITESPACE = [
    ("a  {{- s -}}  b", "atextb"),
    ("a  {{ s -}}\n  b", "a  textb"),
    ("a\n  {{- s }}  b", "atext  b"),
    (
        "<ul>\n  {%- for x in items %}\n  <li>{{ x }}</li>\n  {%- endfor %}\n</ul>",
        "<ul>\n  <li>1</li>\n  <li>2</li>\n  <li>3</li>\n</ul>",
    ),
    ("a {#- c -#} b", "ab"),
    ("{{-n}}", "-7"),
    ("x\n{{ s }}\ny", "x\ntext\ny"),
    ("{% if true %}\nkept\n{% endif %}", "\nkept\n"),
]


@pytest.mark.parametrize(("template", "expected"), WHITESPACE, ids=[w[0] for w in WHITESPACE])
def test_whitespace_control(template: str, expected: str) -> None:
    assert render(template, DATA) == expected


STRICT = [
    "{{ missing }}",
    "{{ m.missing }}",
    "{{ items[3] }}",
    "{{ items[-1] }}",
    "{{ nothing.attr }}",
    "{{ s.length }}",
    "{{ n is defined ? missing : 1 }}",
    "{{ missing ?? missing2 }}",
    "{% for x in missing %}{% endfor %}",
    "{% if missing %}{% endif %}",
    "{{ missing | upper }}",
]


@pytest.mark.parametrize("template", STRICT)
def test_reading_something_undefined_fails(template: str) -> None:
    with pytest.raises(UndefinedVariableError):
        render(template, DATA)


SANDBOX = [
    "{{ s.__class__ }}",
    "{{ s['__class__'] }}",
    "{{ m.__class__.__mro__ }}",
    "{{ m.keys }}",
    "{{ n.real }}",
    "{{ __builtins__ }}",
    "{{ __import__ }}",
    "{{ _lookup }}",
    "{{ rt }}",
    "{{ scope }}",
]


@pytest.mark.parametrize("template", SANDBOX)
def test_templates_cannot_reach_python(template: str) -> None:
    with pytest.raises(UndefinedVariableError):
        render(template, DATA)


def test_method_calls_are_rejected() -> None:
    with pytest.raises(ExpressionError, match="Method calls are not supported"):
        render("{{ s.upper() }}", DATA)


def test_names_of_python_helpers_are_plain_variables() -> None:
    assert render("{{ _lookup }} {{ rt }}", {"_lookup": 1, "rt": 2}) == "1 2"
