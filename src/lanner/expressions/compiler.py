"""Turn a template's syntax tree into Python source, then into functions via `compile()`.

The generated module defines `__root(rt, scope)` returning the text, `__typed(rt, scope)` for a
template that is a single `{{ expr }}`, one function per macro and per block. Template names
never become Python identifiers: render variables are read with `lookup(scope, 'name', line)`,
loop variables are numbered Python locals, and `{% set %}` variables live in a `loc` dict. The
code runs with empty `__builtins__`; the only globals are the helpers bound here.

Each generated line remembers the template line it came from, so an error raised anywhere below
a statement (a filter, a function) can be reported at the right line.
"""

from __future__ import annotations

import functools
import itertools
import keyword
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import CodeType
from typing import Any

from lanner.expressions import nodes as n
from lanner.expressions import runtime as rt
from lanner.expressions.filters import FILTERS, TESTS
from lanner.expressions.values import to_text

_BINARY = {
    "+": "_add",
    "-": "_subtract",
    "*": "_multiply",
    "/": "_divide",
    "%": "_modulo",
    "==": "_equals",
    "equals": "_equals",
    "!=": "_not_equals",
    "<": "_less",
    "<=": "_less_or_equal",
    ">": "_greater",
    ">=": "_greater_or_equal",
    "contains": "_contains",
    "..": "_range",
}
_LOOP_FIELDS = {"index", "revindex", "first", "last", "length"}
_counter = itertools.count()


@functools.cache
def helpers() -> dict[str, Any]:
    """The globals every compiled template sees (besides its own functions)."""
    names: dict[str, Any] = {
        "_lookup": rt.lookup,
        "_lookup_local": rt.lookup_local,
        "_attr": rt.attr,
        "_text": to_text,
        "_truth": rt.truth,
        "_entries": rt.entries,
        "_pairs": rt.pairs,
        "_defined": rt.defined,
        "_coalesce": rt.coalesce,
        "_coalesce_undefined": rt.coalesce_undefined,
        "_guard": rt.guard,
        "_negate": rt.negate,
        "_plus": rt.plus,
        "_concat_all": rt.concat_all,
        "_undefined": _raise_undefined,
        "_missing": _MISSING,
        "_len": len,
        "_enumerate": enumerate,
        "_join": "".join,
    }
    operations = {
        "_add": rt.add,
        "_subtract": rt.subtract,
        "_multiply": rt.multiply,
        "_divide": rt.divide,
        "_modulo": rt.modulo,
        "_equals": rt.equals,
        "_not_equals": rt.not_equals,
        "_less": rt.less,
        "_less_or_equal": rt.less_or_equal,
        "_greater": rt.greater,
        "_greater_or_equal": rt.greater_or_equal,
        "_contains": rt.contains,
        "_range": rt.value_range,
    }
    names.update(operations)
    names.update({f"_f_{name}": function for name, function in FILTERS.items()})
    names.update({f"_t_{name}": function for name, function in TESTS.items()})
    return names


_MISSING = object()


def _raise_undefined(name: str, line: int) -> Any:
    raise rt.Undefined(name, line)


@dataclass
class _Loop:
    """How a `loop` variable's fields read inside one `{% for %}`."""

    index: str
    length: str


@dataclass
class _Function:
    """The generated function being written: its `{% set %}` names and whether it is a macro."""

    set_names: set[str]
    is_macro: bool = False
    frames: list[dict[str, str | _Loop]] = field(default_factory=list)


@dataclass
class CompiledTemplate:
    """The functions compiled from one template."""

    root: Callable[[Any, Any], str]
    typed: Callable[[Any, Any], Any] | None
    macros: dict[str, Callable[..., str]]
    blocks: dict[str, Callable[..., str]]
    filename: str
    line_map: list[int]


