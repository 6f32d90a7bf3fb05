"""YAML text -> plain Python values, with the line:column of every mapping key and value.

Flows are read with PyYAML's composer (libyaml when available) rather than its constructor so
that every node keeps its position and duplicate keys can be seen instead of silently
overwritten. Scalars are then read the way Kestra's Jackson-based reader sees them:

* only `true`/`false` (any case) are booleans; `yes`, `no`, `on`, `off` stay strings;
* dates and times stay strings (typed properties parse them later);
* `1:30` (a YAML 1.1 sexagesimal number) stays a string, and `010` is ten, not eight;
* mapping keys are always strings, as written (`1:` gives the key `"1"`).

Multi-document text (`---` lines) is split into documents that keep their line numbers in
the whole text, so that each can be reported on its own.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

import yaml

from lanner.exceptions import Problem

__all__ = [
    "Duplicate",
    "Path",
    "Position",
    "SourceDocument",
    "YamlDocument",
    "format_path",
    "load_documents",
    "load_yaml",
    "split_documents",
]

Path: TypeAlias = tuple[str | int, ...]
"""Where a value sits: mapping keys as strings, list indexes as ints; `()` is the root."""

Position: TypeAlias = tuple[int, int]
"""A 1-based (line, column)."""

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_TAG = "tag:yaml.org,2002:"
_DOCUMENT_SEPARATOR = re.compile(r"^---[ \t]*(#.*)?$")
_BLANK_OR_COMMENT = re.compile(r"^[ \t]*(#.*)?$")
_INFINITY = {".inf": math.inf, "+.inf": math.inf, "-.inf": -math.inf}


def format_path(path: Path) -> str:
    """Write a path the way problems show it: `tasks[0].retry.type`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


@dataclass(frozen=True, slots=True)
class Duplicate:
    """A mapping key written more than once: the path and where the repeat is."""

    path: Path
    position: Position


@dataclass(frozen=True, slots=True)
class YamlDocument:
    """One YAML document read into plain values, with where each part of it is written."""

    value: Any
    keys: Mapping[Path, Position]
    """Where each mapping key is written (for a repeated key, its last occurrence)."""
    values: Mapping[Path, Position]
    """Where each value starts; `()` is the document's root value."""
    duplicates: tuple[Duplicate, ...] = ()
    errors: tuple[Problem, ...] = ()
    """Syntax errors: when there is one, `value` is None."""

    def key_position(self, path: Path) -> Position | None:
        """Return where the key of `path` is written, else where its value starts."""
        return self.keys.get(path) or self.values.get(path)

    def value_position(self, path: Path) -> Position | None:
        """Return where the value at `path` starts, else where its key is written."""
        return self.values.get(path) or self.keys.get(path)

    def nearest(self, path: Path) -> tuple[Path, Position | None]:
        """Return the longest prefix of `path` written in the text, and its value's position."""
        for end in range(len(path), -1, -1):
            prefix = path[:end]
            if prefix in self.values:
                return prefix, self.values[prefix]
        return (), None

    def problems(self, describe: Callable[[Path], str] = format_path) -> list[Problem]:
        """Return the syntax errors, then one problem per repeated key (paths by `describe`)."""
        found = list(self.errors)
        for duplicate in self.duplicates:
            line, column = duplicate.position
            message = f"Duplicate field '{describe(duplicate.path)}'"
            found.append(Problem(describe(duplicate.path[:-1]), message, line, column))
        return found


@dataclass(frozen=True, slots=True)
class SourceDocument:
    """One document of a multi-document text, and the line of the whole text it starts on."""

    index: int
    text: str
    first_line: int


def split_documents(text: str) -> list[SourceDocument]:
    """Split text on `---` lines, dropping documents that hold only blanks and comments.

    Splitting the text, not the YAML stream, keeps a syntax error in one document from hiding
    the others. A `---` line at column 0 always starts a new document in block YAML.
    """
    documents: list[SourceDocument] = []
    lines = text.splitlines(keepends=True)
    start = 0
    for number, line in enumerate([*lines, "---"]):
        if _DOCUMENT_SEPARATOR.match(line.rstrip("\r\n")):
            chunk = lines[start:number]
            if not all(_BLANK_OR_COMMENT.match(item.rstrip("\r\n")) for item in chunk):
                documents.append(SourceDocument(len(documents), "".join(chunk), start + 1))
            start = number + 1
    return documents


def load_documents(text: str) -> list[YamlDocument]:
    """Read every document of a multi-document text, each with positions in the whole text."""
    return [load_yaml(document.text, document.first_line) for document in split_documents(text)]


