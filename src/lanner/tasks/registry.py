"""Task types by name, with every legacy alias Kestra still accepts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lanner.typeregistry import TypeRegistry

if TYPE_CHECKING:
    from lanner.tasks.base import Task

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
    "io.kestra.plugin.core.storage.PurgeExecution": (
        "io.kestra.plugin.core.storage.PurgeCurrentExecutionFiles"
    ),
}

# Classes renamed in their current package, whose old names Kestra still accepts.
_RENAMED_IN_PLACE = frozenset({"io.kestra.plugin.core.storage.PurgeExecution"})


def canonical_type(name: str) -> str:
    """Return the current name of a task type, resolving legacy aliases."""
    for old, new in _LEGACY_PACKAGES:
        if name.startswith(old):
            moved = new + name[len(old) :]
            moved = _RENAMED.get(moved, moved)
            if moved.startswith("io.kestra.plugin.core.condition.") and moved.endswith("Condition"):
                moved = moved.removesuffix("Condition")
            return moved
    if name in _RENAMED_IN_PLACE:
        return _RENAMED[name]
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
    found.update(old for old in _RENAMED_IN_PLACE if _RENAMED[old] == name)
    return sorted(alias for alias in found if alias != name and canonical_type(alias) == name)


TASKS: TypeRegistry[type[Task]] = TypeRegistry(
    "task",
    (
        "lanner.tasks.core",
        "lanner.tasks.execution",
        "lanner.tasks.flow",
        "lanner.tasks.foreach_item",
        "lanner.tasks.http",
        "lanner.tasks.http_download",
        "lanner.tasks.http_sse",
        "lanner.tasks.kv",
        "lanner.tasks.metric",
        "lanner.tasks.pause",
        "lanner.tasks.scripts.python",
        "lanner.tasks.scripts.shell",
        "lanner.tasks.storage",
        "lanner.tasks.subflow",
        "lanner.tasks.waitfor",
    ),
    canonical_type,
    {
        "io.kestra.plugin.core.flow.Template": (
            "templates are deprecated and disabled, as in Kestra by default: use a Subflow task"
        ),
    },
)
register = TASKS.register
lookup = TASKS.lookup
known_types = TASKS.known_types
suggest = TASKS.suggest
