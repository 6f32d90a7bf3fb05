"""Task types: the registry, the base classes and every built-in task.

The built-in tasks (core, flow, http, kv modules) register themselves the first time the registry
is asked for a type.
"""

from __future__ import annotations

from lanner.tasks.base import FlowableTask, ResolvedTask, RunnableTask, Task, TaskRef
from lanner.tasks.registry import canonical_type, known_types, lookup, register

__all__ = [
    "FlowableTask",
    "ResolvedTask",
    "RunnableTask",
    "Task",
    "TaskRef",
    "canonical_type",
    "known_types",
    "lookup",
    "register",
]
