"""Flow YAML -> a validated `Flow`, or every problem with it, each at its line:column.

The steps, in Kestra's order: read the YAML with positions (`yamlsource`), inject
`pluginDefaults` (and the old `taskDefaults`) into every plugin mapping, validate the result
with the `Flow` model, translate each validation error into a located `Problem`, then run the
flow-level checks of `Flow.semantic_problems()`.

Paths are written like `tasks[0].then[1].message`, except that a task is named by its id
(`hello.message`), as Kestra does in its violation texts.
"""

from __future__ import annotations

import difflib
import re
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import UnionType
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails, core_schema

from lanner.exceptions import FlowError, Problem
from lanner.flows import Flow
from lanner.inputs import INPUT_TYPES, InputDeclaration
from lanner.plugin_defaults import property_names, with_defaults
from lanner.tasks import canonical_type, lookup
from lanner.tasks.base import TASK_ID_PATTERN, Task
from lanner.triggers import Condition, Trigger
from lanner.triggers import lookup as lookup_trigger
from lanner.triggers.conditions import lookup_condition
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
_BUILTIN_ERRORS = frozenset(typing.get_args(core_schema.ErrorType))
_UNKNOWN_TYPE_ERRORS = frozenset(
    {"unknown_task_type", "unknown_trigger_type", "unknown_condition_type"}
)
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
            errors = _collapse([_Error.of(detail, values) for detail in exc.errors()])
            self.unknown_types.update(
                str(error.input) for error in errors if error.kind in _UNKNOWN_TYPE_ERRORS
            )
            self.problems.extend(self._problem(error, values) for error in errors)
            return None
        self.problems.extend(self._semantic(message) for message in flow.semantic_problems())
        return flow

    def _not_a_flow(self, raw: Any) -> Problem:
        line, column = self.document.values.get((), (1, 1))
        got = "an empty document" if raw is None else _show(raw)
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

    def _problem(self, error: _Error, values: Mapping[str, Any]) -> Problem:
        if error.kind == "extra_forbidden":
            name = str(error.path[-1])
            record = _record_at(error.path[:-1], values)
            return self._at(error.path, _unrecognized(name, record), key=True)
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
        task = _value_at(raw, path)
        task_type = task.get("type") if isinstance(task, Mapping) else None
        if isinstance(task_type, str) and canonical_type(task_type) in _DEPRECATED_TYPES:
            paths.append(format_path(path))
    return paths


def _value_at(value: Any, path: Path) -> Any:
    for part in path:
        if not _holds(value, part):
            return None
        value = value[part]
    return value


def _holds(container: Any, part: Any) -> bool:
    """Say whether `container[part]` is a value of the data (not a union member's label)."""
    if isinstance(container, Mapping):
        return isinstance(part, str) and part in container
    if isinstance(container, list):
        return isinstance(part, int) and 0 <= part < len(container)
    return False


# -- pydantic errors -> problems ------------------------------------------------------------------


@dataclass(frozen=True)
class _Error:
    """A validation error, its location split into the data path and union member labels."""

    path: Path
    tags: tuple[tuple[int, str], ...]
    """(depth in `path`, label) of each union member the location went through."""
    kind: str
    message: str
    input: Any

    @classmethod
    def of(cls, detail: ErrorDetails, values: Any) -> _Error:
        kind = detail["type"]
        loc = tuple(detail["loc"])
        ctx = detail.get("ctx") or {}
        # A missing key is not in the data; a union tag error names the discriminator key.
        trailing: Path = ()
        if kind == "missing":
            loc, trailing = loc[:-1], (str(loc[-1]),)
        elif kind in ("union_tag_invalid", "union_tag_not_found"):
            trailing = (str(ctx.get("discriminator", "type")).strip("'"),)
        path, tags = _split_loc(loc, values)
        message = _message(kind, detail["msg"], detail.get("input"), ctx)
        if kind == "union_tag_not_found":
            kind, message = "missing", "must not be null"
        return cls((*path, *trailing), tags, kind, message, detail.get("input"))

    def without_first_tag(self) -> _Error:
        return _Error(self.path, self.tags[1:], self.kind, self.message, self.input)


def _split_loc(loc: Sequence[int | str], values: Any) -> tuple[Path, tuple[tuple[int, str], ...]]:
    """Separate the parts of a location that exist in the data from union member labels."""
    path: list[str | int] = []
    tags: list[tuple[int, str]] = []
    current = values
    for part in loc:
        if _holds(current, part):
            current = current[part]
            path.append(part)
        else:
            tags.append((len(path), str(part)))
    return tuple(path), tuple(tags)


