"""Every behaviour case of spec/expressions.md §8, one parametrized row each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from lanner.exceptions import ExpressionError, UndefinedVariableError
from lanner.expressions import render, render_value, to_json

SECOND = {"string": "string", "int": 1, "float": 1.123, "list": ["string", 1, 1.123], "bool": True}
ZONED = datetime(2013, 9, 8, 16, 19, 12, 123456, tzinfo=timezone(timedelta(hours=1)))
NOW = {
    "zoned": ZONED,
    "instant": ZONED.astimezone(UTC),
    "local": ZONED.replace(tzinfo=None),
}
BLOCK = {"block": {"test": {"child": "awesome"}}, "inner": "test"}
CHAIN = {"first": "1", "second": "{{first}}", "third": "{{second}}"}


def case(
    template: str, expected: str, variables: dict[str, Any] | None = None, id: str = ""
) -> Any:
    return pytest.param(template, variables or {}, expected, id=id or template)


EXACT = [
    case("{{ string }}", "string", SECOND),
    case("{{ int }}", "1", SECOND),
    case("{{ float }}", "1.123", SECOND),
    case("{{ bool }}", "true", SECOND),
    case("{{ list }}", '["string",1,1.123]', SECOND),
    case(
        "{{ date }}",
        "2013-09-08T16:19+02:00",
        {"date": datetime(2013, 9, 8, 16, 19, tzinfo=timezone(timedelta(hours=2)))},
        id="offset-date-time",
    ),
    case("{{ inta }}", "[1,2,3]", {"inta": (1, 2, 3)}, id="int-array"),
    case("{{ list[3] is defined ? bla : null }}", "", SECOND),
    case('{{ "apple" ~ "pear" ~ "banana" }}', "applepearbanana"),
    case("{{ block[inner].child }}", "awesome", BLOCK),
    case("{{ block['test']['child'] }}", "awesome", BLOCK),
    case("{{ inner.bla is not defined ? block.test.child : null }}", "awesome", BLOCK),
    case("{{ block[missing].child is defined ? null : block[inner].child }}", "awesome", BLOCK),
    case("{{ inner.bla ?? block.test.child }}", "awesome", BLOCK),
    case(
        "{{ block[missing].child ?? block[missing2].child ?? block[inner].child }}",
        "awesome",
        BLOCK,
    ),
    case("{{ block['test'] }}", '{"child":"awesome"}', BLOCK),
    case("{{ null ?? 'IS NULL' }}", "IS NULL"),
    case("{{ undefined ?? 'IS UNDEFINED' }}", "IS UNDEFINED"),
    case("{{ null ??? 'IS NULL' }}", ""),
    case("{{ undefined ??? 'IS UNDEFINED' }}", "IS UNDEFINED"),
    case("{{ block ?? 'UNDEFINED' }}", "{}", {"block": {}}, id="empty-map-is-defined"),
    case("See some code {% raw %}{{ var }}{% endraw %}", "See some code {{ var }}"),
    case("See some code {%raw%}{{ var }}{%endraw%}", "See some code {{ var }}"),
    case("See some code {%-  raw%}{{ var }}{%endraw -%}", "See some code {{ var }}"),
    case(
        "See some code {% raw %}{{ var }}{% endraw %} and {% raw %}{% if %}{% endraw %}",
        "See some code {{ var }} and {% if %}",
        id="two-raw-blocks",
    ),
    case("{{ third }}", "{{second}}", CHAIN),
    case("{{ render(third, recursive=false) }}", "{{first}}", CHAIN),
    case("{{ render(third) }}", "1", CHAIN),
    case("{{ map }}", '{"third":"{{third}}"}', {**CHAIN, "map": {"third": "{{third}}"}}),
    case("{{ render(map) }}", '{"third":"1"}', {**CHAIN, "map": {"third": "{{third}}"}}),
    case("{{ render(list) }}", '["1"]', {**CHAIN, "list": ["{{third}}"]}),
    case("{{ renderOnce(input) }}", "{{b}}", {"input": "{{a}}", "a": "{{b}}", "b": "test"}),
    case("{{ render(input) }}", "test", {"input": "test"}, id="render-text"),
    case("{{ render(input) }}", "42", {"input": 42}, id="render-int"),
    case("{{ render(input) }}", "true", {"input": True}, id="render-bool"),
    case("{{ render(input) }}", "", {"input": None}, id="render-null"),
    case("{{ [1,2,3,4,5,6,7,8,9] | chunk(2) }}", "[[1,2],[3,4],[5,6],[7,8],[9]]"),
    case("{{ 'a.b.c' | substringBefore('.') }}", "a"),
    case("{{ 'a.b.c' | substringAfter(separator='.') }}", "b.c"),
    case("{{ 'a.b.c' | substringBeforeLast('.') }}", "a.b"),
    case("{{ 'a.b.c' | substringAfterLast('.') }}", "c"),
    case("{{ 'john doe is john doe' | replace({'john': 'jane'}) }}", "jane doe is jane doe"),
    case(
        "{{ 'aa1bb2cc3dd4ee5' | replace({'(\\\\d)': '-$1-'}, regexp=true) }}",
        "aa-1-bb-2-cc-3-dd-4-ee-5-",
        id="replace-regexp",
    ),
    case('{{ "Test\t\t\ntest*" | slugify }}', "test-test", id="slugify"),
    case('{{ "Hello World" | startsWith("Hello") }}', "true"),
    case('{{ "Hello World" | endsWith("World") }}', "true"),
    case("{{ 'Kestra rulez !' | urlencode | urldecode }}", "Kestra rulez !"),
    case("{{ 'string' | indent(2) }}", "string"),
    case('{{ "first line\nsecond line" | indent(2) }}', "first line\n  second line", id="indent"),
    case(
        '{{ "first line\nsecond line" | indent(2, "\t") }}',
        "first line\n\t\tsecond line",
        id="indent-tab",
    ),
    case("{{ 'string' | nindent(2) }}", "\n  string"),
    case("{{ 1 | nindent(2) }}", "\n  1"),
    case('{{ "a\r\nb" | nindent(2) }}', "\r\n  a\r\n  b", id="nindent-crlf"),
    case("{{ '' | indent(2) }}", ""),
    case('{{ "\n\n" | indent(2) }}', "\n  \n  ", id="indent-newlines"),
    case('{{ "\n\n" | nindent(2) }}', "\n  \n  \n  ", id="nindent-newlines"),
    case("""{{ "L'eau c'est la vie" | escapeChar('single') }}""", "L\\'eau c\\'est la vie"),
    case("""{{ "L'eau c'est la vie" | escapeChar('shell') }}""", "L'\\''eau c'\\''est la vie"),
    case("""{{ '"Hello"' | escapeChar('double') }}""", '\\"Hello\\"'),
    case('{{ [1, 2, 3] | jq(".[0]") | first }}', "1"),
    case('{{ my_vars | jq(".test[0]") }}', "[1]", {"my_vars": {"test": [1, 2, 3]}}),
    case('{{ vars | jq(".second.string") }}', '["string"]', {"vars": {"second": SECOND}}),
    case('{{ vars | jq(".second.string") | first }}', "string", {"vars": {"second": SECOND}}),
    case('{{ vars | jq(".second[]") }}', "[1,2,3]", {"vars": {"second": [1, 2, 3]}}),
    case(
        '{% set o = vars | jq(".object") %}{{ o[0].key }}',
        "value",
        {"vars": {"object": {"key": "value"}}},
    ),
    case("{{ S.list | keys }}", "[0,1,2]", {"S": SECOND}),
    case("{{ S | keys }}", '["string","int","float","list","bool"]', {"S": SECOND}),
    case("{{ nestedList | flatten | first }}", "a", {"nestedList": [["a", "b"], ["c"]]}),
    case('{{ "12.3" | number | className }}', "java.lang.Float"),
    case('{{ "2147483647" | number | className }}', "java.lang.Integer"),
    case('{{ "9223372036854775807" | number | className }}', "java.lang.Long"),
    case('{{ "12.3" | number("BIGDECIMAL") | className }}', "java.math.BigDecimal"),
    case('{{ "2147483647" | number("BIGINTEGER") | className }}', "java.math.BigInteger"),
    case('{{ "9223372036854775807" | number("DOUBLE") | className }}', "java.lang.Double"),
    case("{{ S.string | toJson }}", '"string"', {"S": SECOND}),
    case("{{ S.int | toJson }}", "1", {"S": SECOND}),
    case("{{ S.list | toJson }}", '["string",1,1.123]', {"S": SECOND}),
    case("{{ S.bool | toJson }}", "true", {"S": SECOND}),
    case('{{ {"empty_object":{}} | toJson }}', '{"empty_object":{}}'),
    case("{{ null | toJson }}", "null"),
    case("{{ S.string | toIon }}", '"string"', {"S": SECOND}),
    case('{{ {"empty_object":{}} | toIon }}', "{empty_object:{}}"),
    case("{{ S.string | yaml }}", "string\n", {"S": SECOND}),
    case("{{ S.int | yaml }}", "1\n", {"S": SECOND}),
    case("{{ S.list | yaml }}", " - string\n - 1\n - 1.123\n", {"S": SECOND}),
    case("{{ S.bool | yaml }}", "true\n", {"S": SECOND}),
    case(
        '{{ zoned | date(format="iso", timeZone="Europe/Paris") }}',
        "2013-09-08T17:19:12.123456+02:00",
        NOW,
    ),
    case(
        '{{ instant | date(format="iso_sec", timeZone="Europe/Paris") }}',
        "2013-09-08T17:19:12+02:00",
        NOW,
    ),
    case(
        '{{ local | date(format="yyyy-MM-dd HH:mm:ss.SSSSSSXXX", timeZone="UTC") }}',
        "2013-09-08 16:19:12.123456Z",
        NOW,
    ),
    case(
        '{{ local | date(format="yyyy-MM-dd HH:mm:ss.SSSSSSXXX", timeZone="Europe/Paris") }}',
        "2013-09-08 16:19:12.123456+02:00",
        NOW,
    ),
    case(
        '{{ "July 24, 2001" | date("yyyy-MM-dd", existingFormat="MMMM dd, yyyy") }}', "2001-07-24"
    ),
    case(
        '{{ "2013-09-08T17:19:12+02:00" | date(timeZone="Europe/Paris") }}',
        "2013-09-08T17:19:12.000000+02:00",
    ),
    case(
        '{{ "2013-09-08T17:19:12" | date(timeZone="Europe/Paris") }}',
        "2013-09-08T17:19:12.000000+02:00",
    ),
    case('{{ "2013-09-08" | date(timeZone="Europe/Paris") }}', "2013-09-08T00:00:00.000000+02:00"),
    case(
        "{{ 'Tue, 08 Feb 2022 19:38:26 GMT' | date(existingFormat='rfc_1123_date_time', "
        'timeZone="Europe/Paris") }}',
        "2022-02-08T20:38:26.000000+01:00",
        id="rfc-1123",
    ),
    case('{{ zoned | timestamp(timeZone="Europe/Paris") }}', "1378653552", NOW),
    case('{{ zoned | timestampNano(timeZone="Europe/Paris") }}', "1378653552123456000", NOW),
    case('{{ zoned | timestampMicro(timeZone="Europe/Paris") }}', "1378653552000123456", NOW),
    case(
        '{{ zoned | dateAdd(-1, "DAYS", timeZone="Europe/Paris") }}',
        "2013-09-07T17:19:12.123456+02:00",
        NOW,
    ),
    case("{{ (zoned | timestamp) > (zoned | dateAdd(-1, 'DAYS') | timestamp) }}", "true", NOW),
    case("""{{ fromJson('{"test1": 1}').test1 }}""", "1"),
    case("{{ fromJson('[1, 2, 3]')[0] }}", "1"),
    case("""{{ fromJson('{"empty_object":{}}') }}""", '{"empty_object":{}}'),
    case(
        "{{ fromIon('{date:2024-04-21T23:00:00.000Z, title:\"Main_Page\",views:109787}').title }}",
        "Main_Page",
    ),
    case("{{ 7 / 2 }}", "3"),
    case("{{ -7 / 2 }}", "-3"),
    case("{{ 7 / 2.0 }}", "3.5"),
    case('{{ 1 + "a" }}', "1a"),
    case("{{ {'title': 'Kestra Pen', 'n': 5} }}", '{"title":"Kestra Pen","n":5}'),
    case(
        "{{ render(vars.third) }}",
        "1 > 2 > 3",
        {"vars": {"first": "1", "second": "{{vars.first}} > 2", "third": "{{vars.second}} > 3"}},
    ),
]


@pytest.mark.parametrize(("template", "variables", "expected"), EXACT)
def test_renders_exactly(template: str, variables: dict[str, Any], expected: str) -> None:
    assert render(template, variables) == expected


CONTAINS = [
    case("{{ map }}", '"a":"1"', {"map": {"a": "1", "b": "2"}}, id="map-a"),
    case("{{ map }}", '"b":"2"', {"map": {"a": "1", "b": "2"}}, id="map-b"),
    case("{{ list }} // {{ map }}", '["string",1,1.123] // {', {**SECOND, "map": {"a": "1"}}),
    case('{% block "post" %} content {% endblock %}{{ block("post") }}', "content"),
    case('{{ var | numberFormat("#.##") }}', "1.23", {"var": 1.232654}),
]


@pytest.mark.parametrize(("template", "variables", "expected"), CONTAINS)
def test_renders_containing(template: str, variables: dict[str, Any], expected: str) -> None:
    assert expected in render(template, variables)


FAILING = [
    case(
        "{{ missing }}", "Unable to find `missing` used in the expression `{{ missing }}` at line 1"
    ),
    case("{{ missing is defined ? missing : missing2 }}", "Unable to find `missing2`"),
    case("{{ missing ?? missing2 }}", "Unable to find `missing2`"),
    case(
        "{{ render(first) }}",
        "Too many rendering attempts",
        {"first": "{{second}}", "second": "{{first}}"},
    ),
    case("{{ fromJson() }}", "The 'fromJson' function expects an argument 'json'."),
    case("{{ fromJson('{not json') }}", "Invalid json: "),
    case(
        "{{ parent.taskrun.value == 'value 1' ? 'ok' : ko }}",
        "Unable to find `ko`",
        {"parent": {"taskrun": {"value": "value 2"}}},
    ),
]


@pytest.mark.parametrize(("template", "variables", "expected"), FAILING)
def test_fails_with_message(template: str, variables: dict[str, Any], expected: str) -> None:
    with pytest.raises(ExpressionError) as error:
        render(template, variables)
    assert expected in str(error.value)


def test_missing_variable_is_an_undefined_variable_error() -> None:
    with pytest.raises(UndefinedVariableError):
        render("{{ missing }}", {})


def test_flow_output_map_renders_to_compact_json() -> None:
    rendered = render_value(
        {"value": "{{ outputs.return }}"}, {"outputs": {"return": "flow-with-outputs"}}
    )
    assert to_json(rendered) == '{"value":"flow-with-outputs"}'