class Compiler:
    """Write the Python module of one template."""

    def __init__(self, tree: n.TemplateNode) -> None:
        self.tree = tree
        self.lines: list[str] = []
        self.line_map: list[int] = []
        self.depth = 0
        self.writers = ["w"]
        self.ids = itertools.count()
        self.function = _Function(set())

    # -- output -------------------------------------------------------------------------------

    def emit(self, code: str, line: int) -> None:
        self.lines.append("    " * self.depth + code)
        self.line_map.append(line)

    def fresh(self, prefix: str) -> str:
        return f"_{prefix}{next(self.ids)}"

    @property
    def writer(self) -> str:
        return self.writers[-1]

    # -- module -------------------------------------------------------------------------------

    def compile(self) -> CompiledTemplate:
        macro_names = self.macro_functions()
        block_names = self.block_functions()
        self.root_function()
        typed = self.typed_function()
        filename = f"<lanner-template-{next(_counter)}>"
        code: CodeType = compile("\n".join(self.lines) + "\n", filename, "exec")
        namespace: dict[str, Any] = {"__builtins__": {}, **helpers()}
        exec(code, namespace)
        return CompiledTemplate(
            root=namespace["__root"],
            typed=namespace["__typed"] if typed else None,
            macros={name: namespace[fn] for name, fn in macro_names.items()},
            blocks={name: namespace[fn] for name, fn in block_names.items()},
            filename=filename,
            line_map=self.line_map,
        )

    def root_function(self) -> None:
        body = self.tree.body
        self.function = _Function(_set_names(body))
        self.emit("def __root(rt, scope):", 1)
        self.depth += 1
        if self.function.set_names or self.tree.blocks:
            self.emit("loc = {}", 1)
        else:
            self.emit("loc = None", 1)
        if all(isinstance(stmt, n.Text | n.Print) for stmt in body):
            self.flat_return(body)
        else:
            self.statements_returning(body)
        self.depth -= 1

    def flat_return(self, body: list[n.Stmt]) -> None:
        """A template without tags returns its parts joined, with no output list."""
        if not body:
            self.emit("return ''", 1)
        elif len(body) == 1:
            self.emit(f"return {self.text_part(body[0])}", body[0].line)
        else:
            # One generated line per part, so an error points at its own template line.
            self.emit("return _join((", body[0].line)
            for stmt in body:
                self.emit(f"    {self.text_part(stmt)},", stmt.line)
            self.emit("))", body[-1].line)

    def text_part(self, stmt: n.Stmt) -> str:
        if isinstance(stmt, n.Text):
            return repr(stmt.text)
        assert isinstance(stmt, n.Print)
        if isinstance(stmt.expr, n.Literal) and isinstance(stmt.expr.value, str):
            return repr(stmt.expr.value)
        return f"_text({self.expr(stmt.expr)})"

    def statements_returning(self, body: list[n.Stmt]) -> None:
        line = body[0].line if body else 1
        self.emit("_out = []", line)
        self.emit("w = _out.append", line)
        self.statements(body)
        self.emit("return _join(_out)", line)

    def typed_function(self) -> bool:
        single = _single_print(self.tree.body)
        if single is None:
            return False
        self.function = _Function(set())
        self.emit("def __typed(rt, scope):", single.line)
        self.depth += 1
        self.emit("loc = None", single.line)
        self.emit(f"return {self.expr(single.expr)}", single.line)
        self.depth -= 1
        return True

    def macro_functions(self) -> dict[str, str]:
        names: dict[str, str] = {}
        for macro in self.tree.macros.values():
            name = self.fresh("macro")
            names[macro.name] = name
            self.macro_function(name, macro)
        return names

    def macro_function(self, name: str, macro: n.Macro) -> None:
        self.function = _Function(_set_names(macro.body), is_macro=True)
        self.emit(f"def {name}(rt, args, kwargs):", macro.line)
        self.depth += 1
        self.emit("loc = {}", macro.line)
        self.emit("scope = {}", macro.line)
        frame: dict[str, str | _Loop] = {}
        for position, (param, default) in enumerate(macro.params):
            local = self.fresh("param")
            self.emit(
                f"{local} = args[{position}] if _len(args) > {position} "
                f"else kwargs.get({param!r}, _missing)",
                macro.line,
            )
            fallback = self.expr(default) if default is not None else "None"
            self.emit(f"if {local} is _missing: {local} = {fallback}", macro.line)
            frame[param] = local
        self.function.frames.append(frame)
        self.statements_returning(macro.body)
        self.depth -= 1

    def block_functions(self) -> dict[str, str]:
        names: dict[str, str] = {}
        all_sets = _set_names(self.tree.body)
        for block in self.tree.blocks.values():
            name = self.fresh("block")
            names[block.name] = name
            self.function = _Function(all_sets)
            self.emit(f"def {name}(rt, scope, loc):", block.line)
            self.depth += 1
            self.statements_returning(block.body)
            self.depth -= 1
        return names

    # -- statements ---------------------------------------------------------------------------

    def statements(self, body: list[n.Stmt]) -> None:
        if not body:
            self.emit("pass", 1)
        for stmt in body:
            self.statement(stmt)

    def statement(self, stmt: n.Stmt) -> None:
        if isinstance(stmt, n.Text | n.Print):
            self.emit(f"{self.writer}({self.text_part(stmt)})", stmt.line)
        elif isinstance(stmt, n.If):
            self.if_statement(stmt)
        elif isinstance(stmt, n.For):
            self.for_statement(stmt)
        elif isinstance(stmt, n.Set):
            self.emit(f"loc[{stmt.name!r}] = {self.expr(stmt.expr)}", stmt.line)
        elif isinstance(stmt, n.FilterBlock):
            self.filter_block(stmt)
        elif isinstance(stmt, n.Block):
            function = f"rt.blocks[{stmt.name!r}]"
            self.emit(f"{self.writer}({function}(rt, scope, loc))", stmt.line)
        # A macro definition writes nothing where it stands.

    def if_statement(self, stmt: n.If) -> None:
        for position, (condition, body) in enumerate(stmt.branches):
            keyword_ = "if" if position == 0 else "elif"
            self.emit(f"{keyword_} _truth({self.expr(condition)}):", condition.line)
            self.indented(body)
        if stmt.otherwise is not None:
            self.emit("else:", stmt.line)
            self.indented(stmt.otherwise)

    def indented(self, body: list[n.Stmt]) -> None:
        self.depth += 1
        self.statements(body)
        self.depth -= 1

    def for_statement(self, stmt: n.For) -> None:
        items, index, length = self.fresh("items"), self.fresh("i"), self.fresh("n")
        walk = "_pairs" if len(stmt.targets) == 2 else "_entries"
        self.emit(f"{items} = {walk}({self.expr(stmt.iterable)})", stmt.line)
        self.emit(f"if {items}:", stmt.line)
        self.depth += 1
        self.emit(f"rt.count_iterations(_len({items}))", stmt.line)
        uses_loop = _mentions_loop(stmt.body)
        frame: dict[str, str | _Loop] = {name: self.fresh("v") for name in stmt.targets}
        targets = ", ".join(str(frame[name]) for name in stmt.targets)
        targets = f"({targets})" if len(stmt.targets) == 2 else targets
        if uses_loop:
            frame["loop"] = _Loop(index, length)
            self.emit(f"{length} = _len({items})", stmt.line)
            self.emit(f"for {index}, {targets} in _enumerate({items}):", stmt.line)
        else:
            self.emit(f"for {targets} in {items}:", stmt.line)
        self.function.frames.append(frame)
        self.indented(stmt.body)
        self.function.frames.pop()
        self.depth -= 1
        if stmt.otherwise is not None:
            self.emit("else:", stmt.line)
            self.indented(stmt.otherwise)

    def filter_block(self, stmt: n.FilterBlock) -> None:
        out, writer = self.fresh("out"), self.fresh("w")
        self.emit(f"{out} = []", stmt.line)
        self.emit(f"{writer} = {out}.append", stmt.line)
        self.writers.append(writer)
        self.statements(stmt.body)
        self.writers.pop()
        value = f"_join({out})"
        for name, args in stmt.filters:
            value = self.filter_call(name, value, args)
        self.emit(f"{self.writer}(_text({value}))", stmt.line)

    # -- expressions --------------------------------------------------------------------------

    def expr(self, node: n.Expr) -> str:
        method: Callable[[Any], str] = getattr(self, f"expr_{type(node).__name__}")
        return method(node)

    def expr_Literal(self, node: n.Literal) -> str:
        return repr(node.value)

    def expr_Name(self, node: n.Name) -> str:
        for frame in reversed(self.function.frames):
            if node.name in frame:
                found = frame[node.name]
                return self.loop_map(found) if isinstance(found, _Loop) else found
        if node.name in self.function.set_names:
            scope = "None" if self.function.is_macro else "scope"
            return f"_lookup_local(loc, {scope}, {node.name!r}, {node.line})"
        if self.function.is_macro:
            return f"_undefined({node.name!r}, {node.line})"
        return f"_lookup(scope, {node.name!r}, {node.line})"

    def loop_map(self, loop: _Loop) -> str:
        fields = ", ".join(
            f"{name!r}: {self.loop_field(loop, name)}" for name in sorted(_LOOP_FIELDS)
        )
        return "{" + fields + "}"

    def loop_field(self, loop: _Loop, name: str) -> str:
        i, size = loop.index, loop.length
        return {
            "index": i,
            "revindex": f"({size} - {i} - 1)",
            "first": f"({i} == 0)",
            "last": f"({i} == {size} - 1)",
            "length": size,
        }[name]

    def expr_GetAttr(self, node: n.GetAttr) -> str:
        target, key = node.target, node.key
        if isinstance(target, n.Name) and isinstance(key, n.Literal) and key.value in _LOOP_FIELDS:
            loop = self.loop_variable(target.name)
            if loop is not None:
                return self.loop_field(loop, key.value)
        return f"_attr({self.expr(target)}, {self.expr(key)}, {node.line})"

    def loop_variable(self, name: str) -> _Loop | None:
        for frame in reversed(self.function.frames):
            if name in frame:
                found = frame[name]
                return found if isinstance(found, _Loop) else None
        return None

    def expr_ListLiteral(self, node: n.ListLiteral) -> str:
        return "[" + ", ".join(self.expr(item) for item in node.items) + "]"

    def expr_MapLiteral(self, node: n.MapLiteral) -> str:
        items = ", ".join(f"{self.expr(k)}: {self.expr(v)}" for k, v in node.items)
        return "{" + items + "}"

    def expr_Concat(self, node: n.Concat) -> str:
        return "_concat_all(" + ", ".join(self.expr(part) for part in node.parts) + ")"

    def expr_Unary(self, node: n.Unary) -> str:
        operand = self.expr(node.operand)
        if node.operator == "not":
            return f"(not _truth({operand}))"
        return f"{'_negate' if node.operator == '-' else '_plus'}({operand})"

    def expr_Binary(self, node: n.Binary) -> str:
        if node.operator == "~":
            # A long `a ~ b ~ c …` chain becomes one flat call instead of deeply nested ones.
            parts: list[n.Expr] = [node.right]
            left_most: n.Expr = node.left
            while isinstance(left_most, n.Binary) and left_most.operator == "~":
                parts.append(left_most.right)
                left_most = left_most.left
            parts.append(left_most)
            return "_concat_all(" + ", ".join(self.expr(p) for p in reversed(parts)) + ")"
        left, right = self.expr(node.left), self.expr(node.right)
        if node.operator in ("and", "or"):
            return f"(_truth({left}) {node.operator} _truth({right}))"
        if node.operator == "??":
            return f"_coalesce(lambda: {left}, lambda: {right})"
        if node.operator == "???":
            return f"_coalesce_undefined(lambda: {left}, lambda: {right})"
        return f"{_BINARY[node.operator]}({left}, {right})"

    def expr_Ternary(self, node: n.Ternary) -> str:
        condition = self.expr(node.condition)
        when_true, when_false = self.expr(node.when_true), self.expr(node.when_false)
        return f"({when_true} if _truth({condition}) else {when_false})"

    def expr_Test(self, node: n.Test) -> str:
        target = self.expr(node.target)
        if node.name == "defined":
            value = f"_defined(lambda: {target})"
        else:
            value = f"_t_{node.name}({self.arguments([target], node.args)})"
        return f"(not {value})" if node.negated else value

    def expr_Filter(self, node: n.Filter) -> str:
        target = self.expr(node.target)
        if node.name == "default":
            target = f"_guard(lambda: {target})"
        return self.filter_call(node.name, target, node.args)

    def filter_call(self, name: str, value: str, args: n.Arguments) -> str:
        return f"_f_{name}({self.arguments([value], args)})"

    def expr_Call(self, node: n.Call) -> str:
        positional = [self.expr(arg) for arg in node.args.positional]
        named = ", ".join(f"{k!r}: {self.expr(v)}" for k, v in node.args.named)
        values = f"({', '.join(positional)}{',' if positional else ''})"
        if node.name == "block" and not self.function.is_macro:
            return f"rt.block({values}, scope, loc, {node.line})"
        return f"rt.call({node.name!r}, {node.line}, {values}, {{{named}}})"

    def arguments(self, leading: list[str], args: n.Arguments) -> str:
        parts = leading + [self.expr(arg) for arg in args.positional]
        simple = all(k.isidentifier() and not keyword.iskeyword(k) for k, _ in args.named)
        if simple:
            parts += [f"{k}={self.expr(v)}" for k, v in args.named]
        elif args.named:
            named = ", ".join(f"{k!r}: {self.expr(v)}" for k, v in args.named)
            parts.append(f"**{{{named}}}")
        return ", ".join(parts)


