"""JSON schemas of flows, tasks and triggers, built from the models that validate them.

A YAML editor uses them to complete and check a flow (`GET /plugins/schemas/flow`): property
names, their types, defaults and enums, every task type (canonical name and legacy aliases)
and the descriptions written in the classes' docstrings.

The documents follow JSON Schema draft-07 with Kestra's layout: `{"$schema", "$ref",
"definitions"}`. A polymorphic property (a task, a trigger, a condition, an input) refers to a
definition that is a `oneOf` of its concrete types, each told apart by the `enum` of its
`type` property. Properties that accept an expression (`Dynamic[T]`) accept the typed value or
a string holding `{{ ... }}` / `{% ... %}`.
"""

from __future__ import annotations

import ast
import copy
import functools
import inspect
import itertools
import textwrap
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pydantic import AliasChoices, BaseModel
from pydantic.json_schema import (
    GenerateJsonSchema,
    JsonSchemaValue,
    models_json_schema,
)
from pydantic_core import core_schema

from lanner.executions import Level
from lanner.flowjson import plain
from lanner.flows import Flow
from lanner.inputs import INPUT_TYPES, InputDeclaration
from lanner.properties import Expr
from lanner.tasks import Task, canonical_type, known_types, lookup
from lanner.tasks.registry import aliases
from lanner.triggers import Condition, Trigger
from lanner.triggers import known_types as known_trigger_types
from lanner.triggers import lookup as lookup_trigger
from lanner.triggers.conditions import condition_type

__all__ = [
    "SCHEMA_KINDS",
    "RegisteredType",
    "attribute_docs",
    "plugin_schema",
    "registered_types",
    "schema_document",
    "type_names",
]

DRAFT_07 = "http://json-schema.org/draft-07/schema#"
_REF_TEMPLATE = "#/definitions/{model}"
TEMPLATE_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": r"\{\{|\{%",
    "title": "Expression",
    "description": "A Pebble expression, rendered when the task runs.",
}
LABELS_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "object", "additionalProperties": {"type": "string"}},
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"key": {"type": "string"}, "value": {"type": "string"}},
                "required": ["key", "value"],
            },
        },
    ],
    "description": "Labels, as a map of key: value or a list of {key, value}.",
}


@dataclass(frozen=True)
class _Family:
    """A polymorphic record: its base class and the concrete types a `type` property picks."""

    base: type[BaseModel]
    name: str
    members: Callable[[], list[type[BaseModel]]]
    normalize: Callable[[str], str] | None
    """Turns a type name into the canonical one, for the types named after Kestra classes."""


def _tasks() -> list[type[BaseModel]]:
    return [cls for name in known_types() if (cls := lookup(name)) is not None]


def _triggers() -> list[type[BaseModel]]:
    return [cls for name in known_trigger_types() if (cls := lookup_trigger(name)) is not None]


def _conditions() -> list[type[BaseModel]]:
    return sorted(_concrete_subclasses(Condition), key=lambda cls: _type_of(cls))


def _inputs() -> list[type[BaseModel]]:
    return list(dict.fromkeys(INPUT_TYPES.values()))


_FAMILIES = (
    _Family(Task, "Task", _tasks, canonical_type),
    _Family(Trigger, "Trigger", _triggers, canonical_type),
    _Family(Condition, "Condition", _conditions, condition_type),
    _Family(InputDeclaration, "Input", _inputs, None),
)
SCHEMA_KINDS: dict[str, str] = {"flow": "Flow", "task": "Task", "trigger": "Trigger"}
"""The documents `schema_document` builds, by the name the API uses for them."""


def schema_document(kind: str, *, array: bool = False) -> dict[str, Any]:
    """Return the JSON schema of a flow, a task or a trigger (`kind` among SCHEMA_KINDS)."""
    definitions = _definitions(_registered())
    target: dict[str, Any] = {"$ref": _REF_TEMPLATE.format(model=SCHEMA_KINDS[kind])}
    document: dict[str, Any] = {"$schema": DRAFT_07}
    if array:
        document.update(type="array", items=target)
    else:
        document.update(target)
    document["definitions"] = definitions
    return document


