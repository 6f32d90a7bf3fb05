"""Trigger types by name, with the legacy aliases tasks use (`tasks.registry.canonical_type`).

Built-in trigger modules register their classes the first time a type is looked up. A new
trigger type (the HTTP polling `io.kestra.plugin.core.http.Trigger`, say) is one more module in
`_BUILTIN_MODULES` whose class is decorated with `@register`; until then, a flow naming it is
refused at validation with `Invalid type: <type>`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lanner.tasks.registry import canonical_type
from lanner.typeregistry import TypeRegistry

if TYPE_CHECKING:
    from lanner.triggers.base import Trigger

__all__ = ["TRIGGERS", "known_types", "lookup", "register", "suggest"]

TRIGGERS: TypeRegistry[type[Trigger]] = TypeRegistry(
    "trigger",
    ("lanner.triggers.schedule", "lanner.triggers.webhook", "lanner.triggers.flow"),
    canonical_type,
)
register = TRIGGERS.register
lookup = TRIGGERS.lookup
known_types = TRIGGERS.known_types
suggest = TRIGGERS.suggest
