"""The kv.* tasks and the kv() function, in small flows run end to end on a memory KV store."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from lanner.context import kv_function
from lanner.exceptions import ExpressionError
from lanner.expressions import render, render_typed
from lanner.states import State
from lanner.store import KVStore, KVType, MemoryStore
from tests.unit.engine.driver import Drive, drive

DOC = Path(__file__).resolve().parents[3] / "docs" / "kv.md"
NS = "company.team"
HEADER = f"id: f\nnamespace: {NS}\n"


@pytest.fixture
def kv() -> KVStore:
    return MemoryStore().kv


async def run(tasks: str, tmp_path: Path, kv: KVStore | None, extra: str = "") -> Drive:
    return await drive(HEADER + extra + "tasks:\n" + tasks, tmp_path, kv=kv)


def task(task_id: str, kind: str, **properties: str) -> str:
    lines = [f"  - id: {task_id}", f"    type: io.kestra.plugin.core.kv.{kind}"]
    lines.extend(f"    {name}: {value}" for name, value in properties.items())
    return "\n".join(lines) + "\n"


def log(task_id: str, message: str) -> str:
    return f"  - id: {task_id}\n    type: io.kestra.plugin.core.log.Log\n    message: {message}\n"


# -- kv.Set ----------------------------------------------------------------------------------

SET_CASES: list[tuple[str, dict[str, str], KVType, Any]] = [
    ("text", {"value": "hello"}, KVType.STRING, "hello"),
    ("rendered-text", {"value": "'{{ flow.id }}-x'"}, KVType.STRING, "f-x"),
    ("typed-number", {"value": "'{{ 40 + 2 }}'"}, KVType.NUMBER, 42),
    ("typed-boolean", {"value": "'{{ 1 < 2 }}'"}, KVType.BOOLEAN, True),
    ("typed-map", {"value": "\"{{ {'a': [1, 2]} }}\""}, KVType.JSON, {"a": [1, 2]}),
    ("yaml-map", {"value": "{a: '{{ flow.id }}', n: 1}"}, KVType.JSON, {"a": "f", "n": 1}),
    ("yaml-list", {"value": "[1, two]"}, KVType.JSON, [1, "two"]),
    ("yaml-number", {"value": "12.5"}, KVType.NUMBER, 12.5),
    ("kvType-number", {"value": "'42'", "kvType": "NUMBER"}, KVType.NUMBER, 42),
    ("kvType-float", {"value": "'4.5'", "kvType": "NUMBER"}, KVType.NUMBER, 4.5),
    ("kvType-boolean", {"value": "'TRUE'", "kvType": "BOOLEAN"}, KVType.BOOLEAN, True),
    ("kvType-not-true", {"value": "'yes'", "kvType": "BOOLEAN"}, KVType.BOOLEAN, False),
    (
        "kvType-datetime",
        {"value": "'2024-01-02T03:04:05+02:00'", "kvType": "DATETIME"},
        KVType.DATETIME,
        datetime(2024, 1, 2, 1, 4, 5, tzinfo=UTC),
    ),
    ("kvType-date", {"value": "'2024-02-29'", "kvType": "DATE"}, KVType.DATE, date(2024, 2, 29)),
    (
        "kvType-date-of-instant",
        {"value": "'2024-02-29T23:00:00Z'", "kvType": "DATE"},
        KVType.DATE,
        date(2024, 2, 29),
    ),
    (
        "kvType-duration",
        {"value": "PT1H30M", "kvType": "DURATION"},
        KVType.DURATION,
        timedelta(minutes=90),
    ),
    ("kvType-json", {"value": "'{\"a\": 1}'", "kvType": "JSON"}, KVType.JSON, {"a": 1}),
    ("kvType-string", {"value": "'42'", "kvType": "STRING"}, KVType.STRING, "42"),
    ("kvType-templated", {"value": "'7'", "kvType": "\"{{ 'number' }}\""}, KVType.NUMBER, 7),
    ("kvType-leaves-non-text", {"value": "'{{ 5 }}'", "kvType": "STRING"}, KVType.NUMBER, 5),
]


@pytest.mark.parametrize(
    ("properties", "kind", "expected"),
    [(properties, kind, expected) for _, properties, kind, expected in SET_CASES],
    ids=[name for name, *_ in SET_CASES],
)
async def test_set_stores_typed_values(
    tmp_path: Path, kv: KVStore, properties: dict[str, str], kind: KVType, expected: Any
) -> None:
    result = await run(task("set", "Set", key="k", **properties), tmp_path, kv)

    assert result.execution.current is State.SUCCESS, result.messages()
    entry = kv.get(NS, "k")
    assert entry is not None
    assert (entry.type, entry.value) == (kind, expected)
    assert result.run("set").outputs is None


async def test_set_renders_key_and_namespace_and_sets_a_ttl(tmp_path: Path, kv: KVStore) -> None:
    tasks = task(
        "set", "Set", key="'{{ flow.id }}-key'", value="v", namespace="other.ns", ttl="PT1H"
    )

    result = await run(tasks, tmp_path, kv)

    assert result.execution.current is State.SUCCESS
    entry = kv.get("other.ns", "f-key")
    assert entry is not None
    assert entry.expiration_date == entry.update_date + timedelta(hours=1)
    assert kv.get(NS, "f-key") is None


async def test_set_without_overwrite_fails_on_an_existing_key(tmp_path: Path, kv: KVStore) -> None:
    kv.put(NS, "k", "first")

    result = await run(task("set", "Set", key="k", value="second", overwrite="false"), tmp_path, kv)

    assert result.run("set").current is State.FAILED
    assert result.messages("set") == [
        "Cannot set value for key 'k'. Key already exists and `overwrite` is set to `false`."
    ]
    kept = kv.get(NS, "k")
    assert kept is not None
    assert kept.value == "first"


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        ({"key": "'-bad'", "value": "v"}, "Invalid key '-bad': a key must start with"),
        ({"key": "k", "value": "abc", "kvType": "NUMBER"}, "Unable to read 'abc' as a NUMBER"),
        ({"key": "k", "value": "x", "kvType": "DATE"}, "Unable to read 'x' as a DATE"),
        ({"key": "k", "value": "x", "kvType": "\"{{ 'nope' }}\""}, "Invalid kvType 'nope'"),
        ({"key": "k", "value": "x", "overwrite": "\"{{ 'maybe' }}\""}, "'overwrite' must be"),
    ],
    ids=["bad-key", "not-a-number", "not-a-date", "unknown-kvType", "bad-overwrite"],
)
async def test_set_failures_say_why(
    tmp_path: Path, kv: KVStore, properties: dict[str, str], message: str
) -> None:
    result = await run(task("set", "Set", **properties), tmp_path, kv)

    assert result.run("set").current is State.FAILED
    assert any(line.startswith(message) for line in result.messages("set")), result.messages()
    assert kv.list(NS) == []


# -- kv.Get, kv.Delete, kv.GetKeys -------------------------------------------------------------


async def test_get_returns_the_value_as_json(tmp_path: Path, kv: KVStore) -> None:
    kv.put(NS, "map", {"field": "value"})
    kv.put(NS, "when", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC))
    kv.put("other.ns", "far", 1)
    tasks = (
        task("map", "Get", key="map")
        + task("when", "Get", key="when")
        + task("far", "Get", key="far", namespace="other.ns")
        + task("none", "Get", key="missing")
    )

    result = await run(tasks, tmp_path, kv)

    assert result.execution.current is State.SUCCESS
    assert result.run("map").outputs == {"value": {"field": "value"}}
    assert result.run("when").outputs == {"value": "2024-01-02T03:04:05Z"}
    assert result.run("far").outputs == {"value": 1}
    assert result.run("none").outputs == {"value": None}


async def test_get_with_error_on_missing_fails(tmp_path: Path, kv: KVStore) -> None:
    result = await run(task("get", "Get", key="missing", errorOnMissing="true"), tmp_path, kv)

    assert result.run("get").current is State.FAILED
    assert result.messages("get") == [
        f"No value found for key 'missing' in namespace '{NS}' and `errorOnMissing` is set to true"
    ]


async def test_delete_outputs_whether_it_deleted(tmp_path: Path, kv: KVStore) -> None:
    kv.put(NS, "k", "v")
    tasks = task("first", "Delete", key="k") + task("again", "Delete", key="k")

    result = await run(tasks, tmp_path, kv)

    assert result.run("first").outputs == {"deleted": True}
    assert result.run("again").outputs == {"deleted": False}
    assert kv.get(NS, "k") is None


async def test_delete_with_error_on_missing_fails(tmp_path: Path, kv: KVStore) -> None:
    tasks = task("delete", "Delete", key="k", errorOnMissing='"{{ true }}"')

    result = await run(tasks, tmp_path, kv)

    assert result.run("delete").current is State.FAILED
    assert result.messages("delete")[0].startswith("No value found for key 'k'")


async def test_get_keys_lists_a_namespace(tmp_path: Path, kv: KVStore) -> None:
    for key in ("b-1", "a-1", "a-2"):
        kv.put(NS, key, key)
    kv.put("other.ns", "a-3", 1)
    tasks = task("all", "GetKeys") + task("a", "GetKeys", prefix="'{{ \"a\" }}-'")

    result = await run(tasks, tmp_path, kv)

    assert result.run("all").outputs == {"keys": ["a-1", "a-2", "b-1"]}
    assert result.run("a").outputs == {"keys": ["a-1", "a-2"]}


async def test_tasks_fail_without_a_kv_store(tmp_path: Path) -> None:
    result = await run(task("get", "Get", key="k"), tmp_path, None)

    assert result.run("get").current is State.FAILED
    assert result.messages("get") == ["The KV store is not available to this task run"]


async def test_set_then_get_in_one_flow(tmp_path: Path, kv: KVStore) -> None:
    tasks = (
        task("set", "Set", key="counter", value="'{{ 41 + 1 }}'")
        + task("get", "Get", key="counter")
        + log("show", "'{{ outputs.get.value + 1 }} {{ kv(\"counter\") }}'")
    )

    result = await run(tasks, tmp_path, kv)

    assert result.execution.current is State.SUCCESS
    assert result.messages("show") == ["43 42"]


# -- the kv() function -----------------------------------------------------------------------


def render_kv(kv: KVStore, template: str) -> Any:
    functions = {"kv": kv_function(kv)}
    return render_typed(template, {"flow": {"namespace": NS}, "ns": "other.ns"}, functions)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ kv('k') }}", {"field": "value"}),
        ("{{ kv('k').field }}", "value"),
        ("{{ kv('k', 'other.ns') }}", 2),
        ("{{ kv('k', ns, true) }}", 2),
        ("{{ kv(key='k', namespace=ns) }}", 2),
        ("{{ kv(namespace=ns, key='k', errorOnMissing=true) }}", 2),
        ("{{ kv('missing') }}", None),
        ("{{ kv('missing', errorOnMissing=false) }}", None),
        ("{{ kv('missing') ?? 'fallback' }}", "fallback"),
        ("{{ kv('when') }}", datetime(2024, 1, 2, tzinfo=UTC)),
        ("{{ kv('wait') }}", "PT5M"),
    ],
)
def test_kv_function_reads_the_store(kv: KVStore, template: str, expected: Any) -> None:
    kv.put(NS, "k", {"field": "value"})
    kv.put("other.ns", "k", 2)
    kv.put(NS, "when", datetime(2024, 1, 2, tzinfo=UTC))
    kv.put(NS, "wait", timedelta(minutes=5))

    assert render_kv(kv, template) == expected


def test_kv_function_prints_values_as_kestra(kv: KVStore) -> None:
    kv.put(NS, "when", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC))
    kv.put(NS, "map", {"a": [1, 2]})

    text = render(
        "{{ kv('when') }} {{ kv('map') }}", {"flow": {"namespace": NS}}, {"kv": kv_function(kv)}
    )

    assert text == '2024-01-02T03:04:05Z {"a":[1,2]}'


@pytest.mark.parametrize(
    ("template", "message"),
    [
        (
            "{{ kv('missing', errorOnMissing=true) }}",
            f"The key 'missing' does not exist in the namespace '{NS}'.",
        ),
        (
            "{{ kv('k', 'empty.ns', true) }}",
            "The key 'k' does not exist in the namespace 'empty.ns'.",
        ),
        ("{{ kv() }}", "The 'kv' function expects an argument 'key'."),
        (
            "{{ kv('k', errorOnMissing='yes') }}",
            "The 'kv' function expects 'errorOnMissing' to be a boolean.",
        ),
        (
            "{{ kv('bad key') }}",
            "Invalid key 'bad key': a key must start with an alphanumeric character (uppercase or"
            " lowercase) and can contain alphanumeric characters (uppercase or lowercase), dots"
            " (.), underscores (_), and hyphens (-) only. in `{{ kv('bad key') }}` at line 1",
        ),
    ],
    ids=["missing", "missing-in-namespace", "no-key", "not-a-boolean", "bad-key"],
)
def test_kv_function_errors(kv: KVStore, template: str, message: str) -> None:
    kv.put(NS, "k", 1)

    with pytest.raises(ExpressionError) as caught:
        render_kv(kv, template)

    assert str(caught.value) == message


async def test_kv_function_fails_the_task_with_kestra_message(tmp_path: Path, kv: KVStore) -> None:
    tasks = log("read", "\"{{ kv('missing', errorOnMissing=true) }}\"")

    result = await run(tasks, tmp_path, kv)

    assert result.run("read").current is State.FAILED
    assert result.messages("read") == [f"The key 'missing' does not exist in the namespace '{NS}'."]


async def test_kv_function_in_flowables_and_flow_outputs(tmp_path: Path, kv: KVStore) -> None:
    kv.put(NS, "enabled", True)
    kv.put(NS, "greeting", "hi")
    tasks = """
  - id: check
    type: io.kestra.plugin.core.flow.If
    condition: "{{ kv('enabled') }}"
    then:
      - id: yes
        type: io.kestra.plugin.core.log.Log
        message: "{{ kv('greeting') }}"
  - id: skipped
    type: io.kestra.plugin.core.log.Log
    runIf: "{{ kv('missing') ?? false }}"
    message: never
