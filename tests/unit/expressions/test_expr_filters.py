"""Filters and built-in functions beyond the spec's behaviour table."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from lanner.expressions import render, render_typed

MOMENT = datetime(2013, 9, 8, 16, 19, 12, 123456, tzinfo=UTC)
DATA: dict[str, Any] = {
    "moment": MOMENT,
    "day": date(2024, 2, 29),
    "nested": {"a": "it's", "b": ["x'y", 1], "c": None},
    "money": 1234567.891,
}

FILTERS = [
    ("{{ 'hello world' | abbreviate(8) }} {{ 'hey' | abbreviate(2) }}", "hello... hey"),
    ("{{ 'hello' | abbreviate(5) }} {{ 'hello' | abbreviate(6) }}", "he... hello"),
    ("{{ -3 | abs }} {{ -2.5 | abs }}", "3 2.5"),
    ("{{ 'héllo' | base64encode }} {{ 'aMOpbGxv' | base64decode }}", "aMOpbGxv héllo"),
    ("{{ '  hello world' | capitalize }} {{ 'hello WORLD' | title }}", "  Hello world Hello WORLD"),
    ("{{ ' \t x \n' | trim }}|", "x|"),
    ("{{ 'MiXeD' | upper }} {{ 'MiXeD' | lower }} {{ 12 | upper }}", "MIXED mixed 12"),
    ("{{ [1, 'a', null] | join(', ') }} {{ [1, 2] | join }}", "1, a,  12"),
    ("{{ [1, 2] | first }} {{ [1, 2] | last }} {{ 'abc' | first }} {{ 'abc' | last }}", "1 2 a c"),
    ("{{ [] | last }}|{{ null | first }}|", "||"),
    (
        "{{ [1, 2] | length }} {{ 'abc' | length }} {{ {'a': 1} | length }} {{ null | length }}",
        "2 3 1 0",
    ),
    ("{{ {'a': 1} | merge({'a': 2, 'b': 3}) }} {{ [1] | merge([2]) }}", '{"a":2,"b":3} [1,2]'),
    (
        "{{ [3, 1, 2] | sort }} {{ ['b', 'a'] | sort }} {{ [3, 1, 2] | rsort }}",
        '[1,2,3] ["a","b"] [3,2,1]',
    ),
    ("{{ [1, 2, 3] | reverse }} {{ 'abc' | reverse }}", "[3,2,1] cba"),
    (
        "{{ [1, 2, 3, 4] | slice(1, 3) }} {{ 'hello' | slice(1) }}"
        " {{ 'hello' | slice(toIndex=2) }}",
        "[2,3] ello he",
    ),
    (
        "{{ 'a,b,,c,,' | split(',') }} {{ 'a,b,c' | split(',', 2) }}"
        " {{ 'a1b22c' | split('\\\\d+') }}",
        '["a","b","","c"] ["a","b,c"] ["a","b","c"]',
    ),
    (
        "{{ 'a.b' | split('.') }} {{ '' | split(',') }} {{ 'abc' | split('') }}",
        '[] [""] ["a","b","c"]',
    ),
    ("{{ 'a1b2' | split('(\\d)') }} {{ 'a,b,,' | split(',', -1) }}", '["a","b"] ["a","b","",""]'),
    ("{{ 'a b&c=d/é~*' | urlencode }}", "a+b%26c%3Dd%2F%C3%A9%7E*"),
    ("{{ 'a+b%26c' | urldecode }}", "a b&c"),
    ("{{ 'abc' | md5 }}", "900150983cd24fb0d6963f7d28e17f72"),
    ("{{ 'abc' | sha1 }}", "a9993e364706816aba3e25717850c26c9cd0d89d"),
    ("{{ 'abc' | sha256 }}", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    ("{{ 'abc' | sha512 | length }}", "128"),
    ("{{ [1, 2, 1, 'a', 'a'] | distinct }} {{ {'a': 1, 'b': [2]} | values }}", '[1,2,"a"] [1,[2]]'),
    ("{{ [[1, [2]], 3, []] | flatten }}", "[1,[2],3]"),
    ("{{ [] | chunk(3) }} {{ [1, 2, 3] | chunk(5) }}", "[] [[1,2,3]]"),
    (
        "{{ 1 | string }} {{ 2.5 | string }} {{ '007' | string }} {{ '1.50' | string }}",
        "1 2.5 7 1.50",
    ),
    (
        "{{ 'abc' | startsWith('ab') }} {{ 'abc' | endsWith(value='bc') }}"
        " {{ 'abc' | startsWith('x') }}",
        "true true false",
    ),
    (
        "{{ 'a-b-c' | substringBefore('-') }} {{ 'abc' | substringBefore('x') }}"
        " {{ 'abc' | substringAfter('x') }}|",
        "a abc |",
    ),
    (
        "{{ 'abc' | substringBeforeLast('x') }} {{ 'abc' | substringAfterLast('x') }}"
        "|{{ 'a/b/' | substringAfterLast('/') }}|",
        "abc ||",
    ),
    ("{{ 'Héllo, World_42!' | slugify }} {{ '--a  b--' | slugify }}", "hello-world-42 a-b"),
    ("{{ nested | escapeChar('single') }}", '{"a":"it\\\\\'s","b":["x\\\\\'y","1"]}'),
    ("{{ {'k': 'john', 'l': ['john']} | replace({'john': 'jane'}) }}", '{"k":"jane","l":["jane"]}'),
    ("{{ 'a-b' | replace({'(?<x>\\\\w)-(\\\\w)': '${x}$2\\\\$'}, regexp=true) }}", "ab$"),
    ("{{ 'a.b' | replace({'.': '!'}) }} {{ 'a.b' | replace({'.': '!'}, regexp=true) }}", "a!b !!!"),
    ("{{ 'x\ny' | indent(4, '-') }} {{ 'x\ny' | nindent(1, '>') }}", "x\n----y \n>x\n>y"),
    ("{{ null | upper }}|{{ null | indent(2) }}|{{ null | jq('.') }}|", "|||"),
    (
        "{{ 'text' | default('d') }} {{ [] | default('d') }} {{ {} | default('d') }}"
        " {{ 0 | default('d') }}",
        "text d d 0",
    ),
]


@pytest.mark.parametrize(("template", "expected"), FILTERS, ids=[f[0] for f in FILTERS])
def test_filter(template: str, expected: str) -> None:
    assert render(template, DATA) == expected


NUMBERS = [
    ("1234567.891", "#,##0.00", "1,234,567.89"),
    ("1234567.891", "#,###", "1,234,568"),
    ("0.5", "#.##", ".5"),
    ("0", "#.##", "0"),
    ("0.125", "0.00", "0.12"),
    ("0.135", "0.00", "0.14"),
    ("42", "000", "042"),
    ("-3.14159", "0.0##", "-3.142"),
    ("0.256", "#%", "26%"),
    ("2.5", "0", "2"),
    ("3.5", "0", "4"),
    ("1.2", "0.000", "1.200"),
]


@pytest.mark.parametrize(("number", "pattern", "expected"), NUMBERS)
def test_number_format(number: str, pattern: str, expected: str) -> None:
    value = float(number)
    assert render("{{ v | numberFormat(p) }}", {"v": value, "p": pattern}) == expected


NUMBER_TYPES = [
    ('"12"', 12, "java.lang.Integer"),
    ('"-5"', -5, "java.lang.Integer"),
    ('"2147483648"', 2147483648, "java.lang.Long"),
    ('"99999999999999999999"', 99999999999999999999, "java.math.BigInteger"),
    ('"0x1F"', 31, "java.lang.Integer"),
    ('"12.3"', 12.3, "java.lang.Float"),
    ('"1.123456789"', 1.123456789, "java.lang.Double"),
    ('"1.2345678901234567890123"', Decimal("1.2345678901234567890123"), "java.math.BigDecimal"),
    ('"12" | number("LONG")', 12, "java.lang.Long"),
    ('"12" | number("INT")', 12, "java.lang.Integer"),
    ('"1.5" | number("FLOAT")', 1.5, "java.lang.Float"),
    ('"1.5" | number("DOUBLE")', 1.5, "java.lang.Double"),
]


@pytest.mark.parametrize(("source", "value", "class_name"), NUMBER_TYPES)
def test_number_detects_java_types(source: str, value: Any, class_name: str) -> None:
    number = source if "| number" in source else f"{source} | number"
    assert render_typed(f"{{{{ {number} }}}}", {}) == value
    assert render(f"{{{{ {number} | className }}}}", {}) == class_name


def test_number_arithmetic_keeps_working_on_detected_numbers() -> None:
    assert render("{{ ('12' | number) + ('1.5' | number) }}", {}) == "13.5"


CLASS_NAMES = [
    ("s", "java.lang.String"),
    ("b", "java.lang.Boolean"),
    ("i", "java.lang.Integer"),
    ("l", "java.lang.Long"),
    ("f", "java.lang.Double"),
    ("d", "java.math.BigDecimal"),
    ("m", "java.util.LinkedHashMap"),
    ("a", "java.util.ArrayList"),
    ("t", "java.time.Instant"),
    ("z", "java.time.ZonedDateTime"),
    ("n", ""),
]


@pytest.mark.parametrize(("name", "expected"), CLASS_NAMES)
def test_class_name(name: str, expected: str) -> None:
    values = {
        "s": "x",
        "b": True,
        "i": 1,
        "l": 2**40,
        "f": 1.5,
        "d": Decimal("1.5"),
        "m": {},
        "a": [],
        "t": MOMENT,
        "z": MOMENT.astimezone(timezone(timedelta(hours=2))),
        "n": None,
    }
    assert render(f"{{{{ {name} | className }}}}", values) == expected


DATES = [
    ("{{ moment | date('yyyy-MM-dd HH:mm:ss', timeZone='UTC') }}", "2013-09-08 16:19:12"),
    ("{{ moment | date('yy/M/d H:m:s.SSS', timeZone='UTC') }}", "13/9/8 16:19:12.123"),
    ("{{ moment | date('EEE EEEE MMM MMMM', timeZone='UTC') }}", "Sun Sunday Sep September"),
    ("{{ moment | date('hh:mm a', timeZone='UTC') }}", "04:19 PM"),
    (
        "{{ moment | date(\"'at' HH'h' 'o''clock' ''x''\", timeZone='UTC') }}",
        "at 16h o'clock '+00'",
    ),
    ("{{ moment | date('XXX xxx Z X', timeZone='Asia/Kolkata') }}", "+05:30 +05:30 +0530 +0530"),
    ("{{ moment | date('XXX xxx', timeZone='UTC') }}", "Z +00:00"),
    ("{{ moment | date('D Q w', timeZone='UTC') }}", "251 3 36"),
    ("{{ moment | date('iso', timeZone='America/New_York') }}", "2013-09-08T12:19:12.123456-04:00"),
    ("{{ moment | date('iso_instant') }}", "2013-09-08T16:19:12.123456Z"),
    ("{{ moment | date('iso_local_date', timeZone='UTC') }}", "2013-09-08"),
    ("{{ moment | date('iso_offset_time', timeZone='UTC') }}", "16:19:12.123456Z"),
    ("{{ moment | date('sql_seq', timeZone='UTC') }}", "2013-09-08 16:19:12"),
    ("{{ moment | date('rfc_1123_date_time', timeZone='UTC') }}", "Sun, 8 Sep 2013 16:19:12 GMT"),
    ("{{ moment | date('medium', timeZone='UTC') }}", "Sep 8, 2013, 4:19:12 PM"),
    ("{{ 1378657152 | date('iso_sec', timeZone='UTC') }}", "2013-09-08T16:19:12Z"),
    ("{{ day | date('iso', timeZone='UTC') }}", "2024-02-29T12:00:00.000000Z"),
    (
        "{{ '08/09/2013 16:19' | date('iso_sec', existingFormat='dd/MM/yyyy HH:mm', "
        "timeZone='UTC') }}",
        "2013-09-08T16:19:00Z",
    ),
    (
        "{{ '2013-09-08 04:19:12 PM +0200' | date('iso_sec', "
        "existingFormat='yyyy-MM-dd hh:mm:ss a Z') }}",
        "2013-09-08T14:19:12Z",
    ),
    (
        "{{ '2013-09-08T16:19:12Z[Europe/Paris]' | date('iso_sec', timeZone='UTC') }}",
        "2013-09-08T16:19:12Z",
    ),
    (
        "{{ '2024-01-31T10:00:00Z' | dateAdd(1, 'MONTHS', timeZone='UTC') }}",
        "2024-02-29T10:00:00.000000Z",
    ),
    (
        "{{ '2024-01-31T10:00:00Z' | dateAdd(-2, 'HOURS', format='iso_sec', timeZone='UTC') }}",
        "2024-01-31T08:00:00Z",
    ),
    (
        "{{ '2024-03-30T12:00:00+01:00[Europe/Paris]' | dateAdd(1, 'DAYS', format='iso_sec', "
        "timeZone='Europe/Paris') }}",
        "2024-03-31T12:00:00+02:00",
    ),
    (
        "{{ '2024-03-30T12:00:00+01:00[Europe/Paris]' | dateAdd(24, 'HOURS', format='iso_sec', "
        "timeZone='Europe/Paris') }}",
        "2024-03-31T13:00:00+02:00",
    ),
    ("{{ '2024-01-01T00:00:00Z' | dateAdd(1, 'years', format='yyyy', timeZone='UTC') }}", "2025"),
    ("{{ moment | timestamp }} {{ moment | timestampMilli }}", "1378657152 1378657152123"),
    ("{{ '2013-09-08T16:19:12.5Z' | timestampNano }}", "1378657152500000000"),
    ("{{ null | date }}|{{ null | timestamp }}|", "||"),
]


@pytest.mark.parametrize(("template", "expected"), DATES, ids=[d[0] for d in DATES])
def test_dates(template: str, expected: str) -> None:
    assert render(template, DATA) == expected


def test_now_formats_the_current_time() -> None:
    text = render("{{ now(timeZone='UTC') }}", {})
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z", text)
    assert render("{{ now('yyyy', timeZone='UTC') }}", {}) == str(datetime.now(UTC).year)


def test_default_time_zone_follows_tz(monkeypatch: pytest.MonkeyPatch) -> None:
    from lanner.expressions import dates

    monkeypatch.setenv("TZ", "Asia/Tokyo")
    dates.default_zone.cache_clear()
    try:
        assert render("{{ m | date('XXX') }}", {"m": MOMENT}) == "+09:00"
    finally:
        monkeypatch.undo()
        dates.default_zone.cache_clear()


FORMATS = [
    ("{{ {'a': null, 'b': 1} | toJson }}", '{"b":1}'),
    ("{{ {'a': null, 'b': 1} | toJson(includeNulls=true) }}", '{"a":null,"b":1}'),
    ("{{ [null, 1] | toJson }} {{ 'é' | json }}", '[null,1] "é"'),
    ("{{ moment | toJson }}", '"2013-09-08T16:19:12.123456Z"'),
    (
        "{{ {'a': {'b': 1, 'c': [1, {'d': 'x'}]}, 'e': []} | yaml }}",
        "a:\n  b: 1\n  c:\n   - 1\n   - d: x\ne: []\n",
    ),
    (
        "{{ {'s': 'a: b', 't': 'true', 'n': '12', 'e': '', 'm': 'two\nlines', 'z': null} | yaml }}",
        's: "a: b"\nt: "true"\nn: "12"\ne: ""\nm: "two\\nlines"\nz: null\n',
    ),
    ("{{ null | yaml }}", "null"),
    (
        "{{ {'a b': 1.5, 'ok': [true, null, 'x\"y']} | toIon }}",
        '{\'a b\':1.5e0,ok:[true,null,"x\\"y"]}',
    ),
    ("{{ 10000000.0 | toIon }} {{ moment | toIon }}", "1.0e7 2013-09-08T16:19:12.123456Z"),
    (
        "{{ fromIon('{a: 1, b: [1.5, 2e1, \"s\"], c: sym, d: 2024-01-02}') }}",
        '{"a":1,"b":[1.5,20.0,"s"],"c":"sym","d":"2024-01-02"}',
    ),
    ("{{ fromIon(\"ann::{'quoted key': '''long''' /* c */}\") }}", '{"quoted key":"long"}'),
    ("{{ fromIon('2024-04-21T23:00:00.000Z') | className }}", "java.time.Instant"),
    ("{{ fromJson(null) }}|{{ yaml(null) }}|{{ fromIon(null) }}|", "|||"),
    ("{{ yaml('a:\n  - 1\n  - two') }}", '{"a":[1,"two"]}'),
    ("{{ json('{\"k\": [1]}').k[0] }}", "1"),
    ("{{ '{\"a\": {\"b\": 2}}' | jq('.a.b') }} {{ [1, 2] | jq('.[] * 10') }}", "[2] [10,20]"),
    ("{{ moment | jq('.') | first }}", "2013-09-08T16:19:12.123456Z"),
]


@pytest.mark.parametrize(("template", "expected"), FORMATS, ids=[f[0] for f in FORMATS])
def test_formats(template: str, expected: str) -> None:
    assert render(template, DATA) == expected


FUNCTIONS = [
    ("{{ range(1, 3) }} {{ range(0, 10, 5) }} {{ range(3, 1, -1) }}", "[1,2,3] [0,5,10] [3,2,1]"),
    ("{{ max(1, 9, 3) }} {{ min(4, 2.5) }} {{ max('a', 'b') }}", "9 2.5 b"),
    ("{{ uuid() | length }} {{ id() | length >= 20 }}", "36 true"),
    ("{{ printContext().x }}", "1"),
    ("{{ renderOnce('{{ x }}') }} {{ render('{{ x }}', recursive=false) }}", "1 1"),
    ("{{ render(['{{ x }}', {'{{ x }}': '{{ x + 1 }}'}, 5]) }}", '["1",{"1":"2"},5]'),
]


@pytest.mark.parametrize(("template", "expected"), FUNCTIONS, ids=[f[0] for f in FUNCTIONS])
def test_functions(template: str, expected: str) -> None:
    assert render(template, {"x": 1}) == expected


def test_random_int_stays_in_bounds() -> None:
    values = {render("{{ randomInt(1, 3) }}", {}) for _ in range(50)}
    assert values <= {"1", "2"}


def test_random_port_is_a_port_number() -> None:
    assert 0 < int(render("{{ randomPort() }}", {})) < 65536
