"""Build the syntax tree from tokens with Pebble's precedence-climbing algorithm.

Binary operators and their precedence (higher binds tighter) are Pebble's and Kestra's own;
unary `not`, `-` and `+` bind tightest; the ternary `c ? a : b` is looser than everything and is
only parsed at the top of an expression (or inside parentheses, arguments, list/map items).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection, Iterable
from typing import TypeVar

from lanner.expressions import nodes as n
from lanner.expressions.lexer import Kind, Source, Token

BINARY_PRECEDENCE = {
    "or": 10,
    "and": 15,
    "is": 20,
    "is not": 20,
    "contains": 20,
    "==": 30,
    "equals": 30,
    "!=": 30,
    "<": 30,
    ">": 30,
    "<=": 30,
    ">=": 30,
    "+": 40,
    "-": 40,
    "*": 60,
    "/": 60,
    "%": 60,
    "|": 100,
    "~": 110,
    "..": 120,
    "??": 120,
    "???": 120,
}
UNARY_PRECEDENCE = {"not": 500, "-": 500, "+": 500}
_CONSTANTS = {
    "true": True,
    "TRUE": True,
    "false": False,
    "FALSE": False,
    "null": None,
    "NULL": None,
    "none": None,
    "NONE": None,
}
_BLOCK_TAGS = {"if", "for", "set", "filter", "macro", "block"}
_T = TypeVar("_T")


class Parser:
    """Parse one template; `filters` and `tests` are the names that exist."""

    def __init__(
        self,
        source: Source,
        tokens: list[Token],
        filters: Collection[str],
        tests: Collection[str],
    ) -> None:
        self.source = source
        self.tokens = tokens
        self.index = 0
        self.filters = filters
        self.tests = tests
        self.macros: dict[str, n.Macro] = {}
        self.blocks: dict[str, n.Block] = {}

    # -- token stream -------------------------------------------------------------------------

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def peek(self, offset: int = 1) -> Token:
        return self.tokens[min(self.index + offset, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def at(self, kind: Kind, value: str | None = None) -> bool:
        token = self.current
        return token.kind is kind and (value is None or token.value == value)

    def expect(self, kind: Kind, value: str | None = None) -> Token:
        if not self.at(kind, value):
            raise self.unexpected()
        return self.advance()

    def unexpected(self, token: Token | None = None) -> Exception:
        token = token or self.current
        shown = token.value if token.kind is not Kind.EOF else "end of template"
        return self.source.syntax_error(f'Unexpected token "{shown}"', token.pos)

    def line(self, token: Token) -> int:
        return self.source.line_of(token.pos)

    # -- statements ---------------------------------------------------------------------------

    def parse_template(self) -> n.TemplateNode:
        body, _ = self.body(frozenset())
        return n.TemplateNode(body, self.macros, self.blocks)

    def body(self, stop: frozenset[str]) -> tuple[list[n.Stmt], str]:
        """Parse statements up to a tag named in `stop`; return them and that tag's name."""
        statements: list[n.Stmt] = []
        while True:
            token = self.current
            if token.kind in (Kind.TEXT, Kind.RAW):
                statements.append(n.Text(self.line(token), self.advance().value))
            elif token.kind is Kind.PRINT_START:
                self.advance()
                expr = self.expression()
                self.expect(Kind.PRINT_END)
                statements.append(n.Print(self.line(token), expr))
            elif token.kind is Kind.TAG_START:
                name = self.peek()
                if name.kind is Kind.NAME and name.value in stop:
                    self.index += 2
                    return statements, name.value
                statements.append(self.tag())
            elif stop:
                expected = " or ".join(f'"{tag}"' for tag in sorted(stop))
                raise self.source.syntax_error(f"Expected {expected}, reached the end", token.pos)
            else:
                return statements, ""

    def tag(self) -> n.Stmt:
        start = self.advance()
        name = self.current
        if name.kind is not Kind.NAME:
            raise self.unexpected()
        if name.value not in _BLOCK_TAGS:
            raise self.source.syntax_error(f'Unknown tag "{name.value}"', name.pos)
        self.advance()
        line = self.line(start)
        parse = {
            "if": self.if_tag,
            "for": self.for_tag,
            "set": self.set_tag,
            "filter": self.filter_tag,
            "macro": self.macro_tag,
            "block": self.block_tag,
        }[name.value]
        return parse(line)

    def end_tag(self) -> None:
        self.expect(Kind.TAG_END)

    def if_tag(self, line: int) -> n.Stmt:
        branches: list[tuple[n.Expr, list[n.Stmt]]] = []
        end = "elseif"
        while end == "elseif":
            condition = self.expression()
            self.end_tag()
            body, end = self.body(frozenset({"elseif", "else", "endif"}))
            branches.append((condition, body))
        otherwise = None
        if end == "else":
            self.end_tag()
            otherwise, _ = self.body(frozenset({"endif"}))
        self.end_tag()
        return n.If(line, branches, otherwise)

    def for_tag(self, line: int) -> n.Stmt:
        targets = [self.variable_name()]
        if self.at(Kind.PUNCT, ","):
            self.advance()
            targets.append(self.variable_name())
        self.expect(Kind.NAME, "in")
        iterable = self.expression()
        self.end_tag()
        body, end = self.body(frozenset({"else", "endfor"}))
        otherwise = None
        if end == "else":
            self.end_tag()
            otherwise, _ = self.body(frozenset({"endfor"}))
        self.end_tag()
        return n.For(line, targets, iterable, body, otherwise)

    def set_tag(self, line: int) -> n.Stmt:
        name = self.variable_name()
        self.expect(Kind.PUNCT, "=")
        expr = self.expression()
        self.end_tag()
        return n.Set(line, name, expr)

    def filter_tag(self, line: int) -> n.Stmt:
        chain = [self.filter_invocation()]
        while self.at(Kind.OPERATOR, "|"):
            self.advance()
            chain.append(self.filter_invocation())
        self.end_tag()
        body, _ = self.body(frozenset({"endfilter"}))
        self.end_tag()
        return n.FilterBlock(line, chain, body)

    def macro_tag(self, line: int) -> n.Stmt:
        name = self.variable_name()
        self.expect(Kind.PUNCT, "(")
        params: list[tuple[str, n.Expr | None]] = []
        while not self.at(Kind.PUNCT, ")"):
            if params:
                self.expect(Kind.PUNCT, ",")
            param = self.variable_name()
            default = None
            if self.at(Kind.PUNCT, "="):
                self.advance()
                default = self.expression()
            params.append((param, default))
        self.advance()
        self.end_tag()
        body, _ = self.body(frozenset({"endmacro"}))
        if self.at(Kind.NAME):
            self.advance()
        self.end_tag()
        macro = n.Macro(line, name, params, body)
        self.macros[name] = macro
        return macro

    def block_tag(self, line: int) -> n.Stmt:
        token = self.current
        if token.kind not in (Kind.NAME, Kind.STRING):
            raise self.unexpected()
        self.advance()
        self.end_tag()
        body, _ = self.body(frozenset({"endblock"}))
        if self.current.kind in (Kind.NAME, Kind.STRING):
            self.advance()
        self.end_tag()
        block = n.Block(line, token.value, body)
        self.blocks[token.value] = block
        return block

    def variable_name(self) -> str:
        token = self.expect(Kind.NAME)
        if token.value in _CONSTANTS:
            raise self.source.syntax_error(f"Can not assign a value to {token.value}", token.pos)
        return token.value

    # -- expressions --------------------------------------------------------------------------

    def expression(self, min_precedence: int = 0) -> n.Expr:
        token = self.current
        line = self.line(token)
        expr: n.Expr
        if token.kind is Kind.OPERATOR and token.value in UNARY_PRECEDENCE:
            self.advance()
            operand = self.expression(UNARY_PRECEDENCE[token.value])
            expr = n.Unary(line, token.value, operand)
        else:
            expr = self.postfix(self.primary())
        while True:
            token = self.current
            precedence = BINARY_PRECEDENCE.get(token.value, -1)
            if token.kind is not Kind.OPERATOR or precedence < min_precedence:
                break
            self.advance()
            expr = self.binary(expr, token)
        if min_precedence == 0 and self.at(Kind.PUNCT, "?"):
            self.advance()
            when_true = self.expression()
            self.expect(Kind.PUNCT, ":")
            expr = n.Ternary(line, expr, when_true, self.expression())
        return expr

    def binary(self, left: n.Expr, operator: Token) -> n.Expr:
        line = left.line
        if operator.value == "|":
            name, args = self.filter_invocation()
            return n.Filter(line, left, name, args)
        if operator.value in ("is", "is not"):
            name_token = self.expect(Kind.NAME)
            if name_token.value not in self.tests:
                unknown = (
                    f"Unknown test '{name_token.value}'{closest(name_token.value, self.tests)}"
                )
                raise self.source.syntax_error(unknown, name_token.pos)
            args = self.arguments() if self.at(Kind.PUNCT, "(") else n.Arguments()
            return n.Test(line, left, name_token.value, args, operator.value == "is not")
        right = self.expression(BINARY_PRECEDENCE[operator.value] + 1)
        return n.Binary(line, operator.value, left, right)

    def filter_invocation(self) -> tuple[str, n.Arguments]:
        token = self.expect(Kind.NAME)
        if token.value not in self.filters:
            unknown = f"Unknown filter '{token.value}'{closest(token.value, self.filters)}"
            raise self.source.syntax_error(unknown, token.pos)
        args = self.arguments() if self.at(Kind.PUNCT, "(") else n.Arguments()
        return token.value, args

    def primary(self) -> n.Expr:
        token = self.current
        line = self.line(token)
        kind = token.kind
        if kind is Kind.PUNCT and token.value in "([{":
            return self.bracketed(token)
        if kind is Kind.NAME:
            self.advance()
            if token.value in _CONSTANTS:
                return n.Literal(line, _CONSTANTS[token.value])
            if self.at(Kind.PUNCT, "("):
                return n.Call(line, token.value, self.arguments())
            return n.Name(line, token.value)
        if kind is Kind.INT:
            self.advance()
            return n.Literal(line, int(token.value))
        if kind is Kind.FLOAT:
            self.advance()
            return n.Literal(line, float(token.value))
        if kind is Kind.STRING:
            self.advance()
            return n.Literal(line, token.value)
        if kind is Kind.ISTRING_START:
            return self.interpolated_string()
        raise self.unexpected()

    def bracketed(self, token: Token) -> n.Expr:
        line = self.line(token)
        self.advance()
        if token.value == "(":
            expr = self.expression()
            self.expect(Kind.PUNCT, ")")
            return expr
        if token.value == "[":
            items = self.sequence("]", self.expression)
            return n.ListLiteral(line, items)
        return n.MapLiteral(line, self.sequence("}", self.map_entry))

    def map_entry(self) -> tuple[n.Expr, n.Expr]:
        key = self.expression()
        self.expect(Kind.PUNCT, ":")
        return key, self.expression()

    def sequence(self, closer: str, item: Callable[[], _T]) -> list[_T]:
        items: list[_T] = []
        while not self.at(Kind.PUNCT, closer):
            if items:
                self.expect(Kind.PUNCT, ",")
            items.append(item())
        self.advance()
        return items

    def interpolated_string(self) -> n.Expr:
        line = self.line(self.advance())
        parts: list[n.Expr] = []
        while not self.at(Kind.ISTRING_END):
            token = self.advance()
            if token.kind is Kind.STRING:
                parts.append(n.Literal(self.line(token), token.value))
            else:
                parts.append(self.expression())
                self.expect(Kind.INTERP_END)
        self.advance()
        return n.Concat(line, parts)

    def postfix(self, expr: n.Expr) -> n.Expr:
        while self.current.kind is Kind.PUNCT:
            token = self.current
            if token.value == ".":
                self.advance()
                name = self.current
                word_operator = name.kind is Kind.OPERATOR and name.value.isalpha()
                if name.kind is not Kind.NAME and not word_operator:
                    raise self.unexpected()
                self.advance()
                if self.at(Kind.PUNCT, "("):
                    raise self.source.syntax_error(
                        f"Method calls are not supported (`.{name.value}(…)`)", name.pos
                    )
                expr = n.GetAttr(expr.line, expr, n.Literal(self.line(name), name.value))
            elif token.value == "[":
                self.advance()
                key = self.expression()
                self.expect(Kind.PUNCT, "]")
                expr = n.GetAttr(expr.line, expr, key)
            else:
                break
        return expr

    def arguments(self) -> n.Arguments:
        self.expect(Kind.PUNCT, "(")
        args = n.Arguments()
        while not self.at(Kind.PUNCT, ")"):
            if args.positional or args.named:
                self.expect(Kind.PUNCT, ",")
            if self.at(Kind.NAME) and self.peek().kind is Kind.PUNCT and self.peek().value == "=":
                name = self.variable_name()
                self.advance()
                args.named.append((name, self.expression()))
            elif args.named:
                raise self.source.syntax_error(
                    "Positional arguments must come before named arguments", self.current.pos
                )
            else:
                args.positional.append(self.expression())
        self.advance()
        return args


def closest(name: str, known: Iterable[str]) -> str:
    """Return ` (did you mean 'x'?)` for the known name closest to `name`, or an empty string."""
    matches = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean '{matches[0]}'?)" if matches else ""
