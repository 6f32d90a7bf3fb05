"""Split a template into tokens, the way Pebble's lexer does.

Text outside delimiters becomes TEXT tokens; `{{ … }}` and `{% … %}` become a START token, the
expression tokens inside, and an END token; comments vanish. Whitespace control (`{{-`, `-}}`,
`{%-`, `-%}`, `{#-`, `-#}`) is applied here, so the parser never sees it. A `{% raw %}` block is
kept as one TEXT token holding the whole block, tags included: the renderer strips the tags only
once the final text is known, so raw content survives every rendering pass (Kestra's behaviour).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from enum import Enum

from lanner.exceptions import ExpressionSyntaxError


class Kind(Enum):
    TEXT = "text"
    RAW = "raw"
    PRINT_START = "{{"
    PRINT_END = "}}"
    TAG_START = "{%"
    TAG_END = "%}"
    NAME = "name"
    INT = "integer"
    FLOAT = "number"
    STRING = "string"
    OPERATOR = "operator"
    PUNCT = "punctuation"
    ISTRING_START = "interpolated string"
    ISTRING_END = "end of string"
    INTERP_START = "#{"
    INTERP_END = "}"
    EOF = "end of template"


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    value: str
    pos: int


# Longest first, so `???` wins over `??` and `is not` over `is`.
_OPERATORS = re.compile(
    r"\?\?\?|\?\?|is\s+not(?![\w])|\.\.|==|!=|<=|>=|<|>|\+|-|\*|/|%|~|\|"
    r"|(?:or|and|is|not|contains|equals)(?![\w])"
)
_NAME = re.compile(r"[^\W\d]\w*")
_NUMBER = re.compile(r"(\d+)(L)?(\.\d+)?")
_PUNCTUATION = "()[]{}?:.,="
_CLOSERS = {"(": ")", "[": "]", "{": "}"}
_START = re.compile(r"\{\{|\{%|\{#")
_RAW = re.compile(r"\{%-*\s*raw\s*-*%\}.*?\{%-*\s*endraw\s*-*%\}", re.DOTALL)
_LEADING_TRIM = re.compile(r"-\s")
_SPACE = re.compile(r"\s*")


class Source:
    """A template's text with line:column lookups and caret-pointing error messages."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._line_starts = [0] + [m.end() for m in re.finditer(r"\n", text)]

    def line_of(self, pos: int) -> int:
        return bisect.bisect_right(self._line_starts, pos)

    def column_of(self, pos: int) -> int:
        return pos - self._line_starts[self.line_of(pos) - 1] + 1

    def syntax_error(self, message: str, pos: int) -> ExpressionSyntaxError:
        """Build an error naming the template, line:column, with a caret under the column."""
        pos = min(max(pos, 0), len(self.text))
        line, column = self.line_of(pos), self.column_of(pos)
        start = self._line_starts[line - 1]
        end = self.text.find("\n", start)
        excerpt = self.text[start : end if end >= 0 else len(self.text)].rstrip("\r")
        caret = " " * (column - 1) + "^"
        return ExpressionSyntaxError(
            f"{message} in `{self.text}` at line {line}, column {column}\n{excerpt}\n{caret}"
        )


