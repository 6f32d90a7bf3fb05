"""KV store tasks: Set, Get, Delete and GetKeys (`io.kestra.plugin.core.kv`).

Each works on the namespace it names, the flow's own by default, through the run context's
KV store. Kestra lets a flow reach any namespace's store in its open-source edition; so does
lanner.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from lanner.clock import parse_instant
from lanner.durations import parse_duration
from lanner.exceptions import TaskError
from lanner.properties import Dynamic, DynamicDuration, Expr
from lanner.store.kv import KVStore, KVType, json_value
from lanner.tasks.base import RunnableTask, flag
from lanner.tasks.registry import register

if TYPE_CHECKING:
    from lanner.context import RunContext

_FLOW_NAMESPACE = "{{ flow.namespace }}"


@register
class Set(RunnableTask):
    """Store a value under a key; `kvType` turns a text value into that type first."""

    TYPE = "io.kestra.plugin.core.kv.Set"

    key: str
    value: Any
    namespace: str = _FLOW_NAMESPACE
    overwrite: Dynamic[bool] = True
    ttl: DynamicDuration | None = None
    kv_type: Dynamic[KVType] | None = None

    async def run(self, ctx: RunContext) -> Mapping[str, Any] | None:
        store = _kv(ctx)
        namespace, key = ctx.render(self.namespace), ctx.render(self.key)
        value = _render(ctx, self.value)
        if self.kv_type is not None:
            value = coerce_to(_kv_type(ctx, self.kv_type), value)
        overwrite = flag(ctx, self.overwrite, "overwrite")
        store.put(namespace, key, value, ttl=ctx.duration(self.ttl), overwrite=overwrite)
        return None


@register
class Get(RunnableTask):
    """Return the value under a key as `value` (null when there is none)."""

    TYPE = "io.kestra.plugin.core.kv.Get"

    key: str
    namespace: str = _FLOW_NAMESPACE
    error_on_missing: Dynamic[bool] = False

    async def run(self, ctx: RunContext) -> Mapping[str, Any] | None:
        namespace, key = ctx.render(self.namespace), ctx.render(self.key)
        entry = _kv(ctx).get(namespace, key)
        if entry is None and flag(ctx, self.error_on_missing, "errorOnMissing"):
            raise _missing(namespace, key)
        return {"value": json_value(entry.value) if entry is not None else None}


@register
class Delete(RunnableTask):
    """Delete the value under a key; `deleted` says whether there was one."""

    TYPE = "io.kestra.plugin.core.kv.Delete"

    key: str
    namespace: str = _FLOW_NAMESPACE
    error_on_missing: Dynamic[bool] = False

    async def run(self, ctx: RunContext) -> Mapping[str, Any] | None:
        namespace, key = ctx.render(self.namespace), ctx.render(self.key)
        deleted = _kv(ctx).delete(namespace, key)
        if not deleted and flag(ctx, self.error_on_missing, "errorOnMissing"):
            raise _missing(namespace, key)
        return {"deleted": deleted}


@register
class GetKeys(RunnableTask):
    """Return the keys of a namespace, those starting with `prefix` when given, as `keys`."""

    TYPE = "io.kestra.plugin.core.kv.GetKeys"

    prefix: str | None = None
    namespace: str = _FLOW_NAMESPACE

    async def run(self, ctx: RunContext) -> Mapping[str, Any] | None:
        prefix = ctx.render(self.prefix)
        entries = _kv(ctx).list(ctx.render(self.namespace))
        return {"keys": [entry.key for entry in entries if entry.key.startswith(prefix)]}


def coerce_to(kind: KVType, value: Any) -> Any:
    """Read a text value as `kind`, as Kestra's `kvType` does; other values are kept as they are."""
    if not isinstance(value, str):
        return value
    try:
        return _READERS[kind](value)
    except ValueError as exc:
        raise TaskError(f"Unable to read {value!r} as a {kind.value} value: {exc}") from exc


def _number(text: str) -> int | float:
    number = json.loads(text)
    if isinstance(number, bool) or not isinstance(number, int | float):
        raise ValueError("not a number")
    return number


def _boolean(text: str) -> bool:
    # Java's Boolean.parseBoolean: anything but "true", in any case, is false.
    return text.strip().lower() == "true"


def _date(text: str) -> date:
    """Read an ISO date, or the UTC date of an ISO instant."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return parse_instant(text.strip()).date()


def _datetime(text: str) -> datetime:
    return parse_instant(text.strip()).astimezone(UTC)


_READERS: dict[KVType, Callable[[str], Any]] = {
    KVType.STRING: str,
    KVType.NUMBER: _number,
    KVType.BOOLEAN: _boolean,
    KVType.DATETIME: _datetime,
    KVType.DATE: _date,
    KVType.DURATION: lambda text: parse_duration(text.strip()),
    KVType.JSON: json.loads,
}


def _kv(ctx: RunContext) -> KVStore:
    if ctx.kv is None:
        raise TaskError("The KV store is not available to this task run")
    return ctx.kv


def _render(ctx: RunContext, value: Any) -> Any:
    """Render the value keeping its type: `"{{ 5 }}"` stores a number, a map stays a map."""
    if isinstance(value, str | Expr):
        return ctx.render_typed(value)
    return ctx.render_value(value)


def _kv_type(ctx: RunContext, value: KVType | Expr) -> KVType:
    rendered = ctx.render_typed(value) if isinstance(value, Expr) else value
    try:
        return KVType(str(rendered).strip().upper())
    except ValueError as exc:
        allowed = ", ".join(kind.value for kind in KVType)
        raise TaskError(f"Invalid kvType '{rendered}': expected one of {allowed}") from exc


def _missing(namespace: str, key: str) -> TaskError:
    return TaskError(
        f"No value found for key '{key}' in namespace '{namespace}'"
        " and `errorOnMissing` is set to true"
    )
