"""Data formats: JSON, YAML and Amazon Ion text, and the `jq` filter.

Writers follow Kestra's Jackson settings: compact JSON without null map entries, YAML with
minimal quotes and sequences indented by one space (` - x`), Ion text without spaces.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import jq
import yaml

from lanner.expressions.ion import read_ion, write_ion
from lanner.expressions.runtime import RenderFailure
from lanner.expressions.values import java_double, to_json, to_text, type_name

# -- JSON ------------------------------------------------------------------------------------


def to_json_filter(value: Any, includeNulls: bool = False) -> str:
    return "null" if value is None else to_json(value, include_nulls=bool(includeNulls))


def parse_json(text: Any, function: str = "fromJson") -> Any:
    """Read JSON text; null stays null, anything but text is an error."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise RenderFailure(f"The '{function}' function expects a string, got {type_name(text)}")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise RenderFailure(f"Invalid json: {exc}") from exc


# -- jq --------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=512)
def _jq_program(expression: str) -> Any:
    return jq.compile(expression)


def jq_filter(value: Any, expression: str | None = None) -> Any:
    """Run a jq program over the value (JSON text is parsed first); always a list."""
    if value is None:
        return None
    if not isinstance(expression, str):
        raise RenderFailure("The 'jq' filter expects an argument 'expression'")
    try:
        program = _jq_program(expression)
    except ValueError as exc:
        raise RenderFailure(f"Invalid jq expression '{expression}': {exc}") from exc
    text = value if isinstance(value, str) else to_json(value)
    try:
        return list(program.input_text(text).all())
    except ValueError as exc:
        raise RenderFailure(
            f"Failed to resolve JQ expression '{expression}' and value '{to_text(value)}': {exc}"
        ) from exc


# -- YAML ------------------------------------------------------------------------------------

_PLAIN_UNSAFE_START = set("-?:,[]{}#&*!|>'\"%@` \t")


def yaml_filter(value: Any) -> str:
    if value is None:
        return "null"
    lines: list[str] = []
    _yaml_node(value, 0, lines, first_prefix="")
    return "\n".join(lines) + "\n"


def _yaml_node(value: Any, indent: int, lines: list[str], first_prefix: str) -> None:
    """Append `value` as block YAML; the first line starts with `first_prefix` (a `- ` or key)."""
    pad = " " * indent
    if isinstance(value, Mapping) and value:
        for position, (key, item) in enumerate(value.items()):
            start = first_prefix if position == 0 else pad
            _yaml_entry(f"{start}{_yaml_scalar(to_text(key))}:", item, indent, lines)
    elif isinstance(value, list | tuple) and value:
        nested = first_prefix.endswith("- ")
        for position, item in enumerate(value):
            if nested:
                start = (first_prefix if position == 0 else " " * len(first_prefix)) + "- "
            else:
                start = (first_prefix if position == 0 else pad) + " - "
            _yaml_node(item, len(start), lines, start)
    else:
        lines.append(first_prefix + _yaml_scalar(value))


def _yaml_entry(head: str, item: Any, indent: int, lines: list[str]) -> None:
    if isinstance(item, Mapping) and item:
        lines.append(head)
        _yaml_node(item, indent + 2, lines, " " * (indent + 2))
    elif isinstance(item, list | tuple) and item:
        lines.append(head)
        _yaml_node(item, indent, lines, " " * indent)
    else:
        lines.append(f"{head} {_yaml_scalar(item)}")


def _yaml_scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, float):
        return (
            java_double(value)
            if math.isfinite(value)
            else {"NaN": ".NaN"}.get(java_double(value), ".inf" if value > 0 else "-.inf")
        )
    if isinstance(value, Mapping):
        return "{}"
    if isinstance(value, list | tuple):
        return "[]"
    text = to_text(value)
    return text if _plain_yaml(text) else json.dumps(text, ensure_ascii=False)


def _plain_yaml(text: str) -> bool:
    if not text or text[0] in _PLAIN_UNSAFE_START or text[-1] in " \t:":
        return False
    if any(char in text for char in '\n\r\t\\"') or ": " in text or " #" in text:
        return False
    try:
        return bool(yaml.safe_load(text) == text)
    except yaml.YAMLError:
        return False


def parse_yaml(text: Any) -> Any:
    if text is None:
        return None
    if not isinstance(text, str):
        raise RenderFailure(f"The 'yaml' function expects a string, got {type_name(text)}")
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RenderFailure(f"Invalid yaml: {exc}") from exc


# -- Ion -------------------------------------------------------------------------------------


def to_ion_filter(value: Any) -> str:
    return write_ion(value)


def parse_ion(text: Any) -> Any:
    if text is None:
        return None
    if not isinstance(text, str):
        raise RenderFailure(f"The 'fromIon' function expects a string, got {type_name(text)}")
    try:
        return read_ion(text)
    except ValueError as exc:
        raise RenderFailure(f"Invalid ion: {exc}") from exc


FILTERS: dict[str, Callable[..., Any]] = {
    "toJson": to_json_filter,
    "json": to_json_filter,
    "jsonEncode": to_json_filter,
    "jq": jq_filter,
    "yaml": yaml_filter,
    "toIon": to_ion_filter,
}
