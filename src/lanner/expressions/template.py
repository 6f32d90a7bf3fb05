"""Compiled templates, the per-render call context, and the module-level render helpers."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

from lanner.exceptions import ExpressionError, ExpressionSyntaxError, UndefinedVariableError
from lanner.expressions.compiler import CompiledTemplate, compile_tree
from lanner.expressions.filters import FILTERS, TESTS
from lanner.expressions.functions import BUILTIN_FUNCTIONS
from lanner.expressions.lexer import Source, tokenize
from lanner.expressions.parser import Parser, closest
from lanner.expressions.runtime import (
    MAX_LOOP_ITERATIONS,
    MAX_TEMPLATE_LENGTH,
    RenderFailure,
    Undefined,
)

Function = Callable[..., Any]
"""An extra function: called as `function(call: CallContext, *args, **kwargs)`."""

_RAW_BLOCK = re.compile(r"\{%-*\s*raw\s*-*%\}(.*?)\{%-*\s*endraw\s*-*%\}", re.DOTALL)


class CallContext:
    """What a function sees of the render that calls it.

    `variables` are the render variables (not `{% set %}` or loop variables), `functions` the
    extra functions of this render, `template_source` the calling template's text, and
    `render(source)` renders another template once with the same variables and functions.
    """

    __slots__ = ("_iterations", "_template", "functions", "template_source", "variables")

    def __init__(
        self,
        template: Template,
        variables: Mapping[str, Any],
        functions: Mapping[str, Function] | None,
    ) -> None:
        self._template = template
        self.variables = variables
        self.functions = functions
        self.template_source = template.source
        self._iterations = 0

    def render(self, source: str) -> str:
        """Render `source` once with this render's variables and functions.

        `{% raw %}` blocks are returned with their tags; they are removed when the outermost
        template has finished, so raw content survives any number of passes.
        """
        if "{" not in source:
            return source
        return compile_template(source).render_pass(self.variables, self.functions)

    def count_iterations(self, count: int) -> None:
        """Account for a `{% for %}` about to run `count` times; refuse runaway renders."""
        self._iterations += count
        if self._iterations > MAX_LOOP_ITERATIONS:
            raise RenderFailure(
                f"The loops of this render run more than {MAX_LOOP_ITERATIONS} iterations"
            )

    @property
    def blocks(self) -> dict[str, Callable[..., str]]:
        return self._template.compiled.blocks

    def call(self, name: str, line: int, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Call a function (extra ones first, then built-ins) or a macro of the template."""
        functions = self.functions
        function = functions.get(name) if functions else None
        if function is None:
            function = BUILTIN_FUNCTIONS.get(name)
        if function is not None:
            return function(self, *args, **kwargs)
        macro = self._template.compiled.macros.get(name)
        if macro is not None:
            return macro(self, args, kwargs)
        known = [*BUILTIN_FUNCTIONS, *(functions or {})]
        raise RenderFailure(f"Unknown function '{name}'{closest(name, known)}")

    def block(self, args: tuple[Any, ...], scope: Any, local: Any, line: int) -> str:
        """`block("name")`: render a `{% block %}` of the template again."""
        name = args[0] if args else None
        block = self.blocks.get(name) if isinstance(name, str) else None
        if block is None:
            raise RenderFailure(f"Unknown block '{name}'")
        return block(self, scope, local if local is not None else {})