def plugin_schema(cls: type[BaseModel]) -> dict[str, Any]:
    """Return one task or trigger class's own schema, in the layout of Kestra's plugin docs.

    `outputs` is empty: task outputs are not declared as records.
    """
    definitions = _definitions(_registered())
    own = definitions[_type_of(cls)]
    described = {key: own[key] for key in ("title", "description") if key in own}
    return {
        **described,
        "properties": own.get("properties", {}),
        "required": own.get("required", []),
        "outputs": {},
        "definitions": definitions,
    }


@dataclass(frozen=True)
class RegisteredType:
    """A concrete type of a family: its Kestra name, class and every name that leads to it."""

    name: str
    cls: type[BaseModel]
    names: list[str]


def registered_types(family: str) -> list[RegisteredType]:
    """Return the concrete types of a family (`Task`, `Trigger`, `Condition`), by name."""
    found = next(item for item in _FAMILIES if item.name == family)
    normalize = found.normalize or canonical_type
    types = [(_type_of(cls), cls) for cls in found.members()]
    return [RegisteredType(name, cls, type_names(name, normalize)) for name, cls in types]


def type_names(canonical: str, normalize: Callable[[str], str] = canonical_type) -> list[str]:
    """Return a type's canonical name followed by the legacy names that lead to it."""
    candidates = [*aliases(canonical), canonical + "Condition"]
    legacy = [name for name in candidates if name != canonical and normalize(name) == canonical]
    return [canonical, *dict.fromkeys(legacy)]


def _registered() -> tuple[tuple[type[BaseModel], ...], ...]:
    # The key of the cache: a type registered later gives a new document.
    return tuple(tuple(family.members()) for family in _FAMILIES)


@functools.cache
def _definitions(members: tuple[tuple[type[BaseModel], ...], ...]) -> dict[str, Any]:
    """Build every definition once per set of registered types (the result is shared)."""
    families = list(zip(_FAMILIES, members, strict=True))
    classes: list[type[BaseModel]] = [Flow]
    for family, concrete in families:
        classes.extend([family.base, *concrete])
    refs, document = models_json_schema(
        [(cls, "validation") for cls in dict.fromkeys(classes)],
        ref_template=_REF_TEMPLATE,
        schema_generator=_Generator,
    )
    definitions: dict[str, Any] = document.get("$defs", {})
    names = {cls: _ref_name(refs[(cls, "validation")]) for cls in dict.fromkeys(classes)}
    _describe_fields(definitions, names)
    _add_other_names(definitions, names)
    renames = {names[cls]: _type_of(cls) for _, concrete in families for cls in concrete}
    renames.update({names[Flow]: "Flow"})
    renames.update({names[family.base]: family.name for family, _ in families})
    definitions = _renamed(definitions, renames)
    for family, concrete in families:
        definitions[family.name] = _union(family, concrete)
        for cls in concrete:
            _tag(definitions[_type_of(cls)], cls, family)
    _fix_labels(definitions)
    return definitions


def _ref_name(ref: Mapping[str, Any]) -> str:
    return str(ref["$ref"]).rsplit("/", 1)[-1]


def _type_of(cls: type[BaseModel]) -> str:
    """Return the definition name of a concrete type: its Kestra type name, else its class."""
    own = getattr(cls, "TYPE", "")
    if isinstance(own, str) and own:
        return own
    field = cls.model_fields.get("type")
    default = field.default if field is not None else None
    return f"Input.{default}" if isinstance(default, str) else cls.__name__


def _union(family: _Family, concrete: tuple[type[BaseModel], ...]) -> dict[str, Any]:
    base_doc = inspect.getdoc(family.base) or ""
    return {
        "title": family.name,
        "description": base_doc,
        "oneOf": [{"$ref": _REF_TEMPLATE.format(model=_type_of(cls))} for cls in concrete],
    }


def _tag(definition: dict[str, Any], cls: type[BaseModel], family: _Family) -> None:
    """Make a concrete type's `type` property name it (and its aliases)."""
    properties = definition.setdefault("properties", {})
    if family.normalize is None:
        return
    names = type_names(_type_of(cls), family.normalize)
    properties["type"] = {"type": "string", "enum": names, "default": names[0]}
    if len(names) > 1:
        definition["x-aliases"] = names[1:]


def _fix_labels(definitions: dict[str, Any]) -> None:
    # Labels are validated into records but written as a map or a list of {key, value}.
    for definition in definitions.values():
        properties = definition.get("properties")
        if isinstance(properties, dict) and "labels" in properties:
            properties["labels"] = copy.deepcopy(LABELS_SCHEMA)


