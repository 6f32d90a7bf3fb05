"""The variables and functions of a flow outside any execution.

Trigger properties, webhook conditions and a flow's `checks` render before an execution
exists: they see the flow, its variables and labels, the environment and the globals, and may
call `secret()` and `kv()`, but there is no `execution` nor any task output yet.
"""

from __future__ import annotations

from typing import Any

from lanner.context import env_variables, kv_function, read_secret
from lanner.expressions import CallContext, Function
from lanner.flows import Flow
from lanner.settings import Settings
from lanner.store import Store

__all__ = ["trigger_context", "trigger_functions"]


def trigger_context(flow: Flow, revision: int, settings: Settings) -> dict[str, Any]:
    """Return the variables a trigger's properties render with (no execution exists yet)."""
    return {
        "flow": {
            "id": flow.id,
            "namespace": flow.namespace,
            "revision": revision,
            "tenantId": "main",
        },
        "vars": dict(flow.variables or {}),
        "labels": {label.key: label.value for label in flow.labels},
        "envs": env_variables(settings.env_prefix),
        "globals": dict(settings.globals),
        "kestra": {"environment": {"name": settings.environment_name}, "url": settings.url},
    }


def trigger_functions(store: Store) -> dict[str, Function]:
    """Return the functions a trigger's properties may call: `secret()` and `kv()`."""

    def secret(call: CallContext, key: Any, *_: Any) -> str:
        return read_secret(str(key))

    return {"secret": secret, "kv": kv_function(store.kv)}
