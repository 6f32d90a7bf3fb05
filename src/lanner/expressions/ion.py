"""A small Amazon Ion text writer and reader, enough for `toIon` and `fromIon`.

Written: null, booleans, integers, floats (`1.123e0`), decimals, strings, timestamps, lists and
structs with symbol keys, without spaces (as Jackson's Ion mapper writes them). Read: the same,
plus symbols, long strings, s-expressions (as lists), annotations (dropped) and comments.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from lanner.expressions.values import java_double

_SYMBOL = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_RESERVED = {"null", "true", "false", "nan"}


def write_ion(value: Any) -> str:
    """Return the Ion text of `value`."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return _ion_float(value)
    if isinstance(value, Decimal):
        text = str(value)
        return text if "." in text or "E" in text.upper() else text + "d0"
    if isinstance(value, str):
        return _ion_string(value)
    if isinstance(value, Mapping):
        items = (f"{_ion_symbol(str(key))}:{write_ion(item)}" for key, item in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(write_ion(item) for item in value) + "]"
    if isinstance(value, datetime | date):
        return _ion_timestamp(value)
    return _ion_string(str(value))


def _ion_float(value: float) -> str:
    text = java_double(value)
    special = {"NaN": "nan", "Infinity": "+inf", "-Infinity": "-inf"}
    if text in special:
        return special[text]
    return text.replace("E", "e") if "E" in text else text + "e0"


def _ion_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = escaped.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f'"{escaped}"'


def _ion_symbol(text: str) -> str:
    if _SYMBOL.fullmatch(text) and text not in _RESERVED:
        return text
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _ion_timestamp(value: datetime | date) -> str:
    if not isinstance(value, datetime):
        return value.isoformat()
    moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    text = moment.isoformat(
        timespec="milliseconds" if not moment.microsecond % 1000 else "microseconds"
    )
    return text.replace("+00:00", "Z")


# -- reading ---------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<space>\s+|//[^\n]*|/\*.*?\*/)
  | (?P<long>'''(?:[^'\\]|\\.|'(?!''))*''')
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<quoted>'(?:[^'\\]|\\.)*')
  | (?P<timestamp>\d{4}(?:-\d{2}(?:-\d{2})?)?T
      (?:\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))?
      |\d{4}-\d{2}-\d{2}(?![\d.eEdD]))
  | (?P<number>[+-]?(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|\d[\d_]*(?:\.[\d_]*)?(?:[eEdD][+-]?\d+)?)
      |[+-]inf)
  | (?P<symbol>[A-Za-z_$][A-Za-z0-9_$.]*)
  | (?P<punct>::|[{}\[\]():,])
  | (?P<operator>[!#%&*+\-./;<=>?@^`|~]+)
    """,
    re.VERBOSE | re.DOTALL,
)


class _Reader:
    def __init__(self, text: str) -> None:
        self.tokens = [
            (m.lastgroup or "", m.group()) for m in self._scan(text) if m.lastgroup != "space"
        ]
        self.index = 0

    @staticmethod
    def _scan(text: str) -> list[re.Match[str]]:
        matches: list[re.Match[str]] = []
        position = 0
        while position < len(text):
            match = _TOKEN.match(text, position)
            if match is None:
                raise ValueError(f"unexpected character {text[position]!r} at offset {position}")
            matches.append(match)
            position = match.end()
        return matches

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.index] if self.index < len(self.tokens) else ("eof", "")

    def take(self) -> tuple[str, str]:
        token = self.peek()
        self.index += 1
        return token

    def value(self) -> Any:
        kind, text = self.take()
        if self.peek() == ("punct", "::"):
            self.take()
            return self.value()
        if kind == "punct":
            return self.container(text)
        reader = _SCALARS.get(kind)
        if reader is None:
            raise ValueError(f"unexpected {text!r}")
        return reader(text)

    def container(self, opener: str) -> Any:
        closer = {"{": "}", "[": "]", "(": ")"}.get(opener)
        if closer is None:
            raise ValueError(f"unexpected {opener!r}")
        if opener == "{":
            return self.struct()
        items: list[Any] = []
        while self.peek() != ("punct", closer):
            if self.peek()[0] == "eof":
                raise ValueError(f"missing {closer!r}")
            items.append(self.value())
            if self.peek() == ("punct", ","):
                self.take()
        self.take()
        return items

    def struct(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        while self.peek() != ("punct", "}"):
            kind, key = self.take()
            if kind not in ("symbol", "quoted", "string", "long"):
                raise ValueError(f"expected a field name, got {key!r}")
            name = _SCALARS[kind](key)
            if self.take() != ("punct", ":"):
                raise ValueError(f"expected ':' after {key!r}")
            result[str(name)] = self.value()
            if self.peek() == ("punct", ","):
                self.take()
        self.take()
        return result


def _unescape(body: str) -> str:
    return body.encode("latin-1", "backslashreplace").decode("unicode_escape")


def _number(text: str) -> Any:
    if text in ("+inf", "-inf"):
        return float(text)
    clean = text.replace("_", "")
    if clean.lower().startswith(("0x", "-0x", "+0x")):
        return int(clean, 16)
    if clean.lower().startswith(("0b", "-0b", "+0b")):
        return int(clean, 2)
    if "e" in clean.lower():
        return float(clean)
    if "." in clean or "d" in clean.lower():
        return Decimal(clean.lower().replace("d", "e"))
    return int(clean)


def _timestamp(text: str) -> Any:
    if "T" not in text:
        return date.fromisoformat(text)
    day, _, clock = text.partition("T")
    if not clock:
        return date.fromisoformat(day if len(day) == 10 else (day + "-01-01")[:10])
    offset = "+00:00" if clock.endswith("Z") else clock[-6:]
    moment = datetime.fromisoformat(f"{day}T{clock.removesuffix('Z').removesuffix(offset)}")
    sign = -1 if offset[0] == "-" else 1
    delta = timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6])) * sign
    return moment.replace(tzinfo=UTC if not delta else timezone(delta))


def _symbol(text: str) -> Any:
    constants: dict[str, Any] = {"null": None, "true": True, "false": False, "nan": float("nan")}
    if text in constants or text.startswith("null."):
        return constants.get(text)
    return text


_SCALARS: dict[str, Callable[[str], Any]] = {
    "string": lambda text: _unescape(text[1:-1]),
    "long": lambda text: _unescape(text[3:-3]),
    "quoted": lambda text: _unescape(text[1:-1]),
    "number": _number,
    "timestamp": _timestamp,
    "symbol": _symbol,
    "operator": lambda text: text,
}


def read_ion(text: str) -> Any:
    """Read Ion text: one value, or a list when the text holds several top-level values."""
    reader = _Reader(text)
    values = []
    while reader.peek()[0] != "eof":
        values.append(reader.value())
    if not values:
        raise ValueError("no value")
    return values[0] if len(values) == 1 else values