class Lexer:
    """Turn a template into a flat token list ending with EOF."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.text = source.text
        self.pos = 0
        self.tokens: list[Token] = []
        self.trim_next_text = False

    def tokenize(self) -> list[Token]:
        while self.pos < len(self.text):
            self._data()
        self.tokens.append(Token(Kind.EOF, "", len(self.text)))
        return self.tokens

    def _data(self) -> None:
        match = _START.search(self.text, self.pos)
        end = match.start() if match else len(self.text)
        text = self.text[self.pos : end]
        if self.trim_next_text:
            text = text.lstrip()
            self.trim_next_text = False
        if match is None:
            self._push_text(text, self.pos)
            self.pos = end
            return
        raw = _RAW.match(self.text, end) if match.group() == "{%" else None
        after = match.end()
        if raw is None and _LEADING_TRIM.match(self.text, after):
            text = text.rstrip()
            after += 1
        self._push_text(text, self.pos)
        if raw is not None:
            self.tokens.append(Token(Kind.RAW, raw.group(), raw.start()))
            self.pos = raw.end()
        elif match.group() == "{#":
            self._comment(after)
        else:
            self._tag(match.group(), match.start(), after)

    def _push_text(self, text: str, pos: int) -> None:
        if text:
            self.tokens.append(Token(Kind.TEXT, text, pos))

    def _comment(self, after: int) -> None:
        close = self.text.find("#}", after)
        if close < 0:
            raise self.source.syntax_error("Unclosed comment", after - 2)
        if self.text[close - 1 : close] == "-":
            self.trim_next_text = True
        self.pos = close + 2

    def _tag(self, opener: str, start: int, after: int) -> None:
        is_print = opener == "{{"
        closer = "}}" if is_print else "%}"
        self.tokens.append(Token(Kind.PRINT_START if is_print else Kind.TAG_START, opener, start))
        self.pos = after
        brackets: list[tuple[str, int]] = []
        while True:
            self.pos = _SPACE.match(self.text, self.pos).end()  # type: ignore[union-attr]
            if self.pos >= len(self.text):
                raise self.source.syntax_error(f'Unclosed "{opener}"', start)
            if not brackets and self._close(closer, is_print):
                return
            self._expression_token(brackets)

    def _close(self, closer: str, is_print: bool) -> bool:
        text, pos = self.text, self.pos
        trimmed = text.startswith("-" + closer, pos)
        if not trimmed and not text.startswith(closer, pos):
            return False
        kind = Kind.PRINT_END if is_print else Kind.TAG_END
        self.tokens.append(Token(kind, closer, pos))
        self.pos = pos + len(closer) + (1 if trimmed else 0)
        self.trim_next_text = trimmed
        return True

    def _expression_token(self, brackets: list[tuple[str, int]]) -> None:
        text, pos = self.text, self.pos
        char = text[pos]
        if char in "'\"":
            self._string(char)
            return
        operator = _OPERATORS.match(text, pos)
        if operator:
            self._operator(operator)
            return
        if char in _PUNCTUATION:
            self._punctuation(char, brackets)
            return
        for pattern, handler in (
            (_NAME, self._name),
            (_NUMBER, self._number),
        ):
            match = pattern.match(text, pos)
            if match:
                handler(match)
                return
        raise self.source.syntax_error(f'Unexpected character "{char}"', pos)

    def _operator(self, match: re.Match[str]) -> None:
        value = re.sub(r"\s+", " ", match.group())
        self.tokens.append(Token(Kind.OPERATOR, value, match.start()))
        self.pos = match.end()

    def _name(self, match: re.Match[str]) -> None:
        self.tokens.append(Token(Kind.NAME, match.group(), match.start()))
        self.pos = match.end()

    def _number(self, match: re.Match[str]) -> None:
        digits, long_suffix, fraction = match.groups()
        if long_suffix or not fraction:
            self.tokens.append(Token(Kind.INT, digits, match.start()))
            self.pos = match.end(2) if long_suffix else match.end(1)
        else:
            self.tokens.append(Token(Kind.FLOAT, digits + fraction, match.start()))
            self.pos = match.end()

    def _punctuation(self, char: str, brackets: list[tuple[str, int]]) -> None:
        pos = self.pos
        if char in _CLOSERS:
            brackets.append((char, pos))
        elif char in ")]}":
            if not brackets:
                raise self.source.syntax_error(f'Unexpected "{char}"', pos)
            opener, opened_at = brackets.pop()
            if _CLOSERS[opener] != char:
                raise self.source.syntax_error(f'Unclosed "{opener}"', opened_at)
        self.tokens.append(Token(Kind.PUNCT, char, pos))
        self.pos = pos + 1

    def _string(self, quote: str) -> None:
        start = self.pos
        pos = start + 1
        chunk: list[str] = []
        chunk_start = pos
        interpolated = False
        while True:
            if pos >= len(self.text):
                raise self.source.syntax_error(f'Unclosed "{quote}"', start)
            char = self.text[pos]
            if char == "\\" and pos + 1 < len(self.text):
                following = self.text[pos + 1]
                chunk.append(following if following in (quote, "\\") else char + following)
                pos += 2
            elif char == quote:
                break
            elif quote == '"' and self.text.startswith("#{", pos):
                if not interpolated:
                    self.tokens.append(Token(Kind.ISTRING_START, '"', start))
                    interpolated = True
                if chunk:
                    self.tokens.append(Token(Kind.STRING, "".join(chunk), chunk_start))
                    chunk = []
                pos = self._interpolation(pos)
                chunk_start = pos
            else:
                chunk.append(char)
                pos += 1
        if not interpolated:
            self.tokens.append(Token(Kind.STRING, "".join(chunk), start))
        else:
            if chunk:
                self.tokens.append(Token(Kind.STRING, "".join(chunk), chunk_start))
            self.tokens.append(Token(Kind.ISTRING_END, '"', pos))
        self.pos = pos + 1

    def _interpolation(self, pos: int) -> int:
        self.tokens.append(Token(Kind.INTERP_START, "#{", pos))
        self.pos = pos + 2
        brackets: list[tuple[str, int]] = []
        while True:
            self.pos = _SPACE.match(self.text, self.pos).end()  # type: ignore[union-attr]
            if self.pos >= len(self.text):
                raise self.source.syntax_error('Unclosed "#{"', pos)
            if not brackets and self.text[self.pos] == "}":
                self.tokens.append(Token(Kind.INTERP_END, "}", self.pos))
                return self.pos + 1
            self._expression_token(brackets)


def tokenize(source: Source) -> list[Token]:
    """Return the tokens of `source`, ending with an EOF token."""
    return Lexer(source).tokenize()