def _walk(body: list[n.Stmt]) -> Iterator[n.Stmt]:
    for stmt in body:
        yield stmt
        if isinstance(stmt, n.If):
            for _, branch in stmt.branches:
                yield from _walk(branch)
            yield from _walk(stmt.otherwise or [])
        elif isinstance(stmt, n.For):
            yield from _walk(stmt.body)
            yield from _walk(stmt.otherwise or [])
        elif isinstance(stmt, n.FilterBlock | n.Block):
            yield from _walk(stmt.body)


def _set_names(body: list[n.Stmt]) -> set[str]:
    return {stmt.name for stmt in _walk(body) if isinstance(stmt, n.Set)}


def _children(node: object) -> Iterator[object]:
    for item in getattr(node, "__dataclass_fields__", {}):
        value = getattr(node, item)
        values = value if isinstance(value, list | tuple) else [value]
        for child in values:
            if isinstance(child, tuple):
                yield from child
            else:
                yield child


def _mentions_loop(body: list[n.Stmt]) -> bool:
    """Whether a `for` body reads `loop` (then it gets index and length bookkeeping)."""
    pending: list[object] = list(body)
    while pending:
        node = pending.pop()
        if isinstance(node, n.Name) and node.name == "loop":
            return True
        pending.extend(_children(node))
    return False


def _single_print(body: list[n.Stmt]) -> n.Print | None:
    """The only `{{ }}` of a template made of it and surrounding whitespace, if it is one."""
    prints = [stmt for stmt in body if not (isinstance(stmt, n.Text) and not stmt.text.strip())]
    if len(prints) == 1 and isinstance(prints[0], n.Print):
        return prints[0]
    return None


def compile_tree(tree: n.TemplateNode) -> CompiledTemplate:
    """Compile a parsed template to Python functions."""
    return Compiler(tree).compile()
