"""Trigger types by name, with the legacy aliases tasks use (`tasks.registry.canonical_type`).

Built-in trigger modules register their classes the first time a type is looked up. A new
trigger type (the HTTP polling `io.kestra.plugin.core.http.Trigger`, say) is one more module in
`_BUILTIN_MODULES` whose class is decorated with `@register`; until then, a flow naming it is
refused at validation with `Invalid type: <type>`.
"""

from __future__ import annotations

import difflib
import importlib
from typing import TYPE_CHECKING, TypeVar

from lanner.tasks.registry import canonical_type

if TYPE_CHECKING:
    from lanner.triggers.base import Trigger

__all__ = ["known_types", "lookup", "register", "suggest"]

TriggerClass = TypeVar("TriggerClass", bound="type[Trigger]")

_REGISTRY: dict[str, type[Trigger]] = {}
_BUILTIN_MODULES = ("lanner.triggers.schedule", "lanner.triggers.webhook")
_builtins_loaded = False


def _load_builtins() -> None:
    global _builtins_loaded
    if not _builtins_loaded:
        _builtins_loaded = True
        for module in _BUILTIN_MODULES:
            importlib.import_module(module)


def register(cls: TriggerClass) -> TriggerClass:
    """Register a trigger class under its canonical `TYPE` (a class decorator)."""
    if not cls.TYPE:
        raise ValueError(f"{cls.__name__} has no TYPE")
    _REGISTRY[cls.TYPE] = cls
    return cls


def lookup(name: str) -> type[Trigger] | None:
    """Return the trigger class for a type name or one of its aliases."""
    _load_builtins()
    return _REGISTRY.get(canonical_type(name))


def known_types() -> list[str]:
    """Return every registered canonical trigger type, sorted."""
    _load_builtins()
    return sorted(_REGISTRY)


def suggest(name: str) -> str | None:
    """Return the registered trigger type whose class name is close to that of `name`.

    Only class names are compared: every trigger shares most of its package with the others,
    which would make any `io.kestra...` name look close to one of them.
    """
    short = {candidate.rsplit(".", 1)[-1].lower(): candidate for candidate in known_types()}
    close = difflib.get_close_matches(name.rsplit(".", 1)[-1].lower(), list(short), cutoff=0.6)
    return short[close[0]] if close else None
