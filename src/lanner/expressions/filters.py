"""Filters (`value | name(args)`) and tests (`value is name`), Pebble's and Kestra's.

A filter is `function(value, *args, **kwargs)`; parameter names are the ones templates use as
named arguments (`substringAfter(separator='.')`), which is why some are camelCase. Most filters
return null for a null input, as Kestra's do.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from lanner.expressions import dates, formats, numeric
from lanner.expressions import textfilters as text
from lanner.expressions.runtime import RenderFailure
from lanner.expressions.values import is_number, to_text, type_name

Filter = Callable[..., Any]


def _list_input(name: str, value: Any) -> list[Any]:
    if isinstance(value, tuple):
        return list(value)
    if not isinstance(value, list):
        raise RenderFailure(f"'{name}' filter expects a list, got {type_name(value)}")
    return value


# -- collections -----------------------------------------------------------------------------


def default(value: Any, default: Any = None) -> Any:
    return default if empty_test(value) else value


def length(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, str | list | tuple | Mapping):
        return len(value)
    return 0


def first(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str | list | tuple):
        return value[0] if value else None
    if isinstance(value, Mapping):
        return next(iter(value.values()), None)
    return value


def last(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str | list | tuple):
        return value[-1] if value else None
    if isinstance(value, Mapping):
        return list(value.values())[-1] if value else None
    return value


def join(value: Any, separator: str = "") -> Any:
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return to_text(separator).join(to_text(item) for item in value)
    return value


def reverse(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str | list | tuple):
        return value[::-1] if isinstance(value, str) else list(reversed(value))
    raise RenderFailure(f"'reverse' filter expects a list or a string, got {type_name(value)}")


def _sorted(name: str, value: Any, descending: bool) -> Any:
    if value is None:
        return None
    try:
        return sorted(_list_input(name, value), reverse=descending)
    except TypeError as exc:
        raise RenderFailure(f"'{name}' filter can't order these values: {exc}") from exc


def sort(value: Any) -> Any:
    return _sorted("sort", value, False)


def rsort(value: Any) -> Any:
    return _sorted("rsort", value, True)


def slice_(value: Any, fromIndex: Any = 0, toIndex: Any = None) -> Any:
    if value is None:
        return None
    if not isinstance(value, str | list | tuple):
        raise RenderFailure(f"'slice' filter expects a list or a string, got {type_name(value)}")
    start = int(fromIndex or 0)
    end = len(value) if toIndex is None else int(toIndex)
    if start < 0 or end > len(value) or start > end:
        raise RenderFailure(f"'slice' indexes {start}..{end} are outside 0..{len(value)}")
    return value[start:end] if isinstance(value, str) else list(value[start:end])


def merge(value: Any, items: Any = None) -> Any:
    if isinstance(value, Mapping) and isinstance(items, Mapping):
        return {**value, **items}
    if isinstance(value, list | tuple):
        return [*value, *(items if isinstance(items, list | tuple) else [items])]
    raise RenderFailure(f"'merge' filter can't merge {type_name(items)} into {type_name(value)}")


def chunk(value: Any, size: Any = None) -> Any:
    if value is None:
        return None
    items = _list_input("chunk", value)
    if not is_number(size) or int(size) <= 0:
        raise RenderFailure("'chunk' filter expects a positive 'size'")
    step = int(size)
    return [items[start : start + step] for start in range(0, len(items), step)]


def keys(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, Mapping):
        return list(value.keys())
    if isinstance(value, list | tuple):
        return list(range(len(value)))
    raise RenderFailure(f"'keys' filter expects a map or a list, got {type_name(value)}")


def values(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, Mapping):
        return list(value.values())
    raise RenderFailure(f"'values' filter expects a map, got {type_name(value)}")


def flatten(value: Any) -> Any:
    if value is None:
        return None
    items = _list_input("flatten", value)
    return [
        inner for item in items for inner in (item if isinstance(item, list | tuple) else [item])
    ]


def distinct(value: Any) -> Any:
    if value is None:
        return None
    unique: list[Any] = []
    for item in _list_input("distinct", value):
        if item not in unique:
            unique.append(item)
    return unique


def abs_(value: Any) -> Any:
    if value is None:
        return None
    if not is_number(value):
        raise RenderFailure(f"'abs' filter expects a number, got {type_name(value)}")
    return abs(value)


# -- tests -----------------------------------------------------------------------------------


def empty_test(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    if isinstance(value, list | tuple | Mapping):
        return len(value) == 0
    return False


def _integer_test(name: str, value: Any) -> int:
    if not is_number(value):
        raise RenderFailure(f"Test '{name}' expects a number, got {type_name(value)}")
    return int(value)


def json_test(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, Mapping | list | tuple):
        return True
    if not isinstance(value, str):
        return False
    if not value.strip():
        return True
    try:
        json.JSONDecoder().raw_decode(value.strip())
    except ValueError:
        return False
    return True


TESTS: dict[str, Callable[..., bool]] = {
    "defined": lambda value: value is not None,
    "null": lambda value: value is None,
    "empty": empty_test,
    "even": lambda value: _integer_test("even", value) % 2 == 0,
    "odd": lambda value: _integer_test("odd", value) % 2 == 1,
    "iterable": lambda value: isinstance(value, list | tuple),
    "map": lambda value: isinstance(value, Mapping),
    "json": json_test,
}

FILTERS: dict[str, Filter] = {
    "abbreviate": text.abbreviate,
    "abs": abs_,
    "base64decode": text.base64decode,
    "base64encode": text.base64encode,
    "capitalize": text.capitalize,
    "chunk": chunk,
    "className": numeric.class_name,
    "default": default,
    "distinct": distinct,
    "endsWith": text.ends_with,
    "escapeChar": text.escape_char,
    "first": first,
    "flatten": flatten,
    "indent": text.indent,
    "join": join,
    "keys": keys,
    "last": last,
    "length": length,
    "lower": text.lower,
    "md5": text.digest("md5"),
    "merge": merge,
    "nindent": text.nindent,
    "number": numeric.number,
    "numberFormat": numeric.number_format,
    "replace": text.replace,
    "reverse": reverse,
    "rsort": rsort,
    "sha1": text.digest("sha1"),
    "sha256": text.digest("sha256"),
    "sha512": text.digest("sha512"),
    "slice": slice_,
    "slugify": text.slugify,
    "sort": sort,
    "split": text.split,
    "startsWith": text.starts_with,
    "string": numeric.string,
    "substringAfter": text.substring_after,
    "substringAfterLast": text.substring_after_last,
    "substringBefore": text.substring_before,
    "substringBeforeLast": text.substring_before_last,
    "title": text.title,
    "trim": text.trim,
    "upper": text.upper,
    "urldecode": text.urldecode,
    "urlencode": text.urlencode,
    "values": values,
    **dates.FILTERS,
    **formats.FILTERS,
}
