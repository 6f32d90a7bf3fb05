"""Pydantic's validation errors -> the messages Kestra gives for the same mistakes in a flow.

`flow_parser` validates a flow with pydantic; each error becomes a `ValidationIssue` here (its
data path, the union members it went through, a message in Kestra's words), and unions are
collapsed to the member the value was meant for.
"""

from __future__ import annotations

import difflib
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import UnionType
from typing import Any

from pydantic import BaseModel
from pydantic_core import ErrorDetails, core_schema

from lanner.flows import Flow
from lanner.inputs import INPUT_TYPES, InputDeclaration
from lanner.plugin_defaults import property_names
from lanner.tasks import lookup
from lanner.tasks.base import Task
from lanner.triggers import Condition, Trigger
from lanner.triggers import lookup as lookup_trigger
from lanner.triggers.conditions import lookup_condition
from lanner.yamlsource import Path

__all__ = [
    "UNKNOWN_TYPE_ERRORS",
    "ValidationIssue",
    "collapse",
    "record_at",
    "show",
    "unrecognized",
]

_BUILTIN_ERRORS = frozenset(typing.get_args(core_schema.ErrorType))
UNKNOWN_TYPE_ERRORS = frozenset(
    {"unknown_task_type", "unknown_trigger_type", "unknown_condition_type"}
)


@dataclass(frozen=True)
class ValidationIssue:
    """A validation error, its location split into the data path and union member labels."""

    path: Path
    tags: tuple[tuple[int, str], ...]
    """(depth in `path`, label) of each union member the location went through."""
    kind: str
    message: str
    input: Any

    @classmethod
    def of(cls, detail: ErrorDetails, values: Any) -> ValidationIssue:
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

    def without_first_tag(self) -> ValidationIssue:
        return ValidationIssue(self.path, self.tags[1:], self.kind, self.message, self.input)


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


def collapse(errors: list[ValidationIssue]) -> list[ValidationIssue]:
    """Turn the errors of each failed union into those of one member, or into one error."""
    plain = [error for error in errors if not error.tags]
    unions: dict[Path, dict[str, list[ValidationIssue]]] = {}
    for error in errors:
        if error.tags:
            depth, label = error.tags[0]
            unions.setdefault(error.path[:depth], {}).setdefault(label, []).append(error)
    for where, members in unions.items():
        plain.extend(_resolve_union(where, members))
    return plain


def _resolve_union(where: Path, members: dict[str, list[ValidationIssue]]) -> list[ValidationIssue]:
    if len(members) == 1:
        chosen = next(iter(members.values()))
    else:
        # The member whose errors are all inside the value accepted its shape: it was meant.
        inside = [errs for errs in members.values() if all(len(e.path) > len(where) for e in errs)]
        if len(inside) != 1:
            return [_union_error(where, members)]
        chosen = inside[0]
    return collapse([error.without_first_tag() for error in chosen])


def _union_error(where: Path, members: dict[str, list[ValidationIssue]]) -> ValidationIssue:
    errors = [error for errs in members.values() for error in errs]
    found = next((error.input for error in errors if error.path == where), errors[0].input)
    if found is None:
        return ValidationIssue(where, (), "missing", "must not be null", found)
    custom = next((error for error in errors if error.kind not in _BUILTIN_ERRORS), None)
    if custom is not None:
        return ValidationIssue(where, (), custom.kind, custom.message, found)
    expected: dict[str, None] = {}
    for label, errs in members.items():
        wanted = _member_description(label, errs[0].kind)
        if wanted:
            expected[wanted] = None
    message = f"expected {' or '.join(expected) or 'another value'}, got {show(found)}"
    return ValidationIssue(where, (), "union", message, found)


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
    got = f", got {show(found)}"
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
    return f"expected at least {ctx.get('min_length')} {unit}, got {show(found)}"


def _too_long(found: Any, ctx: Mapping[str, Any]) -> str:
    unit = "characters" if isinstance(found, str) else "items"
    length = len(found) if isinstance(found, list | str | Mapping) else "more"
    return f"expected at most {ctx.get('max_length')} {unit}, got {length}"


def _bound(word: str, key: str) -> Callable[[Any, Mapping[str, Any]], str]:
    return lambda found, ctx: f"must be {word} {ctx.get(key)}, got {show(found)}"


def _wrapped_error(found: Any, ctx: Mapping[str, Any]) -> str:
    return str(ctx.get("error", "invalid value"))


_SPECIAL_MESSAGES: dict[str, Callable[[Any, Mapping[str, Any]], str]] = {
    "string_pattern_mismatch": lambda found, ctx: (
        f'must match "{ctx.get("pattern")}", got {show(found)}'
    ),
    "too_short": _too_short,
    "string_too_short": _too_short,
    "too_long": _too_long,
    "string_too_long": _too_long,
    "greater_than": _bound("greater than", "gt"),
    "greater_than_equal": _bound("greater than or equal to", "ge"),
    "less_than": _bound("less than", "lt"),
    "less_than_equal": _bound("less than or equal to", "le"),
    "enum": lambda found, ctx: f"expected one of {ctx.get('expected')}, got {show(found)}",
    "literal_error": lambda found, ctx: f"expected {ctx.get('expected')}, got {show(found)}",
    "union_tag_invalid": lambda found, ctx: (
        f"expected one of {ctx.get('expected_tags')}, got {show(ctx.get('tag'))}"
    ),
    "value_error": _wrapped_error,
    "assertion_error": _wrapped_error,
}


def show(value: Any, limit: int = 60) -> str:
    """Write a found value briefly: strings quoted, collections in YAML's flow style."""
    if isinstance(value, str):
        text = value if len(value) <= limit else value[: limit - 3] + "..."
        return f"'{text}'"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        text = "{" + ", ".join(f"{key}: {show(item)}" for key, item in value.items()) + "}"
    elif isinstance(value, list | tuple):
        text = "[" + ", ".join(show(item) for item in value) + "]"
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- which record a location belongs to (for "class X" in messages) -------------------------------


def unrecognized(name: str, record: type | None) -> str:
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


def record_at(path: Path, values: Any) -> type | None:
    """Return the model class that validates the mapping at `path`, following the annotations."""
    kind: Any = Flow
    current = values
    for part in path:
        current = value_at(current, (part,))
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


def value_at(value: Any, path: Path) -> Any:
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
