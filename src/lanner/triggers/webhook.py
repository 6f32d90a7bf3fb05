"""The Webhook trigger: start an execution when its URL is called (spec api.md §6)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

from pydantic import Field

from lanner.expressions import Function, render
from lanner.triggers.base import Trigger
from lanner.triggers.registry import register

__all__ = ["Webhook", "parse_body"]


@register
class Webhook(Trigger):
    """Start an execution on `GET|POST|PUT .../executions/webhook/{namespace}/{flowId}/{key}`."""

    TYPE: ClassVar[str] = "io.kestra.plugin.core.trigger.Webhook"

    key: Annotated[str, Field(min_length=1, max_length=256)]
    wait: bool = False
    return_outputs: bool = False
    response_content_type: str | None = None

    def rendered_key(self, variables: Mapping[str, Any], functions: Mapping[str, Function]) -> str:
        """Return the key as the URL carries it (it may be an expression, `secret()` say)."""
        return render(self.key, variables, functions)

    @staticmethod
    def variables(
        body: Any, headers: Mapping[str, list[str]], parameters: Mapping[str, list[str]]
    ) -> dict[str, Any]:
        """Return the `trigger.*` variables of the execution a call starts."""
        found: dict[str, Any] = {"headers": dict(headers), "parameters": dict(parameters)}
        if body is not None:
            found["body"] = body
        return found


def parse_body(raw: bytes) -> Any:
    """Read a request body as Kestra does: a JSON object or array, else the text; None if empty.

    Only objects and arrays are parsed: a body `42` or `"x"` stays the text it is.
    """
    if not raw:
        return None
    text = raw.decode("utf-8", errors="replace")
    try:
        parsed = json.loads(text)
    except ValueError:
        return text
    return parsed if isinstance(parsed, dict | list) else text
