"""Task types by name, with every legacy alias Kestra still accepts."""

from __future__ import annotations

import difflib
import importlib
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from lanner.tasks.base import Task

TaskClass = TypeVar("TaskClass", bound="type[Task]")

_REGISTRY: dict[str, type[Task]] = {}
_BUILTIN_MODULES = (
    "lanner.tasks.core",
    "lanner.tasks.flow",
    "lanner.tasks.http",
    "lanner.tasks.kv",
)
_builtins_loaded = False


def _load_builtins() -> None:
    """Import the built-in task modules once; importing them registers their classes."""
    global _builtins_loaded
    if not _builtins_loaded:
        _builtins_loaded = True
        for module in _BUILTIN_MODULES:
            importlib.import_module(module)


# Old package prefixes and where their classes live now (spec flows.md §9.1, http-tasks.md §0).
_LEGACY_PACKAGES: tuple[tuple[str, str], ...] = (
    ("io.kestra.core.tasks.log.", "io.kestra.plugin.core.log."),
    ("io.kestra.core.tasks.debugs.", "io.kestra.plugin.core.debug."),
    ("io.kestra.core.tasks.flows.", "io.kestra.plugin.core.flow."),
    ("io.kestra.core.tasks.executions.", "io.kestra.plugin.core.execution."),
    ("io.kestra.core.tasks.storages.", "io.kestra.plugin.core.storage."),
    ("io.kestra.core.tasks.states.", "io.kestra.plugin.core.state."),
    ("io.kestra.core.tasks.templating.", "io.kestra.plugin.core.templating."),
    ("io.kestra.core.tasks.trigger.", "io.kestra.plugin.core.trigger."),
    ("io.kestra.plugin.fs.http.", "io.kestra.plugin.core.http."),
    ("io.kestra.core.models.triggers.types.", "io.kestra.plugin.core.trigger."),
    ("io.kestra.core.models.conditions.types.", "io.kestra.plugin.core.condition."),
)

# Classes that were renamed when they moved.
_RENAMED: dict[str, str] = {
    "io.kestra.plugin.core.flow.Flow": "io.kestra.plugin.core.flow.Subflow",
    "io.kestra.plugin.core.flow.Worker": "io.kestra.plugin.core.flow.WorkingDirectory",
    "io.kestra.plugin.core.condition.VariableCondition": (
        "io.kestra.plugin.core.condition.Expression"
    ),
}


def canonical_type(name: str) -> str:
    """Return the current name of a task type, resolving legacy aliases."""
    for old, new in _LEGACY_PACKAGES:
        if name.startswith(old):
            moved = new + name[len(old) :]
            moved = _RENAMED.get(moved, moved)
            if moved.startswith("io.kestra.plugin.core.condition.") and moved.endswith("Condition"):
                moved = moved.removesuffix("Condition")
            return moved
    return name


def aliases(name: str) -> list[str]:
    """Return the legacy names that `canonical_type` turns into `name`, sorted."""
    renamed_from = [old for old, new in _RENAMED.items() if new == name]
    found: set[str] = set()
    for current in (name, *renamed_from):
        for old, new in _LEGACY_PACKAGES:
            if current.startswith(new):
                legacy = old + current[len(new) :]
                found.update((legacy, legacy + "Condition"))
    return sorted(alias for alias in found if alias != name and canonical_type(alias) == name)


def register(cls: TaskClass) -> TaskClass:
    """Register a task class under its canonical `TYPE` (a class decorator)."""
    if not cls.TYPE:
        raise ValueError(f"{cls.__name__} has no TYPE")
    _REGISTRY[cls.TYPE] = cls
    return cls


def lookup(name: str) -> type[Task] | None:
    """Return the task class for a type name or one of its aliases."""
    _load_builtins()
    return _REGISTRY.get(canonical_type(name))


def known_types() -> list[str]:
    """Return every registered canonical type name, sorted."""
    _load_builtins()
    return sorted(_REGISTRY)


def suggest(name: str) -> str | None:
    """Return the registered type name closest to `name`, if one is close enough."""
    candidates = known_types()
    short = {candidate.rsplit(".", 1)[-1].lower(): candidate for candidate in candidates}
    matches = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    if matches:
        return matches[0]
    tail = name.rsplit(".", 1)[-1].lower()
    close = difflib.get_close_matches(tail, list(short), n=1, cutoff=0.6)
    return short[close[0]] if close else None
