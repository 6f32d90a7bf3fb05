"""Type aliases shared across lanner."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeAlias

JSONScalar: TypeAlias = str | int | float | bool | None
JSONValue: TypeAlias = Any
"""A value that json.dumps accepts (dicts, lists, scalars); kept loose because outputs nest freely."""

JSONObject: TypeAlias = dict[str, Any]
Variables: TypeAlias = Mapping[str, Any]
"""The variables an expression is rendered with (`outputs`, `inputs`, `flow`, ...)."""