def load_yaml(text: str, first_line: int = 1) -> YamlDocument:
    """Read one YAML document; `first_line` is the line number of the text's first line."""
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        return _failed(_syntax_problem(exc, first_line))
    except yaml.reader.ReaderError as exc:
        return _failed(_reader_problem(text, exc, first_line))
    except yaml.YAMLError as exc:
        return _failed(Problem("", str(exc).splitlines()[0], first_line, 1))
    builder = _Builder(first_line)
    value = builder.build(root, ()) if root is not None else None
    return YamlDocument(
        value, builder.keys, builder.values, tuple(builder.duplicates), tuple(builder.errors)
    )


def _failed(problem: Problem) -> YamlDocument:
    return YamlDocument(None, {}, {}, (), (problem,))


def _syntax_problem(exc: yaml.MarkedYAMLError, first_line: int) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    message = exc.problem or exc.context or "invalid YAML"
    if exc.context and exc.problem:
        context = exc.context
        if exc.context_mark is not None and _differ(exc.context_mark, mark):
            context += f" started at {_where(exc.context_mark, first_line)}"
        message = f"{message} ({context})"
    line, column = _position(mark, first_line) if mark is not None else (first_line, 1)
    return Problem("", f"Invalid YAML: {message}", line, column)


def _reader_problem(text: str, exc: yaml.reader.ReaderError, first_line: int) -> Problem:
    # The reader reports a character offset, not a line.
    before = text[: exc.position]
    line = before.count("\n") + first_line
    column = exc.position - (before.rfind("\n") + 1) + 1
    return Problem(
        "", f"Invalid YAML: {exc.reason} (character #x{exc.character:04x})", line, column
    )


def _differ(first: yaml.Mark, second: yaml.Mark | None) -> bool:
    return second is None or (first.line, first.column) != (second.line, second.column)


def _where(mark: yaml.Mark, first_line: int) -> str:
    line, column = _position(mark, first_line)
    return f"{line}:{column}"


def _position(mark: yaml.Mark, first_line: int) -> Position:
    return mark.line + first_line, mark.column + 1


class _Builder:
    """Turn a composed node tree into plain values, recording positions along the way."""

    def __init__(self, first_line: int) -> None:
        self.first_line = first_line
        self.keys: dict[Path, Position] = {}
        self.values: dict[Path, Position] = {}
        self.duplicates: list[Duplicate] = []
        self.errors: list[Problem] = []
        # Nodes being built right now: an alias back to one of them is a cycle.
        self._open: set[int] = set()

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.values[path] = _position(node.start_mark, self.first_line)
        if isinstance(node, yaml.ScalarNode):
            return _scalar(node)
        if id(node) in self._open:
            self._error(path, node, "an alias refers to a node that contains it")
            return None
        self._open.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.build(item, (*path, index)) for index, item in enumerate(node.value)]
            return self._mapping(node, path)
        finally:
            self._open.discard(id(node))

    def _mapping(self, node: yaml.Node, path: Path) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self._error(path, key_node, "a mapping key must be a plain value")
                continue
            key = str(key_node.value)
            key_path = (*path, key)
            position = _position(key_node.start_mark, self.first_line)
            if key in result:
                self.duplicates.append(Duplicate(key_path, position))
            self.keys[key_path] = position
            result[key] = self.build(value_node, key_path)
        return result

    def _error(self, path: Path, node: yaml.Node, message: str) -> None:
        line, column = _position(node.start_mark, self.first_line)
        self.errors.append(Problem(format_path(path), message, line, column))


def _scalar(node: yaml.ScalarNode) -> Any:
    """Read a scalar as Kestra does; explicit or unknown tags leave the text as it is."""
    text: str = node.value
    tag = node.tag.removeprefix(_TAG)
    if tag == "null":
        return None
    if tag == "bool":
        lowered = text.lower()
        return lowered == "true" if lowered in ("true", "false") else text
    if tag == "int":
        return _integer(text)
    if tag == "float":
        return _float(text)
    return text


def _integer(text: str) -> int | str:
    digits = text.replace("_", "")
    if ":" in digits:
        return text
    sign = -1 if digits.startswith("-") else 1
    digits = digits.lstrip("+-")
    bases = {"0b": 2, "0x": 16, "0o": 8}
    base = bases.get(digits[:2].lower(), 10)
    try:
        return sign * int(digits[2:] if base != 10 else digits, base)
    except ValueError:
        return text


def _float(text: str) -> float | str:
    lowered = text.replace("_", "").lower()
    if lowered in _INFINITY:
        return _INFINITY[lowered]
    if lowered == ".nan":
        return math.nan
    try:
        return float(lowered)
    except ValueError:
        # `1:30.5` is a YAML 1.1 sexagesimal number: Jackson keeps it as text.
        return text
