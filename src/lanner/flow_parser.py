"""Flow YAML -> a validated `Flow`, or every problem with it, each at its line:column.

The steps, in Kestra's order: read the YAML with positions (`yamlsource`), inject
`pluginDefaults` (and the old `taskDefaults`) into every plugin mapping, validate the result
with the `Flow` model, translate each validation error into a located `Problem`, then run the
flow-level checks of `Flow.semantic_problems()`.

Paths are written like `tasks[0].then[1].message`, except that a task is named by its id
(`hello.message`), as Kestra does in its violation texts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from lanner.exceptions import FlowError, Problem
from lanner.flow_errors import (
    UNKNOWN_TYPE_ERRORS,
    ValidationIssue,
    collapse,
    record_at,
    show,
    unrecognized,
    value_at,
)
from lanner.flows import Flow
from lanner.plugin_defaults import with_defaults
from lanner.tasks import canonical_type
from lanner.tasks.base import TASK_ID_PATTERN
from lanner.yamlsource import Path, Position, YamlDocument, format_path, load_yaml

__all__ = ["FlowReport", "parse_flow", "validate_flow"]

# Keys whose value is a list of tasks, in a flow and in flowable tasks.
_TASK_LISTS = frozenset(
    {"tasks", "errors", "finally", "afterExecution", "then", "else", "defaults"}
)
# Task types Kestra marks @Deprecated: using one is reported in `deprecation_paths`.
_DEPRECATED_TYPES = frozenset(
    {
        "io.kestra.plugin.core.debug.Echo",
        "io.kestra.plugin.core.flow.EachSequential",
        "io.kestra.plugin.core.flow.EachParallel",
        "io.kestra.plugin.core.flow.Template",
    }
)
_DEPRECATED_KEYS = ("taskDefaults", "listeners", "template")
_VALID_TASK_ID = re.compile(TASK_ID_PATTERN)
# Flow-level violations (Flow.semantic_problems) and what they name.
_REPEATED = re.compile(r"^Duplicate (task id|trigger id|input|output) with name \[([^,\]]+)")
_REPEATED_KEYS = {"trigger id": "triggers", "input": "inputs", "output": "outputs"}
_SYSTEM_LABEL = re.compile(r"offending label: ([^=]+)=")
_INPUT_ID = re.compile(r"[Ii]nput with id '([^']+)'")


@dataclass(frozen=True)
class FlowReport:
    """What validating one flow document found (the `/flows/validate` item, before JSON)."""

    flow: str | None
    """The flow id, when the document has a readable one."""
    namespace: str | None
    problems: list[Problem] = field(default_factory=list)
    infos: list[str] = field(default_factory=list)
    """Legacy type names and what replaces them."""
    warnings: list[str] = field(default_factory=list)
    deprecation_paths: list[str] = field(default_factory=list)
    model: Flow | None = None
    """The validated flow, when there is no problem."""

    @property
    def valid(self) -> bool:
        """Say whether the flow has no problem."""
        return not self.problems

    def constraints(self) -> str | None:
        """Return the violation text (`<path>: <message>` lines), or None when valid."""
        if not self.problems:
            return None
        lines = (f"{p.path}: {p.message}" if p.path else p.message for p in self.problems)
        return "\n".join(lines)


def parse_flow(text: str, source_name: str | None = None) -> Flow:
    """Parse and validate a flow; raise FlowError listing every problem, each located."""
    report = validate_flow(text, source_name)
    if report.model is None:
        raise FlowError(report.problems, source_name)
    return report.model


def validate_flow(text: str, source_name: str | None = None, *, first_line: int = 1) -> FlowReport:
    """Validate a flow document without raising; `first_line` numbers its first line.

    `source_name` is accepted for symmetry with `parse_flow`; problems carry positions only.
    """
    document = load_yaml(text, first_line)
    return _Validation(document).run()


class _Validation:
    """One validation run over one YAML document."""

    def __init__(self, document: YamlDocument) -> None:
        self.document = document
        raw = document.value
        self.raw: Any = raw
        self.tasks = _task_mappings(raw) if isinstance(raw, Mapping) else {}
        self.problems: list[Problem] = document.problems(self.describe)
        self.warnings: list[str] = []
        # Types already reported as invalid: an alias info about them would only confuse.
        self.unknown_types: set[str] = set()

    def run(self) -> FlowReport:
        raw = self.raw
        model = None
        if not isinstance(raw, Mapping):
            if not self.document.errors:
                self.problems.append(self._not_a_flow(raw))
        else:
            values, self.warnings = with_defaults(raw)
            model = self._validate(values)
        self.problems.sort(key=_problem_order)
        return FlowReport(
            flow=_text(raw, "id"),
            namespace=_text(raw, "namespace"),
            problems=self.problems,
            infos=_alias_infos(raw, self.unknown_types),
            warnings=self.warnings,
            deprecation_paths=_deprecation_paths(raw, self.tasks),
            model=model if not self.problems else None,
        )

    def _validate(self, values: Mapping[str, Any]) -> Flow | None:
        try:
            flow = Flow.model_validate(values)
        except ValidationError as exc:
            errors = collapse([ValidationIssue.of(detail, values) for detail in exc.errors()])
            self.unknown_types.update(
                str(error.input) for error in errors if error.kind in UNKNOWN_TYPE_ERRORS
            )
            self.problems.extend(self._problem(error, values) for error in errors)
            return None
        self.problems.extend(self._semantic(message) for message in flow.semantic_problems())
        return flow

    def _not_a_flow(self, raw: Any) -> Problem:
        line, column = self.document.values.get((), (1, 1))
        got = "an empty document" if raw is None else show(raw)
        message = f"expected a flow (a mapping with id, namespace and tasks), got {got}"
        return Problem("", message, line, column)

    # -- paths ----------------------------------------------------------------------------------

    def describe(self, path: Path) -> str:
        """Write a path, naming the innermost task on it by its id."""
        for end in range(len(path), 0, -1):
            task_id = self.tasks.get(path[:end])
            if task_id is not None:
                rest = format_path(path[end:])
                return task_id + ("" if not rest else rest if rest[0] == "[" else "." + rest)
        return format_path(path)

    def _locate(self, path: Path, *, key: bool = False) -> Position | None:
        found = self.document.key_position(path) if key else None
        return found or self.document.nearest(path)[1]

    def _at(self, path: Path, message: str, *, key: bool = False) -> Problem:
        position = self._locate(path, key=key)
        line, column = position if position else (None, None)
        return Problem(self.describe(path), message, line, column)

    # -- validation errors ----------------------------------------------------------------------

    def _problem(self, error: ValidationIssue, values: Mapping[str, Any]) -> Problem:
        if error.kind == "extra_forbidden":
            name = str(error.path[-1])
            record = record_at(error.path[:-1], values)
            return self._at(error.path, unrecognized(name, record), key=True)
        if error.kind == "missing":
            return self._at(error.path, "must not be null")
        return self._at(error.path, error.message)

    # -- semantic problems ----------------------------------------------------------------------

    def _semantic(self, message: str) -> Problem:
        prefix, _, rest = message.partition(": ")
        task_path = self._task_path(prefix) if rest else None
        if task_path is not None:
            return self._at(task_path, rest)
        path = self._flow_level_path(message)
        position = self._locate(path, key=True) if path is not None else None
        line, column = position if position else (None, None)
        return Problem("", message, line, column)

    def _task_path(self, task_id: str) -> Path | None:
        return next((path for path, known in self.tasks.items() if known == task_id), None)

    def _flow_level_path(self, message: str) -> Path | None:
        """Find where a flow-level violation is written (for a duplicate, its repeat)."""
        if repeated := _REPEATED.match(message):
            kind, first = repeated.groups()
            if kind == "task id":
                return self._repeated_task(first)
            key = _REPEATED_KEYS[kind]
            indexes = _indexes_where(self.raw.get(key), "id", first)
            return (key, indexes[1], "id") if len(indexes) > 1 else (key,)
        if label := _SYSTEM_LABEL.search(message):
            return self._label(label.group(1))
        if input_id := _INPUT_ID.search(message):
            return self._input_where("id", input_id.group(1), ())
        if "`defaults`" in message:
            return self._input_where("type", "FILE", ("defaults",))
        if "`itemType`" in message:
            return self._input_where("itemType", "ARRAY", ("itemType",))
        return None

    def _repeated_task(self, task_id: str) -> Path | None:
        paths = [path for path, known in self.tasks.items() if known == task_id]
        paths.sort(key=lambda path: self.document.values.get(path, (0, 0)))
        return (*paths[1], "id") if len(paths) > 1 else None

    def _input_where(self, name: str, value: str, then: Path) -> Path:
        indexes = _indexes_where(self.raw.get("inputs"), name, value)
        return ("inputs", indexes[0], *then) if indexes else ("inputs",)

    def _label(self, key: str) -> Path:
        labels = self.raw.get("labels")
        if isinstance(labels, Mapping):
            return ("labels", key)
        indexes = _indexes_where(labels, "key", key)
        return ("labels", indexes[0]) if indexes else ("labels",)


def _problem_order(problem: Problem) -> tuple[int, int]:
    if problem.line is None:
        return (1 << 30, 0)
    return (problem.line, problem.column or 0)


def _text(raw: Any, key: str) -> str | None:
    value = raw.get(key) if isinstance(raw, Mapping) else None
    return value if isinstance(value, str) else None


def _indexes_where(items: Any, name: str, value: str) -> list[int]:
    """Return the indexes of the mappings of a list whose `name` reads as `value`."""
    if not isinstance(items, list):
        return []
    return [
        index
        for index, item in enumerate(items)
        if isinstance(item, Mapping) and str(item.get(name)) == value
    ]


# -- the tasks of a flow, found in its raw values -------------------------------------------------


def _task_mappings(flow: Mapping[str, Any]) -> dict[Path, str]:
    """Return the path of every task mapping with a valid id, in document order."""
    found: dict[Path, str] = {}
    for key in ("tasks", "errors", "finally", "afterExecution"):
        _collect_tasks(flow.get(key), (key,), found)
    return found


def _collect_tasks(items: Any, path: Path, found: dict[Path, str]) -> None:
    if not isinstance(items, list):
        return
    for index, item in enumerate(items):
        item_path: Path = (*path, index)
        if isinstance(item, Mapping) and "task" in item and "type" not in item:
            # A Dag node: {task, dependsOn}.
            item, item_path = item["task"], (*item_path, "task")
        if isinstance(item, Mapping):
            _collect_task(item, item_path, found)


def _collect_task(task: Mapping[str, Any], path: Path, found: dict[Path, str]) -> None:
    task_id = task.get("id")
    if isinstance(task_id, str) and _VALID_TASK_ID.match(task_id):
        found[path] = task_id
    for key, value in task.items():
        if key in _TASK_LISTS:
            _collect_tasks(value, (*path, key), found)
        elif key == "cases" and isinstance(value, Mapping):
            for case, tasks in value.items():
                _collect_tasks(tasks, (*path, key, case), found)


# -- infos and deprecations -----------------------------------------------------------------------


def _alias_infos(raw: Any, unknown: set[str]) -> list[str]:
    """Return `<old> is replaced by <new>` once for each legacy type name used."""
    infos: dict[str, None] = {}
    for plugin_type in _plugin_types(raw):
        current = canonical_type(plugin_type)
        if current != plugin_type and plugin_type not in unknown:
            infos[f"{plugin_type} is replaced by {current}"] = None
    return list(infos)


def _plugin_types(value: Any) -> Iterator[str]:
    if isinstance(value, Mapping):
        if isinstance(value.get("type"), str):
            yield value["type"]
        for item in value.values():
            yield from _plugin_types(item)
    elif isinstance(value, list):
        for item in value:
            yield from _plugin_types(item)


def _deprecation_paths(raw: Any, tasks: Mapping[Path, str]) -> list[str]:
    if not isinstance(raw, Mapping):
        return []
    paths = [key for key in _DEPRECATED_KEYS if key in raw]
    for path in tasks:
        task = value_at(raw, path)
        task_type = task.get("type") if isinstance(task, Mapping) else None
        if isinstance(task_type, str) and canonical_type(task_type) in _DEPRECATED_TYPES:
            paths.append(format_path(path))
    return paths
