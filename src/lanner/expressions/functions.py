"""Built-in functions that need no execution: parsing, rendering, time, ids, numbers.

A function is called as `function(call, *args, **kwargs)` where `call` is the render's
`CallContext`. Functions that need the running execution (`secret`, `kv`, `read`,
`currentEachOutput`, `errorLogs`...) are given by the engine through `functions=`.
"""

from __future__ import annotations

import random
import socket
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from lanner.expressions import dates, formats
from lanner.expressions.runtime import RenderFailure, greater, less, value_range

if TYPE_CHECKING:
    from lanner.expressions.template import CallContext

MAX_RENDERING_PASSES = 100
_MISSING: Any = object()
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _required(function: str, name: str, value: Any) -> Any:
    if value is _MISSING:
        raise RenderFailure(f"The '{function}' function expects an argument '{name}'.")
    return value


def from_json(call: CallContext, json: Any = _MISSING) -> Any:
    return formats.parse_json(_required("fromJson", "json", json))


def from_yaml(call: CallContext, yaml: Any = _MISSING) -> Any:
    return formats.parse_yaml(_required("yaml", "yaml", yaml))


def from_ion(call: CallContext, ion: Any = _MISSING) -> Any:
    return formats.parse_ion(_required("fromIon", "ion", ion))


def render(
    call: CallContext,
    toRender: Any = _MISSING,
    recursive: Any = True,
    **named: Any,
) -> Any:
    """Render a value again with the same variables: until stable, or once."""
    value = _required("render", "toRender", named.pop("template", toRender))
    if named:
        raise RenderFailure(f"The 'render' function has no argument '{next(iter(named))}'")
    if not isinstance(recursive, bool):
        raise RenderFailure("The 'render' function expects 'recursive' to be a boolean")
    return _render_value(call, value, recursive)


def render_once(call: CallContext, toRender: Any = _MISSING) -> Any:
    return _render_value(call, _required("renderOnce", "toRender", toRender), False)


def _render_value(call: CallContext, value: Any, recursive: bool) -> Any:
    if isinstance(value, str):
        return _render_text(call, value, recursive)
    if isinstance(value, Mapping):
        return {
            _render_value(call, key, recursive): _render_value(call, item, recursive)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_render_value(call, item, recursive) for item in value]
    return value


def _render_text(call: CallContext, text: str, recursive: bool) -> str:
    if not recursive:
        return call.render(text)
    for _ in range(MAX_RENDERING_PASSES + 1):
        rendered = call.render(text)
        if rendered == text:
            return rendered
        text = rendered
    raise RenderFailure("Too many rendering attempts")


def now(call: CallContext, *args: Any, **kwargs: Any) -> str:
    return dates.now(*args, **kwargs)


def uuid_function(call: CallContext) -> str:
    return str(uuid.uuid4())


def id_function(call: CallContext) -> str:
    """A short unique id: a random UUID in base 62, as Kestra's `IdUtils.create()`."""
    number = uuid.uuid4().int
    digits: list[str] = []
    while number:
        number, digit = divmod(number, 62)
        digits.append(_BASE62[digit])
    return "".join(reversed(digits))


def random_int(call: CallContext, lower: Any = _MISSING, upper: Any = _MISSING) -> int:
    low, high = _required("randomInt", "lower", lower), _required("randomInt", "upper", upper)
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (low, high)):
        raise RenderFailure("The 'randomInt' function expects integers")
    if low >= high:
        raise RenderFailure("The 'randomInt' function expects 'lower' to be less than 'upper'")
    return random.randrange(low, high)


def random_port(call: CallContext) -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def range_function(call: CallContext, start: Any, end: Any, step: Any = 1) -> list[Any]:
    return value_range(start, end, step)


def _extreme(name: str, values: tuple[Any, ...], better: Callable[[Any, Any], bool]) -> Any:
    if not values:
        raise RenderFailure(f"The '{name}' function expects at least one argument")
    best = values[0]
    for value in values[1:]:
        if better(value, best):
            best = value
    return best


def max_function(call: CallContext, *values: Any) -> Any:
    return _extreme("max", values, greater)


def min_function(call: CallContext, *values: Any) -> Any:
    return _extreme("min", values, less)


def print_context(call: CallContext) -> Any:
    return dict(call.variables)


BUILTIN_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "fromJson": from_json,
    "json": from_json,
    "jsonDecode": from_json,
    "yaml": from_yaml,
    "fromIon": from_ion,
    "ionDecode": from_ion,
    "render": render,
    "renderOnce": render_once,
    "now": now,
    "uuid": uuid_function,
    "id": id_function,
    "randomInt": random_int,
    "randomPort": random_port,
    "range": range_function,
    "max": max_function,
    "min": min_function,
    "printContext": print_context,
}
