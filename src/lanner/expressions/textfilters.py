"""String filters: case, trimming, encodings, hashes, substrings, indentation, replace, split.

Each is `function(value, *args, **kwargs)` with Kestra's argument names; most return null for a
null input. Regular expressions use Java syntax where it differs (`(?<name>…)`, `$1`).
"""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

from lanner.expressions.runtime import MAX_VALUE_SIZE, RenderFailure
from lanner.expressions.values import to_text, type_name


def text_input(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise RenderFailure(f"'{name}' filter expects a string, got {type_name(value)}")
    return value


def upper(value: Any) -> Any:
    return None if value is None else to_text(value).upper()


def lower(value: Any) -> Any:
    return None if value is None else to_text(value).lower()


def capitalize(value: Any) -> Any:
    if value is None:
        return None
    text = to_text(value)
    stripped = len(text) - len(text.lstrip())
    return text[:stripped] + text[stripped : stripped + 1].upper() + text[stripped + 1 :]


def title(value: Any) -> Any:
    if value is None:
        return None
    return re.sub(r"(^|\s)(\S)", lambda m: m.group(1) + m.group(2).upper(), to_text(value))


def trim(value: Any) -> Any:
    # Java's String.trim removes every character up to and including the space.
    return None if value is None else to_text(value).strip("".join(map(chr, range(33))))


def abbreviate(value: Any, length: int) -> Any:
    if value is None:
        return None
    text = to_text(value)
    if length < 0:
        raise RenderFailure("'abbreviate' filter expects a length >= 0")
    if len(text) < length or len(text) <= 3:
        return text
    return text[:length] if length <= 3 else text[: length - 3] + "..."


def slugify(value: Any) -> Any:
    if value is None:
        return None
    text = re.sub(r"\s", "-", to_text(value))
    text = re.sub(r"[^\w-]", "", unicodedata.normalize("NFD", text), flags=re.ASCII)
    text = re.sub(r"-{2,}", "-", text.replace("_", "-"))
    return text.strip("-").lower()


def urlencode(value: Any) -> Any:
    if value is None:
        return None
    return urllib.parse.quote_plus(to_text(value), safe="*").replace("~", "%7E")


def urldecode(value: Any) -> Any:
    return None if value is None else urllib.parse.unquote_plus(to_text(value))


def base64encode(value: Any) -> Any:
    if value is None:
        return None
    return base64.b64encode(text_input("base64encode", value).encode()).decode("ascii")


def base64decode(value: Any) -> Any:
    if value is None:
        return None
    try:
        return base64.b64decode(text_input("base64decode", value), validate=True).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise RenderFailure(f"'base64decode' filter got invalid base64: {exc}") from exc


def digest(name: str) -> Callable[..., Any]:
    def digest(value: Any) -> Any:
        if value is None:
            return None
        return hashlib.new(name, text_input(name, value).encode()).hexdigest()

    digest.__name__ = name
    return digest


def starts_with(text: Any, /, value: Any = None) -> bool:
    return to_text(text).startswith(to_text(value))


def ends_with(text: Any, /, value: Any = None) -> bool:
    return to_text(text).endswith(to_text(value))


def substring_before(value: Any, separator: str) -> Any:
    if value is None:
        return None
    text = to_text(value)
    if not text:
        return text
    position = text.find(separator) if separator else 0
    return text if position < 0 else text[:position]


def substring_after(value: Any, separator: str) -> Any:
    if value is None:
        return None
    text = to_text(value)
    position = text.find(separator)
    return "" if position < 0 else text[position + len(separator) :]


def substring_before_last(value: Any, separator: str) -> Any:
    if value is None:
        return None
    text = to_text(value)
    position = text.rfind(separator) if separator else -1
    return text if position < 0 else text[:position]


def substring_after_last(value: Any, separator: str) -> Any:
    if value is None:
        return None
    text = to_text(value)
    if not text or not separator:
        return text if not text else ""
    position = text.rfind(separator)
    return "" if position < 0 else text[position + len(separator) :]


def _line_separator(text: str) -> str:
    for separator in ("\r\n", "\n\r", "\n", "\r"):
        if separator in text:
            return separator
    return "\n"


def _indentation(name: str, value: Any, amount: Any, prefix: str) -> tuple[str, str, str]:
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
        raise RenderFailure(f"The '{name}' filter expects a positive integer >=0 as 'amount'")
    text = to_text(value)
    newline = _line_separator(text)
    size = len(text) + (text.count(newline) + 1) * len(prefix) * amount
    if size > MAX_VALUE_SIZE:
        raise RenderFailure(
            f"A text of {size} characters is larger than the limit of {MAX_VALUE_SIZE}"
        )
    return text, newline, prefix * amount


def indent(value: Any, amount: Any = None, prefix: str = " ") -> Any:
    if value is None or to_text(value) == "":
        return None if value is None else ""
    text, newline, padding = _indentation("indent", value, amount, prefix)
    return text.replace(newline, newline + padding)


def nindent(value: Any, amount: Any = None, prefix: str = " ") -> Any:
    if value is None or to_text(value) == "":
        return None if value is None else ""
    text, newline, padding = _indentation("nindent", value, amount, prefix)
    return (newline + text).replace(newline, newline + padding)


def escape_char(value: Any, type: str | None = None) -> Any:
    replacements = {"single": ("'", "\\'"), "double": ('"', '\\"'), "shell": ("'", "'\\''")}
    if type is None or type.lower() not in replacements:
        raise RenderFailure(
            "The 'escapeChar' filter expects 'type' to be 'single', 'double' or 'shell'"
        )
    old, new = replacements[type.lower()]
    return _map_strings(value, lambda text: text.replace(old, new))


def _map_strings(value: Any, change: Callable[[str], str]) -> Any:
    """Apply `change` to every leaf of nested maps and lists, as text."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        return {key: _map_strings(item, change) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_map_strings(item, change) for item in value]
    return change(to_text(value))


def replace(value: Any, replace_pairs: Any = None, regexp: bool = False) -> Any:
    if value is None:
        return None
    if not isinstance(replace_pairs, Mapping):
        raise RenderFailure("The 'replace' filter expects a map of replacements")
    pairs = [(to_text(old), to_text(new)) for old, new in replace_pairs.items()]

    def change(text: str) -> str:
        for old, new in pairs:
            if regexp:
                text = _java_pattern(old).sub(_java_replacement(new), text)
            else:
                text = text.replace(old, new)
        return text

    return _map_strings(value, change)


def _java_pattern(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(re.sub(r"\(\?<(?=[A-Za-z])", "(?P<", pattern))
    except re.error as exc:
        raise RenderFailure(f"Invalid regular expression '{pattern}': {exc}") from exc


def _java_replacement(template: str) -> Callable[[re.Match[str]], str]:
    """Expand a Java replacement string (`$1`, `${name}`, `\\$`) for one match."""
    tokens = re.findall(r"\\(.)|\$\{(\w+)\}|\$(\d)|([^\\$]+|\$)", template, re.DOTALL)

    def expand(match: re.Match[str]) -> str:
        parts: list[str] = []
        for escaped, named, number, literal in tokens:
            if named or number:
                parts.append(match.group(named or int(number)) or "")
            else:
                parts.append(escaped or literal)
        return "".join(parts)

    return expand


def split(value: Any, delimiter: str | None = None, limit: int | None = None) -> Any:
    """Java's `String.split(regex, limit)`: limit > 0 caps the parts, 0 drops trailing empties."""
    if value is None:
        return None
    if delimiter is None:
        raise RenderFailure("The 'split' filter expects a 'delimiter'")
    text, most = to_text(value), 0 if limit is None else int(limit)
    parts: list[str] = []
    start = 0
    for match in _java_pattern(delimiter).finditer(text):
        if most > 0 and len(parts) == most - 1:
            break
        if match.end() == 0:
            continue  # a zero-width match at the start never yields a leading empty part
        parts.append(text[start : match.start()])
        start = match.end()
    if not parts:
        return [text]
    parts.append(text[start:])
    while most == 0 and parts and parts[-1] == "":
        parts.pop()
    return parts
