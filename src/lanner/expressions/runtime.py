"""Helpers that compiled templates call: strict lookups, Java arithmetic, comparisons, truth.

Compiled code never touches Python attributes; it reaches data only through `lookup` and `attr`,
which read dict keys and list indices and nothing else. Failures are raised as two internal
exceptions, `Undefined` and `RenderFailure`, which carry no template location; the template
turns them into `UndefinedVariableError` / `ExpressionError` with the source and line.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from lanner.expressions.values import is_number, to_text, type_name


class Undefined(Exception):
    """A variable, key, attribute or index that does not exist."""

    def __init__(self, name: str, line: int) -> None:
        super().__init__(name)
        self.name = name
        self.line = line


class RenderFailure(Exception):
    """A value-level error (bad operand, bad filter input); the template adds where it happened."""


Thunk = Callable[[], Any]

MAX_RANGE_SIZE = 1_000_000
# Longest template text that is parsed: far beyond any real template, short of exhausting memory.
MAX_TEMPLATE_LENGTH = 10_000_000
"""The most elements a range (`a..b`, `range(a, b)`) may have."""

MAX_LOOP_ITERATIONS = 10_000_000
"""The most `{% for %}` iterations one render may run, all loops together."""

MAX_VALUE_SIZE = 100_000_000
"""The most characters of a text that `+`, `~` or `indent` may build."""

MAX_LIST_SIZE = 10_000_000
"""The most items of a list that `+` may build."""

MAX_INTEGER_BITS = 4096
"""The widest integer arithmetic may produce (Java's `BigInteger` has no practical bound)."""


def check_size(value: Any) -> Any:
    """Return `value` unless it is a text or list longer than its limit."""
    if isinstance(value, str):
        if len(value) > MAX_VALUE_SIZE:
            raise RenderFailure(
                f"A text of {len(value)} characters is larger than the limit of {MAX_VALUE_SIZE}"
            )
    elif len(value) > MAX_LIST_SIZE:
        raise RenderFailure(
            f"A list of {len(value)} items is larger than the limit of {MAX_LIST_SIZE}"
        )
    return value


def _check_integer(operator: str, value: int) -> int:
    if value.bit_length() > MAX_INTEGER_BITS:
        raise RenderFailure(
            f"The result of '{operator}' is larger than the limit of {MAX_INTEGER_BITS} bits"
        )
    return value


def lookup(scope: Mapping[str, Any], name: str, line: int) -> Any:
    """Read a render variable, failing strictly when it is missing."""
    try:
        return scope[name]
    except KeyError:
        raise Undefined(name, line) from None


def lookup_local(
    local: dict[str, Any], scope: Mapping[str, Any] | None, name: str, line: int
) -> Any:
    """Read a name that a `{% set %}` may have defined, else a render variable."""
    if name in local:
        return local[name]
    if scope is None:
        raise Undefined(name, line)
    return lookup(scope, name, line)


def attr(target: Any, key: Any, line: int) -> Any:
    """Read `target.key` / `target[key]`: a map entry or a list item, nothing else."""
    kind = type(target)
    if kind is dict:
        try:
            return target[key]
        except (KeyError, TypeError):
            return _missing_key(target, key, line)
    if kind is list:
        return _item(target, key, line)
    if isinstance(target, Mapping):
        try:
            return target[key]
        except (KeyError, TypeError):
            return _missing_key(target, key, line)
    if isinstance(target, Sequence) and not isinstance(target, str | bytes):
        return _item(target, key, line)
    raise Undefined(_key_name(key), line)


def _missing_key(target: Mapping[Any, Any], key: Any, line: int) -> Any:
    # Pebble finds `map[1]` in a map keyed by the string "1", as YAML and JSON keys always are.
    if is_number(key) and str(key) in target:
        return target[str(key)]
    raise Undefined(_key_name(key), line)


def _item(target: Sequence[Any], key: Any, line: int) -> Any:
    index = key
    if isinstance(key, str) and key.isdigit():
        index = int(key)
    if isinstance(index, int) and not isinstance(index, bool) and 0 <= index < len(target):
        return target[index]
    raise Undefined(_key_name(key), line)


def _key_name(key: Any) -> str:
    return key if isinstance(key, str) else to_text(key)


# -- guards (the only places where an undefined value is not an error) ---------------------------


def defined(thunk: Thunk) -> bool:
    """`x is defined`: evaluates without an undefined part and is not null."""
    try:
        return thunk() is not None
    except Undefined:
        return False


def coalesce(left: Thunk, right: Thunk) -> Any:
    """`a ?? b`: b when a is undefined or null."""
    try:
        value = left()
    except Undefined:
        return right()
    return right() if value is None else value


def coalesce_undefined(left: Thunk, right: Thunk) -> Any:
    """`a ??? b`: b only when a is undefined."""
    try:
        return left()
    except Undefined:
        return right()


def guard(thunk: Thunk) -> Any:
    """The input of the `default` filter: null when undefined."""
    try:
        return thunk()
    except Undefined:
        return None


# -- arithmetic with Java semantics ------------------------------------------------------------


def add(left: Any, right: Any) -> Any:
    kinds = (type(left), type(right))
    if kinds == (int, int):
        return _check_integer("+", left + right)
    if str in kinds or isinstance(left, str) or isinstance(right, str):
        return check_size(_java_string(left) + _java_string(right))
    if isinstance(left, list):
        return check_size(left + (right if isinstance(right, list) else [right]))
    return _arithmetic("+", left, right)


def subtract(left: Any, right: Any) -> Any:
    if isinstance(left, list):
        removed = right if isinstance(right, list) else [right]
        return [item for item in left if item not in removed]
    return _arithmetic("-", left, right)


def multiply(left: Any, right: Any) -> Any:
    return _arithmetic("*", left, right)


def divide(left: Any, right: Any) -> Any:
    return _arithmetic("/", left, right)


def modulo(left: Any, right: Any) -> Any:
    return _arithmetic("%", left, right)


def negate(value: Any) -> Any:
    return _arithmetic("*", -1, value)


def plus(value: Any) -> Any:
    return _arithmetic("*", 1, value)


def _java_string(value: Any) -> str:
    return "null" if value is None else to_text(value)


def _arithmetic(operator: str, left: Any, right: Any) -> Any:
    if not (is_number(left) and is_number(right)):
        raise RenderFailure(
            f"Cannot apply '{operator}' to {type_name(left)} and {type_name(right)}"
        )
    if isinstance(left, Decimal) or isinstance(right, Decimal):
        return _decimal_operation(operator, Decimal(str(left)), Decimal(str(right)))
    if isinstance(left, float) or isinstance(right, float):
        return _float_operation(operator, float(left), float(right))
    return _integer_operation(operator, int(left), int(right))


def _integer_operation(operator: str, left: int, right: int) -> int:
    if operator == "+":
        return _check_integer(operator, left + right)
    if operator == "-":
        return _check_integer(operator, left - right)
    if operator == "*":
        if left.bit_length() + right.bit_length() > MAX_INTEGER_BITS + 1:
            return _check_integer(operator, 1 << (MAX_INTEGER_BITS + 1))
        return _check_integer(operator, left * right)
    if right == 0:
        raise RenderFailure("Division by zero")
    quotient = abs(left) // abs(right)
    if (left < 0) != (right < 0):
        quotient = -quotient
    return quotient if operator == "/" else left - right * quotient


def _float_operation(operator: str, left: float, right: float) -> float:
    if operator == "+":
        return left + right
    if operator == "-":
        return left - right
    if operator == "*":
        return left * right
    if right == 0:
        # Java doubles don't raise: x/0 is ±Infinity (NaN for 0/0), x%0 is NaN.
        if operator == "%" or left == 0 or math.isnan(left):
            return math.nan
        return math.copysign(math.inf, left) * math.copysign(1.0, right)
    return left / right if operator == "/" else math.fmod(left, right)


def _decimal_operation(operator: str, left: Decimal, right: Decimal) -> Decimal:
    if operator in "/%" and right == 0:
        raise RenderFailure("Division by zero")
    operations: dict[str, Callable[[Decimal, Decimal], Decimal]] = {
        "+": Decimal.__add__,
        "-": Decimal.__sub__,
        "*": Decimal.__mul__,
        "/": Decimal.__truediv__,
        "%": Decimal.__mod__,
    }
    return operations[operator](left, right)


# -- comparison ------------------------------------------------------------------------------


def equals(left: Any, right: Any) -> bool:
    """`==` / `equals`: numbers by value, everything else without coercion (`1 == "1"` false)."""
    if left is right:
        return True
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and bool(left == right)
    return bool(left == right)


def not_equals(left: Any, right: Any) -> bool:
    return not equals(left, right)


def _order(operator: str, left: Any, right: Any) -> int | None:
    if isinstance(left, str) and isinstance(right, str):
        return (left > right) - (left < right)
    if left is None or right is None:
        return None
    if is_number(left) and is_number(right):
        return (left > right) - (left < right)  # type: ignore[no-any-return]
    raise RenderFailure(
        f"Cannot compare {type_name(left)} and {type_name(right)} with '{operator}'"
    )


def less(left: Any, right: Any) -> bool:
    order = _order("<", left, right)
    return order is not None and order < 0


def less_or_equal(left: Any, right: Any) -> bool:
    order = _order("<=", left, right)
    return order is not None and order <= 0


def greater(left: Any, right: Any) -> bool:
    order = _order(">", left, right)
    return order is not None and order > 0


def greater_or_equal(left: Any, right: Any) -> bool:
    order = _order(">=", left, right)
    return order is not None and order >= 0


def contains(container: Any, item: Any) -> bool:
    """`a contains b`: substring, list element (or all of a list), or map key."""
    if container is None:
        return False
    if isinstance(container, str):
        return _java_string(item) in container
    if isinstance(container, Mapping):
        return _hashable(item) and item in container
    if isinstance(container, list | tuple):
        wanted = item if isinstance(item, list | tuple) else [item]
        return all(any(equals(have, want) for have in container) for want in wanted)
    raise RenderFailure(f"'contains' cannot be applied to {type_name(container)}")


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def concat_all(*parts: Any) -> str:
    """`a ~ b ~ c` and `"a #{b} c"`: every part as text, null as nothing."""
    return check_size("".join(map(to_text, parts)))  # type: ignore[no-any-return]


def value_range(start: Any, end: Any, step: Any = 1) -> list[Any]:
    """`a..b` and `range(a, b, step)`: inclusive, integers or single characters."""
    if isinstance(start, str) and isinstance(end, str) and len(start) == len(end) == 1:
        return [chr(code) for code in value_range(ord(start), ord(end), step)]
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end, step)):
        raise RenderFailure(f"A range needs integers, got {type_name(start)} and {type_name(end)}")
    if step == 0:
        raise RenderFailure("A range step can not be 0")
    count = max(0, (end - start) // step + 1)
    if count > MAX_RANGE_SIZE:
        raise RenderFailure(
            f"A range of {count} elements is larger than the limit of {MAX_RANGE_SIZE}"
        )
    return list(range(start, end + (1 if step > 0 else -1), step))


# -- truth and iteration -----------------------------------------------------------------------


def truth(value: Any) -> bool:
    """The truth of a condition: a boolean, null (false), a number (non-zero) or "true"/"false"."""
    if value is True or value is False:
        return bool(value)
    if value is None:
        return False
    if is_number(value):
        return bool(value != 0 and value == value)
    if isinstance(value, str) and value in ("true", "false"):
        return value == "true"
    raise RenderFailure(f"Expected a boolean condition, got {type_name(value)}")


def entries(value: Any) -> list[Any]:
    """What `{% for x in value %}` walks: list items, map entries (`key`/`value`), or the value."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return value if isinstance(value, list) else list(value)
    if isinstance(value, Mapping):
        return [{"key": key, "value": item} for key, item in value.items()]
    return [value]


def pairs(value: Any) -> list[tuple[Any, Any]]:
    """What `{% for k, v in map %}` walks."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        return list(value.items())
    raise RenderFailure(f"'for key, value in …' needs a map, got {type_name(value)}")