def _collapse(errors: list[_Error]) -> list[_Error]:
    """Turn the errors of each failed union into those of one member, or into one error."""
    plain = [error for error in errors if not error.tags]
    unions: dict[Path, dict[str, list[_Error]]] = {}
    for error in errors:
        if error.tags:
            depth, label = error.tags[0]
            unions.setdefault(error.path[:depth], {}).setdefault(label, []).append(error)
    for where, members in unions.items():
        plain.extend(_resolve_union(where, members))
    return plain


def _resolve_union(where: Path, members: dict[str, list[_Error]]) -> list[_Error]:
    if len(members) == 1:
        chosen = next(iter(members.values()))
    else:
        # The member whose errors are all inside the value accepted its shape: it was meant.
        inside = [errs for errs in members.values() if all(len(e.path) > len(where) for e in errs)]
        if len(inside) != 1:
            return [_union_error(where, members)]
        chosen = inside[0]
    return _collapse([error.without_first_tag() for error in chosen])


def _union_error(where: Path, members: dict[str, list[_Error]]) -> _Error:
    errors = [error for errs in members.values() for error in errs]
    found = next((error.input for error in errors if error.path == where), errors[0].input)
    if found is None:
        return _Error(where, (), "missing", "must not be null", found)
    custom = next((error for error in errors if error.kind not in _BUILTIN_ERRORS), None)
    if custom is not None:
        return _Error(where, (), custom.kind, custom.message, found)
    expected: dict[str, None] = {}
    for label, errs in members.items():
        wanted = _member_description(label, errs[0].kind)
        if wanted:
            expected[wanted] = None
    message = f"expected {' or '.join(expected) or 'another value'}, got {_show(found)}"
    return _Error(where, (), "union", message, found)


_LABEL_WORDS = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "a boolean",
    "none": "null",
    "list[str]": "a list of strings",
}

_KIND_WORDS = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "a boolean (true or false)",
    "bool_parsing": "a boolean (true or false)",
    "list_type": "a list",
    "tuple_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "dataclass_type": "a mapping",
}


def _member_description(label: str, kind: str) -> str | None:
    if label == "Expr":
        # Every templated property accepts an expression: saying so adds nothing.
        return None
    if label in _LABEL_WORDS:
        return _LABEL_WORDS[label]
    if label.startswith(("list[", "tuple[")):
        return "a list"
    if label.startswith("dict["):
        return "a mapping"
    return _KIND_WORDS.get(kind, label)


def _message(kind: str, raw_message: str, found: Any, ctx: Mapping[str, Any]) -> str:
    """Say what was expected and what was found, in words (never pydantic's own text)."""
    got = f", got {_show(found)}"
    if kind in _KIND_WORDS:
        # Optional properties accept null, so a null refused here was a required value.
        return "must not be null" if found is None else f"expected {_KIND_WORDS[kind]}{got}"
    special = _SPECIAL_MESSAGES.get(kind)
    if special is not None:
        return special(found, ctx)
    if kind not in _BUILTIN_ERRORS:
        # Our own errors (PydanticCustomError) are already worded for users.
        needs_got = raw_message.startswith("expected") and ", got " not in raw_message
        return raw_message + got if needs_got else raw_message
    if raw_message.startswith("Input should be "):
        return "expected " + raw_message.removeprefix("Input should be ") + got
    return raw_message


def _too_short(found: Any, ctx: Mapping[str, Any]) -> str:
    if isinstance(found, list | str | Mapping) and len(found) == 0:
        return "must not be empty"
    unit = "characters" if isinstance(found, str) else "items"
    return f"expected at least {ctx.get('min_length')} {unit}, got {_show(found)}"


def _too_long(found: Any, ctx: Mapping[str, Any]) -> str:
    unit = "characters" if isinstance(found, str) else "items"
    length = len(found) if isinstance(found, list | str | Mapping) else "more"
    return f"expected at most {ctx.get('max_length')} {unit}, got {length}"


def _bound(word: str, key: str) -> Callable[[Any, Mapping[str, Any]], str]:
    return lambda found, ctx: f"must be {word} {ctx.get(key)}, got {_show(found)}"


def _wrapped_error(found: Any, ctx: Mapping[str, Any]) -> str:
    return str(ctx.get("error", "invalid value"))


