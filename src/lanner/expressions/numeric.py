"""Number filters: `number` (Java type detection), `className`, `string`, `numberFormat`."""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from lanner.expressions import dates
from lanner.expressions.runtime import RenderFailure
from lanner.expressions.textfilters import text_input
from lanner.expressions.values import (
    JavaBigInteger,
    JavaFloat,
    JavaLong,
    is_number,
    to_text,
    type_name,
)

_INT_RANGE = range(-(2**31), 2**31)
_LONG_RANGE = range(-(2**63), 2**63)
_INTEGER = re.compile(r"[+-]?\d+")
_HEX = re.compile(r"[+-]?0[xX][0-9a-fA-F]+")


def number(value: Any, type: str = "") -> Any:
    if value is None:
        return None
    text = text_input("number", value).strip()
    try:
        return _parse_number(text, (type or "").upper())
    except (ValueError, InvalidOperation) as exc:
        raise RenderFailure(f"'number' filter can't read '{text}' as a number") from exc


def _parse_number(text: str, kind: str) -> Any:
    if kind in ("INT", "LONG", "BIGINTEGER"):
        integer = int(text, 0) if text.lower().startswith(("0x", "-0x")) else int(text)
        return {"INT": int, "LONG": JavaLong, "BIGINTEGER": JavaBigInteger}[kind](integer)
    if kind == "FLOAT":
        return JavaFloat(text)
    if kind == "DOUBLE":
        return float(text)
    if kind == "BIGDECIMAL":
        return Decimal(text)
    return _detect_number(text)


def _detect_number(text: str) -> Any:
    """Commons-lang `createNumber`: the smallest Java type that holds the text exactly."""
    if _INTEGER.fullmatch(text) or _HEX.fullmatch(text):
        integer = int(text, 16) if "x" in text.lower() else int(text)
        if integer in _INT_RANGE:
            return integer
        return JavaLong(integer) if integer in _LONG_RANGE else JavaBigInteger(integer)
    double = float(text)
    if math.isfinite(double) and _shortest_float32(double) == double:
        return JavaFloat(text)
    exact = Decimal(text)
    return double if math.isfinite(double) and Decimal(repr(double)) == exact else exact


def _shortest_float32(value: float) -> float:
    """The double read back from the shortest text of `value` rounded to a 32-bit float."""
    single = struct.unpack("f", struct.pack("f", value))[0]
    for digits in range(1, 10):
        text = f"{single:.{digits}g}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == single:
            return float(text)
    return float(single)


_CLASS_NAMES: list[tuple[type, str]] = [
    (bool, "java.lang.Boolean"),
    (JavaFloat, "java.lang.Float"),
    (JavaLong, "java.lang.Long"),
    (JavaBigInteger, "java.math.BigInteger"),
    (float, "java.lang.Double"),
    (Decimal, "java.math.BigDecimal"),
    (str, "java.lang.String"),
]


def class_name(value: Any) -> Any:
    if value is None:
        return None
    for kind, name in _CLASS_NAMES:
        if isinstance(value, kind):
            return name
    if isinstance(value, int):
        return "java.lang.Integer" if value in _INT_RANGE else "java.lang.Long"
    if isinstance(value, Mapping):
        return "java.util.LinkedHashMap"
    if isinstance(value, list | tuple):
        return "java.util.ArrayList"
    return dates.class_name(value) or type(value).__name__


def string(value: Any) -> Any:
    if value is None:
        return None
    if is_number(value):
        return to_text(value)
    if isinstance(value, str):
        try:
            return str(Decimal(value.strip()))
        except InvalidOperation as exc:
            raise RenderFailure(f"'string' filter expects a numeric string, got '{value}'") from exc
    raise RenderFailure(f"'string' filter expects a number, got {type_name(value)}")


def number_format(value: Any, pattern: str | None = None, **kwargs: Any) -> Any:
    pattern = kwargs.get("format", pattern)
    if value is None:
        return None
    if pattern is None:
        raise RenderFailure("The 'numberFormat' filter expects a pattern")
    try:
        number = (
            value
            if isinstance(value, Decimal)
            else Decimal(value if is_number(value) else to_text(value))
        )
    except InvalidOperation as exc:
        raise RenderFailure(f"'numberFormat' expects a number, got '{value}'") from exc
    return _decimal_format(number, pattern.split(";")[0])


def _decimal_format(number: Decimal, pattern: str) -> str:
    """Format like Java's DecimalFormat for `#`, `0`, `,` and `.` patterns (HALF_EVEN)."""
    match = re.fullmatch(r"([^#0,.]*)([#0,]*)(?:\.([#0]*))?(.*)", pattern)
    if match is None:
        raise RenderFailure(f"Unsupported number pattern '{pattern}'")
    prefix, integer_part, fraction_part, suffix = match.groups()
    fraction_part = fraction_part or ""
    if "%" in prefix + suffix:
        number *= 100
    max_fraction = len(fraction_part)
    min_fraction = fraction_part.count("0")
    rounded = number.quantize(Decimal(1).scaleb(-max_fraction), rounding=ROUND_HALF_EVEN)
    sign = "-" if rounded < 0 else ""
    digits = f"{abs(rounded):f}"
    whole, _, fraction = digits.partition(".")
    fraction = fraction.rstrip("0").ljust(min_fraction, "0")
    min_integer = integer_part.replace(",", "").count("0")
    whole = whole.lstrip("0").rjust(min_integer, "0")
    if "," in integer_part:
        size = len(integer_part) - integer_part.rfind(",") - 1
        whole = _group(whole, size) if size > 0 else whole
    if not whole and not fraction:
        whole = "0"
    text = whole + ("." + fraction if fraction else "")
    return prefix + sign + text + suffix


def _group(digits: str, size: int) -> str:
    groups: list[str] = []
    while len(digits) > size:
        groups.insert(0, digits[-size:])
        digits = digits[:-size]
    return ",".join([digits, *groups]) if digits else ",".join(groups)
