from __future__ import annotations

import math
from typing import Any

import pytest

from lanner.exceptions import Problem
from lanner.yamlsource import (
    Duplicate,
    SourceDocument,
    format_path,
    load_documents,
    load_yaml,
    split_documents,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("v: true", True, id="true"),
        pytest.param("v: False", False, id="false-capitalised"),
        pytest.param("v: TRUE", True, id="true-upper"),
        pytest.param("v: yes", "yes", id="yes-is-text"),
        pytest.param("v: on", "on", id="on-is-text"),
        pytest.param("v: off", "off", id="off-is-text"),
        pytest.param("v: 12", 12, id="int"),
        pytest.param("v: -7", -7, id="negative-int"),
        pytest.param("v: 010", 10, id="leading-zero-is-decimal"),
        pytest.param("v: 0x1f", 31, id="hex"),
        pytest.param("v: 1_000", 1000, id="underscores"),
        pytest.param("v: 1:30", "1:30", id="sexagesimal-is-text"),
        pytest.param("v: 1.5", 1.5, id="float"),
        pytest.param("v: 1.0e+3", 1000.0, id="exponent"),
        pytest.param("v: -.inf", -math.inf, id="minus-infinity"),
        pytest.param("v: ~", None, id="tilde-null"),
        pytest.param("v:", None, id="empty-null"),
        pytest.param("v: null", None, id="null"),
        pytest.param("v: 2024-01-31", "2024-01-31", id="date-is-text"),
        pytest.param("v: 2024-01-31T10:00:00Z", "2024-01-31T10:00:00Z", id="datetime-is-text"),
        pytest.param('v: "12"', "12", id="quoted-number"),
        pytest.param("v: !!str 12", "12", id="explicit-str"),
        pytest.param("v: !custom text", "text", id="unknown-tag"),
        pytest.param("v: PT1S", "PT1S", id="duration-text"),
    ],
)
def test_scalars_are_read_as_kestra_reads_them(text: str, expected: Any) -> None:
    assert load_yaml(text).value == {"v": expected}


def test_nan_is_a_float() -> None:
    assert math.isnan(load_yaml("v: .nan").value["v"])


def test_mapping_keys_are_always_text() -> None:
    document = load_yaml("cases:\n  1: one\n  true: yes\n  ~: none\n")
    assert document.value == {"cases": {"1": "one", "true": "yes", "~": "none"}}


def test_anchors_and_aliases_are_copied() -> None:
    document = load_yaml("a: &shared {x: 1}\nb: *shared\n")
    assert document.value == {"a": {"x": 1}, "b": {"x": 1}}
    assert document.value["a"] is not document.value["b"]


_FLOW = """\
id: hello
namespace: company.team
tasks:
  - id: first
    type: io.kestra.plugin.core.log.Log
    message: hi
    retry: {type: constant, interval: PT1S}
  - id: second
"""


@pytest.mark.parametrize(
    ("path", "key", "value"),
    [
        pytest.param(("id",), (1, 1), (1, 5), id="top-level"),
        pytest.param(("tasks",), (3, 1), (4, 3), id="list"),
        pytest.param(("tasks", 0), None, (4, 5), id="list-item"),
        pytest.param(("tasks", 0, "message"), (6, 5), (6, 14), id="nested"),
        pytest.param(("tasks", 0, "retry", "interval"), (7, 29), (7, 39), id="flow-style"),
        pytest.param(("tasks", 1, "id"), (8, 5), (8, 9), id="second-item"),
    ],
)
def test_positions_of_keys_and_values(
    path: tuple[str | int, ...], key: tuple[int, int] | None, value: tuple[int, int]
) -> None:
    document = load_yaml(_FLOW)
    assert document.keys.get(path) == key
    assert document.values[path] == value


def test_root_position_is_the_first_key() -> None:
    assert load_yaml("\n\n  # comment\nid: x\n").values[()] == (4, 1)


def test_key_and_value_position_fall_back_on_each_other() -> None:
    document = load_yaml(_FLOW)
    assert document.key_position(("tasks", 0)) == (4, 5)
    assert document.value_position(("tasks", 0, "id")) == (4, 9)


def test_nearest_returns_the_deepest_written_prefix() -> None:
    document = load_yaml(_FLOW)
    assert document.nearest(("tasks", 1, "message")) == (("tasks", 1), (8, 5))
    assert document.nearest(("tasks", 0, "id")) == (("tasks", 0, "id"), (4, 9))
    assert document.nearest(("nowhere",)) == ((), (1, 1))


def test_first_line_shifts_every_position() -> None:
    document = load_yaml("id: x\nnamespace: y\n", first_line=10)
    assert document.keys[("namespace",)] == (11, 1)