"""
    outputs = """outputs:
  - id: greeting
    type: STRING
    value: "{{ kv('greeting') }} there"
"""

    result = await run(tasks, tmp_path, kv, extra=outputs)

    assert result.execution.current is State.SUCCESS
    assert result.messages("yes") == ["hi"]
    assert result.run("skipped").current is State.SKIPPED
    assert result.execution.outputs == {"greeting": "hi there"}


async def test_kv_function_is_unknown_without_a_kv_store(tmp_path: Path) -> None:
    result = await run(log("read", "\"{{ kv('k') }}\""), tmp_path, None)

    assert result.run("read").current is State.FAILED
    assert "kv" in result.messages("read")[0]


async def test_the_documented_example_counts_its_runs(tmp_path: Path, kv: KVStore) -> None:
    example = re.findall(r"```yaml\n(.*?)```", DOC.read_text(), flags=re.DOTALL)[0]

    first = await drive(example, tmp_path / "first", kv=kv)
    second = await drive(example, tmp_path / "second", kv=kv)

    assert second.execution.current is State.SUCCESS
    assert first.messages("report")[0].startswith("Run number 1, started 20")
    assert second.messages("report")[0].startswith("Run number 2, started 20")
    assert second.run("keys").outputs == {"keys": ["last_run"]}
    assert second.run("forget").outputs == {"deleted": False}
    last_run = kv.get(NS, "last_run")
    assert last_run is not None
    assert last_run.type is KVType.DATETIME
    assert last_run.expiration_date == last_run.update_date + timedelta(days=30)
