"""`pluginDefaults` (and the older `taskDefaults`): default property values for plugins by type.

They are injected into the flow's raw values before validation, as Kestra does: a task's own
values win unless a default is `forced`; among forced defaults the first listed wins.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from lanner.tasks import canonical_type, lookup
from lanner.triggers import lookup as lookup_trigger
from lanner.triggers.conditions import lookup_condition

__all__ = ["DEFAULTS_KEYS", "property_names", "with_defaults"]

DEFAULTS_KEYS = ("pluginDefaults", "taskDefaults")


@dataclass(frozen=True)
class _Default:
    type: str
    forced: bool
    values: Mapping[str, Any]

    def matches(self, plugin_type: str) -> bool:
        # Kestra matches the type as written or any type it prefixes, aliases resolved.
        if plugin_type.startswith(self.type):
            return True
        return _canonical(plugin_type).startswith(_canonical(self.type))


def with_defaults(raw: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Return the flow's values with its plugin defaults injected, and warnings about them."""
    defaults = _read_defaults(raw)
    if not defaults:
        return dict(raw), []
    ordered = [d for d in defaults if not d.forced] + [d for d in reversed(defaults) if d.forced]
    values = {
        key: value if key in DEFAULTS_KEYS else _inject(value, ordered)
        for key, value in raw.items()
    }
    return values, [warning for default in defaults for warning in _default_warnings(default)]


def _read_defaults(raw: Mapping[str, Any]) -> list[_Default]:
    """Return the well-formed defaults, flow `pluginDefaults` first; the model reports the rest."""
    found: list[_Default] = []
    for key in DEFAULTS_KEYS:
        entries = raw.get(key)
        for entry in entries if isinstance(entries, list) else ():
            if not isinstance(entry, Mapping) or not isinstance(entry.get("type"), str):
                continue
            values = entry.get("values")
            forced = entry.get("forced") is True
            if isinstance(values, Mapping):
                found.append(_Default(entry["type"], forced, values))
    return found


def _inject(value: Any, defaults: Sequence[_Default]) -> Any:
    """Apply the defaults to every mapping with a `type` under `value`, innermost first."""
    if isinstance(value, list):
        return [_inject(item, defaults) for item in value]
    if not isinstance(value, Mapping):
        return value
    result = {key: _inject(item, defaults) for key, item in value.items()}
    plugin_type = result.get("type")
    if not isinstance(plugin_type, str):
        return result
    known = property_names(_plugin_class(plugin_type))
    for default in defaults:
        if default.matches(plugin_type):
            own = _known_values(default.values, known)
            result = _merge(result, own) if default.forced else _merge(own, result)
    return result


def _known_values(values: Mapping[str, Any], known: frozenset[str] | None) -> dict[str, Any]:
    # A default never changes a plugin's type; a prefix default skips what a class lacks.
    return {
        key: value
        for key, value in values.items()
        if key != "type" and (known is None or key in known)
    }


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge like Kestra: `over` wins, nulls do not erase, lists are joined."""
    result = dict(base)
    for key, value in over.items():
        current = result.get(key)
        if value is None:
            continue
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            result[key] = _merge(current, value)
        elif isinstance(current, list) and isinstance(value, list):
            result[key] = current + [item for item in value if item not in current]
        else:
            result[key] = value
    return result


@functools.cache
def _canonical(plugin_type: str) -> str:
    return canonical_type(plugin_type)


def _plugin_class(plugin_type: str) -> type[BaseModel] | None:
    """Return the task, trigger or condition class a type names."""
    return lookup(plugin_type) or lookup_trigger(plugin_type) or lookup_condition(plugin_type)


@functools.cache
def property_names(cls: type[BaseModel] | None) -> frozenset[str] | None:
    if cls is None:
        return None
    names = set(cls.model_fields)
    names.update(info.alias for info in cls.model_fields.values() if info.alias)
    return frozenset(names)


def _default_warnings(default: _Default) -> Iterator[str]:
    known = property_names(_plugin_class(default.type))
    if known is None:
        # A prefix or an unknown type: there is no single class to check against.
        return
    for key in default.values:
        if key not in known:
            yield f"No property '{key}' exists in plugin '{default.type}'"
