"""The syntax tree of a template: statements (text, tags) holding expressions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Expr:
    """Base of every expression; `line` is where it starts (1-based)."""

    line: int


@dataclass(slots=True)
class Literal(Expr):
    value: Any


@dataclass(slots=True)
class Name(Expr):
    name: str


@dataclass(slots=True)
class GetAttr(Expr):
    target: Expr
    key: Expr


@dataclass(slots=True)
class ListLiteral(Expr):
    items: list[Expr]


@dataclass(slots=True)
class MapLiteral(Expr):
    items: list[tuple[Expr, Expr]]


@dataclass(slots=True)
class Arguments:
    positional: list[Expr] = field(default_factory=list)
    named: list[tuple[str, Expr]] = field(default_factory=list)


@dataclass(slots=True)
class Call(Expr):
    name: str
    args: Arguments


@dataclass(slots=True)
class Filter(Expr):
    target: Expr
    name: str
    args: Arguments


@dataclass(slots=True)
class Test(Expr):
    target: Expr
    name: str
    args: Arguments
    negated: bool


@dataclass(slots=True)
class Binary(Expr):
    operator: str
    left: Expr
    right: Expr


@dataclass(slots=True)
class Unary(Expr):
    operator: str
    operand: Expr


@dataclass(slots=True)
class Ternary(Expr):
    condition: Expr
    when_true: Expr
    when_false: Expr


@dataclass(slots=True)
class Concat(Expr):
    """A double-quoted string with `#{…}` interpolations."""

    parts: list[Expr]


@dataclass(slots=True)
class Stmt:
    line: int


@dataclass(slots=True)
class Text(Stmt):
    text: str


@dataclass(slots=True)
class Print(Stmt):
    expr: Expr


@dataclass(slots=True)
class If(Stmt):
    branches: list[tuple[Expr, list[Stmt]]]
    otherwise: list[Stmt] | None


@dataclass(slots=True)
class For(Stmt):
    targets: list[str]
    iterable: Expr
    body: list[Stmt]
    otherwise: list[Stmt] | None


@dataclass(slots=True)
class Set(Stmt):
    name: str
    expr: Expr


@dataclass(slots=True)
class FilterBlock(Stmt):
    """`{% filter a | b(x) %}…{% endfilter %}`: the filters as (name, args), applied in order."""

    filters: list[tuple[str, Arguments]]
    body: list[Stmt]


@dataclass(slots=True)
class Macro(Stmt):
    name: str
    params: list[tuple[str, Expr | None]]
    body: list[Stmt]


@dataclass(slots=True)
class Block(Stmt):
    name: str
    body: list[Stmt]


@dataclass(slots=True)
class TemplateNode:
    body: list[Stmt]
    macros: dict[str, Macro]
    blocks: dict[str, Block]