def _renamed(definitions: dict[str, Any], renames: Mapping[str, str]) -> dict[str, Any]:
    """Rename definitions and every reference to them."""
    prefix = _REF_TEMPLATE.format(model="")
    targets = {prefix + old: prefix + new for old, new in renames.items()}

    def rewrite(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                key: targets.get(item, item) if key == "$ref" else rewrite(item)
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [rewrite(item) for item in value]
        return value

    return {renames.get(name, name): rewrite(body) for name, body in definitions.items()}


# -- descriptions from attribute docstrings -------------------------------------------------------


def _describe_fields(definitions: dict[str, Any], names: Mapping[type[BaseModel], str]) -> None:
    for cls, name in names.items():
        properties = definitions.get(name, {}).get("properties", {})
        for field_name, doc in attribute_docs(cls).items():
            info = cls.model_fields.get(field_name)
            key = (info.alias or field_name) if info is not None else field_name
            if key in properties and "description" not in properties[key]:
                properties[key]["description"] = doc


def _add_other_names(definitions: dict[str, Any], names: Mapping[type[BaseModel], str]) -> None:
    """Accept the other names of a property (an input's old `name` for `id`)."""
    for cls, name in names.items():
        definition = definitions.get(name, {})
        properties = definition.get("properties", {})
        for info in cls.model_fields.values():
            choices = info.validation_alias
            if not isinstance(choices, AliasChoices):
                continue
            first, *others = [c for c in choices.choices if isinstance(c, str)]
            if first not in properties:
                continue
            for other in others:
                properties[other] = {**properties[first], "deprecated": True}
            required = definition.get("required", [])
            if first in required:
                required.remove(first)
                definition["anyOf"] = [{"required": [item]} for item in (first, *others)]


def attribute_docs(cls: type) -> dict[str, str]:
    """Return the docstrings written under the annotated attributes of a class and its bases."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if klass is not object and not klass.__module__.startswith("pydantic"):
            docs.update(_own_attribute_docs(klass))
    return docs


@functools.cache
def _own_attribute_docs(klass: type) -> dict[str, str]:
    try:
        source = textwrap.dedent(inspect.getsource(klass))
    except (OSError, TypeError):
        return {}
    body = ast.parse(source).body
    if not body or not isinstance(body[0], ast.ClassDef):
        return {}
    return dict(_pairs(body[0].body))


def _pairs(statements: list[ast.stmt]) -> Iterator[tuple[str, str]]:
    for statement, following in itertools.pairwise(statements):
        if (
            isinstance(statement, ast.AnnAssign)
            and isinstance(statement.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            yield statement.target.id, inspect.cleandoc(following.value.value)


def _concrete_subclasses(base: type[BaseModel]) -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = []
    for sub in base.__subclasses__():
        if getattr(sub, "TYPE", ""):
            found.append(sub)
        found.extend(_concrete_subclasses(sub))
    return list(dict.fromkeys(found))


# -- how pydantic's types become schema -----------------------------------------------------------


class _Generator(GenerateJsonSchema):
    """Pydantic's generator, tuned for a YAML editor of Kestra flows."""

    def dataclass_schema(self, schema: core_schema.DataclassSchema) -> JsonSchemaValue:
        if schema["cls"] is Expr:
            return dict(TEMPLATE_SCHEMA)
        return super().dataclass_schema(schema)

    def enum_schema(self, schema: core_schema.EnumSchema) -> JsonSchemaValue:
        if schema["cls"] is Level:
            # Flows name log levels; the integer values are an implementation detail.
            return {"type": "string", "enum": [level.name for level in Level]}
        return super().enum_schema(schema)

    def encode_default(self, dflt: Any) -> Any:
        return plain(dflt) if isinstance(dflt, Enum | BaseModel) else super().encode_default(dflt)

    def field_title_should_be_set(self, schema: Any) -> bool:
        # Titles made from property names add nothing a YAML editor does not already show.
        return False

    def handle_invalid_for_json_schema(
        self, schema: core_schema.CoreSchema, error_info: str
    ) -> JsonSchemaValue:
        # A type with no JSON form (a callable, an arbitrary class) accepts anything.
        return {}