class Template:
    """A compiled template; render it as often as needed, from any thread.

    `single_expression` tells whether the template is one `{{ expr }}` (with whitespace around),
    the case where `render_typed` returns the expression's value rather than text.
    """

    __slots__ = ("compiled", "single_expression", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        if len(source) > MAX_TEMPLATE_LENGTH:
            raise ExpressionSyntaxError(
                f"A template of {len(source)} characters is longer than the limit of "
                f"{MAX_TEMPLATE_LENGTH}"
            )
        text = Source(source)
        try:
            tree = Parser(text, tokenize(text), FILTERS, TESTS).parse_template()
            self.compiled: CompiledTemplate = compile_tree(tree)
        except (RecursionError, SyntaxError) as exc:
            # Python's own limits on nesting, reached only by absurdly deep expressions.
            raise ExpressionSyntaxError(
                f"The expression is nested too deeply in `{source}`"
            ) from exc
        self.single_expression = self.compiled.typed is not None

    def __repr__(self) -> str:
        return f"Template({self.source!r})"

    def render(
        self, variables: Mapping[str, Any], functions: Mapping[str, Function] | None = None
    ) -> str:
        """Render to text: each `{{ }}` writes its value's text form."""
        return strip_raw(self.render_pass(variables, functions))

    def render_typed(
        self, variables: Mapping[str, Any], functions: Mapping[str, Function] | None = None
    ) -> Any:
        """Render to the native value if the template is one `{{ expr }}`, else to text."""
        typed = self.compiled.typed
        if typed is None:
            return self.render(variables, functions)
        try:
            return typed(CallContext(self, variables, functions), variables)
        except ExpressionError:
            raise
        except Exception as exc:
            raise self.translate(exc) from _cause(exc)

    def render_pass(
        self, variables: Mapping[str, Any], functions: Mapping[str, Function] | None = None
    ) -> str:
        """Render once, keeping `{% raw %}` tags (see `CallContext.render`)."""
        try:
            return self.compiled.root(CallContext(self, variables, functions), variables)
        except ExpressionError:
            raise
        except Exception as exc:
            raise self.translate(exc) from _cause(exc)

    def translate(self, exc: Exception) -> ExpressionError:
        """Turn an error raised while rendering into one that says where."""
        where = f"`{self.source}` at line"
        if isinstance(exc, Undefined):
            return UndefinedVariableError(
                f"Unable to find `{exc.name}` used in the expression {where} {exc.line}"
            )
        line = self.failing_line(exc.__traceback__)
        if isinstance(exc, RenderFailure):
            return ExpressionError(f"{exc} in {where} {line}")
        message = re.sub(r"_f_(\w+)\(\)", r"filter '\1'", str(exc)) or type(exc).__name__
        return ExpressionError(f"{message} in {where} {line}")

    def failing_line(self, trace: TracebackType | None) -> int:
        """The template line of the innermost generated statement in `trace`."""
        line = 1
        while trace is not None:
            code = trace.tb_frame.f_code
            if code.co_filename == self.compiled.filename:
                line = self.compiled.line_map[trace.tb_lineno - 1]
            trace = trace.tb_next
        return line


def _cause(exc: Exception) -> BaseException | None:
    """Hide internal signals from tracebacks; keep foreign errors as the cause."""
    if isinstance(exc, Undefined):
        return None
    if isinstance(exc, RenderFailure):
        return exc.__cause__
    return exc


def strip_raw(text: str) -> str:
    """Replace each `{% raw %}…{% endraw %}` block by its content."""
    if "{%" not in text:
        return text
    return _RAW_BLOCK.sub(lambda match: match.group(1), text)


@functools.lru_cache(maxsize=4096)
def compile_template(source: str) -> Template:
    """Parse and compile `source` once; later calls with the same text reuse it."""
    return Template(source)


def render(
    source: str, variables: Mapping[str, Any], functions: Mapping[str, Function] | None = None
) -> str:
    """Render `source` to text; text without `{` is returned as it is."""
    if "{" not in source:
        return source
    return compile_template(source).render(variables, functions)


def render_typed(
    source: str, variables: Mapping[str, Any], functions: Mapping[str, Function] | None = None
) -> Any:
    """Render `source`, keeping the native value of a lone `{{ expr }}`."""
    if "{" not in source:
        return source
    return compile_template(source).render_typed(variables, functions)


def render_value(
    value: Any, variables: Mapping[str, Any], functions: Mapping[str, Function] | None = None
) -> Any:
    """Render every string in nested maps and lists (map keys too); leave other values alone."""
    if isinstance(value, str):
        return render(value, variables, functions)
    if isinstance(value, Mapping):
        return {
            render_value(key, variables, functions): render_value(item, variables, functions)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [render_value(item, variables, functions) for item in value]
    return value


def is_template(text: str) -> bool:
    """Whether `text` holds a `{{`, `{%` or `{#` delimiter."""
    return "{{" in text or "{%" in text or "{#" in text