_SPECIAL_MESSAGES: dict[str, Callable[[Any, Mapping[str, Any]], str]] = {
    "string_pattern_mismatch": lambda found, ctx: (
        f'must match "{ctx.get("pattern")}", got {_show(found)}'
    ),
    "too_short": _too_short,
    "string_too_short": _too_short,
    "too_long": _too_long,
    "string_too_long": _too_long,
    "greater_than": _bound("greater than", "gt"),
    "greater_than_equal": _bound("greater than or equal to", "ge"),
    "less_than": _bound("less than", "lt"),
    "less_than_equal": _bound("less than or equal to", "le"),
    "enum": lambda found, ctx: f"expected one of {ctx.get('expected')}, got {_show(found)}",
    "literal_error": lambda found, ctx: f"expected {ctx.get('expected')}, got {_show(found)}",
    "union_tag_invalid": lambda found, ctx: (
        f"expected one of {ctx.get('expected_tags')}, got {_show(ctx.get('tag'))}"
    ),
    "value_error": _wrapped_error,
    "assertion_error": _wrapped_error,
}


def _show(value: Any, limit: int = 60) -> str:
    """Write a found value briefly: strings quoted, collections in YAML's flow style."""
    if isinstance(value, str):
        text = value if len(value) <= limit else value[: limit - 3] + "..."
        return f"'{text}'"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        text = "{" + ", ".join(f"{key}: {_show(item)}" for key, item in value.items()) + "}"
    elif isinstance(value, list | tuple):
        text = "[" + ", ".join(_show(item) for item in value) + "]"
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- which record a location belongs to (for "class X" in messages) -------------------------------


def _unrecognized(name: str, record: type | None) -> str:
    owner = _record_name(record)
    message = f'Unrecognized field "{name}" (class {owner}), not marked as ignorable'
    known = property_names(record) if _is_record(record) else None
    close = difflib.get_close_matches(name, sorted(known or ()), n=1, cutoff=0.75)
    return f'{message} (did you mean "{close[0]}"?)' if close else message


def _record_name(record: type | None) -> str:
    if record is None:
        return "Flow"
    if issubclass(record, Task | Trigger | Condition) and record.TYPE:
        return record.TYPE
    return record.__name__


def _record_at(path: Path, values: Any) -> type | None:
    """Return the model class that validates the mapping at `path`, following the annotations."""
    kind: Any = Flow
    current = values
    for part in path:
        current = _value_at(current, (part,))
        kind = _concrete(_child_annotation(kind, part), current)
        if kind is None:
            return None
    return kind if _is_class(kind) else None


def _is_record(kind: Any) -> bool:
    # Parametrised generics (`list[int]`) are not classes for issubclass.
    return _is_class(kind) and issubclass(kind, BaseModel)


def _child_annotation(kind: Any, part: str | int) -> Any:
    if _is_record(kind):
        for name, info in kind.model_fields.items():
            if part in (name, info.alias):
                return info.annotation
        return None
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (list, tuple, Sequence) and args:
        return args[0]
    if origin in (dict, Mapping) and len(args) == 2:
        return args[1]
    return None


def _concrete(kind: Any, value: Any) -> Any:
    """Narrow an annotation to the class that validates `value` (unions, tasks, inputs)."""
    while typing.get_origin(kind) is typing.Annotated:
        kind = typing.get_args(kind)[0]
    if typing.get_origin(kind) in (typing.Union, UnionType):
        kind = _union_member(typing.get_args(kind), value)
    plugin_type = value.get("type") if isinstance(value, Mapping) else None
    if _is_class(kind) and isinstance(plugin_type, str):
        if issubclass(kind, Task):
            return lookup(plugin_type) or kind
        if issubclass(kind, Trigger):
            return lookup_trigger(plugin_type) or kind
        if issubclass(kind, Condition):
            return lookup_condition(plugin_type) or kind
        if issubclass(kind, InputDeclaration):
            return INPUT_TYPES.get(plugin_type, kind)
    return kind


def _is_class(kind: Any) -> bool:
    return typing.get_origin(kind) is None and isinstance(kind, type)


def _union_member(members: Sequence[Any], value: Any) -> Any:
    unwrapped = [_concrete(member, value) for member in members]
    records = [m for m in unwrapped if _is_record(m)]
    if isinstance(value, Mapping):
        tagged = [m for m in records if value.get("type") in _literal_values(m, "type")]
        maps = [m for m in unwrapped if typing.get_origin(m) in (dict, Mapping)]
        return (tagged or records or maps or [None])[0]
    if isinstance(value, list):
        return next((m for m in unwrapped if typing.get_origin(m) in (list, tuple)), None)
    return None


def _literal_values(record: type[BaseModel], name: str) -> tuple[Any, ...]:
    info = record.model_fields.get(name)
    if info is None or typing.get_origin(info.annotation) is not typing.Literal:
        return ()
    return typing.get_args(info.annotation)
