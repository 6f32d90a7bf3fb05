"""lanner's expression language: Pebble templates as Kestra configures them.

`compile_template(source)` parses and compiles a template once (cached by its text);
`Template.render(variables, functions)` writes text, `Template.render_typed` keeps the native
value of a template that is a single `{{ expr }}`. Extra functions (`secret`, `kv`...) are
passed per render as `functions=`; each is called as `function(call, *args, **kwargs)` with the
render's `CallContext`. Every error is an `ExpressionError` naming the template and line.
"""

from __future__ import annotations

from lanner.expressions.template import (
    CallContext,
    Function,
    Template,
    compile_template,
    is_template,
    render,
    render_typed,
    render_value,
)
from lanner.expressions.values import is_truthy_text, to_json, to_text

__all__ = [
    "CallContext",
    "Function",
    "Template",
    "compile_template",
    "is_template",
    "is_truthy_text",
    "render",
    "render_typed",
    "render_value",
    "to_json",
    "to_text",
]
