"""Plugins: the task, trigger and condition types lanner knows, and their JSON schemas.

The flow editor completes and checks YAML with `GET /plugins/schemas/flow`; its documentation
panel reads `GET /plugins/{type}`.
"""

from __future__ import annotations

import inspect
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from lanner.api.models import ErrorModel
from lanner.exceptions import NotFoundError
from lanner.schemas import (
    SCHEMA_KINDS,
    RegisteredType,
    plugin_schema,
    registered_types,
    schema_document,
)
from lanner.tasks import lookup
from lanner.triggers import lookup as lookup_trigger

router = APIRouter(tags=["Plugins"])

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorModel, "description": "Unknown type or tenant"},
    422: {"model": ErrorModel, "description": "Invalid request"},
}


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class PluginElementModel(_Open):
    """One type of a plugin: its class name, what it does, its legacy names."""

    cls: str
    title: str | None = None
    description: str | None = None
    aliases: list[str]


class PluginModel(_Open):
    """A group of types (lanner has one: the core plugin)."""

    name: str
    title: str
    group: str
    tasks: list[PluginElementModel]
    triggers: list[PluginElementModel]
    conditions: list[PluginElementModel]


class PluginDocModel(_Open):
    """A type's documentation: its docstring, and the schema of its properties."""

    markdown: str
    schema_: dict[str, Any] = Field(alias="schema")


@router.get(
    "/plugins/schemas/{type}",
    summary="Get the JSON schema of a flow, a task or a trigger",
    response_model=dict[str, Any],
    responses=_NOT_FOUND,
)
async def schema(
    kind: Annotated[str, Path(alias="type", description="flow, task or trigger")],
    array_of: Annotated[
        bool, Query(alias="arrayOf", description="Describe a list of them")
    ] = False,
) -> dict[str, Any]:
    if kind not in SCHEMA_KINDS:
        raise NotFoundError(f"Unknown schema type '{kind}': use {', '.join(SCHEMA_KINDS)}")
    return schema_document(kind, array=array_of)


@router.get(
    "/plugins",
    summary="List the plugins and their types",
    response_model=list[PluginModel],
    responses=_NOT_FOUND,
)
async def plugins() -> list[dict[str, Any]]:
    core: dict[str, Any] = {"name": "core", "title": "Core", "group": "io.kestra.plugin.core"}
    for key, family in (("tasks", "Task"), ("triggers", "Trigger"), ("conditions", "Condition")):
        core[key] = [_element(item) for item in registered_types(family)]
    return [core]


@router.get(
    "/plugins/{cls}",
    summary="Get the documentation of a task or trigger type",
    response_model=PluginDocModel,
    responses=_NOT_FOUND,
)
async def plugin_documentation(
    cls: Annotated[str, Path(description="A type name; legacy names are accepted")],
) -> dict[str, Any]:
    found = lookup(cls) or lookup_trigger(cls)
    if found is None:
        raise NotFoundError(f"Unknown type '{cls}'")
    return {"markdown": inspect.getdoc(found) or "", "schema": plugin_schema(found)}


def _element(item: RegisteredType) -> dict[str, Any]:
    title, _, rest = (inspect.getdoc(item.cls) or "").partition("\n")
    element: dict[str, Any] = {"cls": item.name, "aliases": item.names[1:]}
    if title:
        element["title"] = title
    if rest.strip():
        element["description"] = rest.strip()
    return element