def test_every_duplicate_key_is_reported_at_its_repeat() -> None:
    text = """\
id: a
tasks:
  - id: t
    message: one
    message: two
    message: three
    retry:
      type: constant
      type: random
id: b
"""
    document = load_yaml(text)
    assert document.duplicates == (
        Duplicate(("tasks", 0, "message"), (5, 5)),
        Duplicate(("tasks", 0, "message"), (6, 5)),
        Duplicate(("tasks", 0, "retry", "type"), (9, 7)),
        Duplicate(("id",), (10, 1)),
    )
    assert document.problems() == [
        Problem("tasks[0]", "Duplicate field 'tasks[0].message'", 5, 5),
        Problem("tasks[0]", "Duplicate field 'tasks[0].message'", 6, 5),
        Problem("tasks[0].retry", "Duplicate field 'tasks[0].retry.type'", 9, 7),
        Problem("", "Duplicate field 'id'", 10, 1),
    ]
    # The last occurrence wins, as in PyYAML and Jackson without strict duplicate detection.
    assert document.value["tasks"][0]["message"] == "three"


def test_duplicates_are_described_by_the_caller() -> None:
    document = load_yaml("a:\n  b: 1\n  b: 2\n")
    problems = document.problems(lambda path: "/".join(map(str, path)))
    assert problems == [Problem("a", "Duplicate field 'a/b'", 3, 3)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "id: a\ntasks: [one\nnamespace: b\n",
            Problem(
                "",
                "Invalid YAML: did not find expected ',' or ']' "
                "(while parsing a flow sequence started at 2:8)",
                3,
                10,
            ),
            id="unclosed-flow-sequence",
        ),
        pytest.param(
            "id: a\nnamespace: b: c\n",
            Problem("", "Invalid YAML: mapping values are not allowed in this context", 2, 13),
            id="colon-in-plain-value",
        ),
        pytest.param(
            "id: a\n  namespace: b\n",
            Problem("", "Invalid YAML: mapping values are not allowed in this context", 2, 12),
            id="bad-indentation",
        ),
        pytest.param(
            "id: *nowhere\n",
            Problem("", "Invalid YAML: found undefined alias", 1, 5),
            id="undefined-alias",
        ),
        pytest.param(
            "id: a\nnamespace: \x07\n",
            Problem(
                "", "Invalid YAML: control characters are not allowed (character #x0007)", 2, 12
            ),
            id="control-character",
        ),
        pytest.param(
            "id: a\n---\nid: b\n",
            Problem(
                "",
                "Invalid YAML: but found another document "
                "(expected a single document in the stream started at 1:1)",
                2,
                1,
            ),
            id="two-documents",
        ),
    ],
)
def test_syntax_errors_become_located_problems(text: str, expected: Problem) -> None:
    document = load_yaml(text)
    assert document.value is None
    assert document.problems() == [expected]


def test_an_alias_to_its_own_container_is_an_error() -> None:
    document = load_yaml("a: &loop [*loop]\n")
    assert document.problems() == [
        Problem("a[0]", "an alias refers to a node that contains it", 1, 4)
    ]


def test_a_complex_key_is_an_error() -> None:
    document = load_yaml("? [a, b]\n: value\nid: x\n")
    assert document.value == {"id": "x"}
    assert document.problems() == [Problem("", "a mapping key must be a plain value", 1, 3)]


def test_empty_text_is_an_empty_document() -> None:
    document = load_yaml("# nothing here\n")
    assert document.value is None
    assert document.problems() == []


def test_split_documents_keeps_line_numbers() -> None:
    text = "---\nid: a\n---   # second\n# only a comment\n---\n\nid: b\n...\n---\n"
    assert split_documents(text) == [
        SourceDocument(0, "id: a\n", 2),
        SourceDocument(1, "\nid: b\n...\n", 6),
    ]


def test_split_a_single_document() -> None:
    assert split_documents("id: a\n") == [SourceDocument(0, "id: a\n", 1)]
    assert split_documents("") == []


def test_load_documents_reports_each_document_at_its_lines() -> None:
    text = "id: a\nnamespace: n\n---\nid: b\nid: c\n---\nid: [\n"
    first, second, third = load_documents(text)
    assert first.value == {"id": "a", "namespace": "n"}
    assert second.problems() == [Problem("", "Duplicate field 'id'", 5, 1)]
    assert third.value is None
    assert [(problem.line, problem.column) for problem in third.problems()] == [(8, 1)]


@pytest.mark.parametrize(
    ("path", "text"),
    [
        pytest.param((), "", id="root"),
        pytest.param(("id",), "id", id="key"),
        pytest.param(("tasks", 0, "then", 1, "message"), "tasks[0].then[1].message", id="nested"),
        pytest.param((0, "a"), "[0].a", id="list-root"),
        pytest.param(("cases", "1", 0), "cases.1[0]", id="numeric-key"),
    ],
)
def test_format_path(path: tuple[str | int, ...], text: str) -> None:
    assert format_path(path) == text
