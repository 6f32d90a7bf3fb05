"""Micro-benchmark of the expression engine: cached renders, loops and compile time.

Run with `python bench/expressions_bench.py`; it prints microseconds or milliseconds per render,
then the issue's measures: two renders as a ratio to Python's own formatting of the same text
(measured in the same run), the compile time of a new template and a cached small render.
"""

from __future__ import annotations

import itertools
import timeit
from collections.abc import Callable
from typing import Any

from lanner.expressions import compile_template, render

VARIABLES: dict[str, Any] = {
    "outputs": {"t": {"body": '{"hello": "world"}', "code": 200}},
    "inputs": {"name": "lanner", "count": 3},
    "rows": [{"id": index, "name": f"row {index}"} for index in range(1000)],
}

CASES: list[tuple[str, str, Callable[[], object]]] = [
    (
        "render('{{ outputs.t.body }}') cached",
        "us",
        lambda: render("{{ outputs.t.body }}", VARIABLES),
    ),
    (
        "Template.render('{{ outputs.t.body }}')",
        "us",
        lambda: compile_template("{{ outputs.t.body }}").render(VARIABLES),
    ),
    (
        "text with 3 expressions and a filter",
        "us",
        lambda: render(
            "Hello {{ inputs.name | upper }}, {{ inputs.count * 2 }} / {{ outputs.t.code }}",
            VARIABLES,
        ),
    ),
    (
        "{{ outputs.t.body | jq('.hello') | first }}",
        "us",
        lambda: render("{{ outputs.t.body | jq('.hello') | first }}", VARIABLES),
    ),
    (
        "1000-row {% for %} with loop.index",
        "ms",
        lambda: render(
            "{% for row in rows %}{{ loop.index }}:{{ row.name }}"
            "{% if not loop.last %},{% endif %}{% endfor %}",
            VARIABLES,
        ),
    ),
]


def measure(function: Callable[[], object]) -> float:
    """Return the best per-call time in seconds over a few repeats."""
    function()
    timer = timeit.Timer(function)
    number, _ = timer.autorange()
    return min(timer.repeat(repeat=5, number=number)) / number


SMALL = "{{ a }} and {{ b | upper }} then {{ c }}"
SMALL_VARIABLES: dict[str, Any] = {"a": "first", "b": "second", "c": 3}

LOG = "\n".join(
    [f"line {number}: {{{{ flow.id }}}} in {{{{ flow.namespace }}}}" for number in range(1, 49)]
    + ["items:", "{% for item in items %}{{ item.name }}={{ item.value }};{% endfor %}"]
)
LOG_VARIABLES: dict[str, Any] = {
    "flow": {"id": "hello", "namespace": "company.team"},
    "items": [{"name": f"item{index}", "value": index} for index in range(100)],
}


def python_small() -> str:
    values = SMALL_VARIABLES
    return f"{values['a']} and {values['b'].upper()} then {values['c']}"


def python_log() -> str:
    flow = LOG_VARIABLES["flow"]
    head = [f"line {number}: {flow['id']} in {flow['namespace']}" for number in range(1, 49)]
    items = "".join(f"{item['name']}={item['value']};" for item in LOG_VARIABLES["items"])
    return "\n".join([*head, "items:", items])


_fresh = itertools.count()


def compile_new() -> object:
    """Compile a template never seen before (a unique comment defeats the cache)."""
    return compile_template(f"{{# {next(_fresh)} #}}{SMALL}")


def ratios() -> None:
    small = compile_template(SMALL)
    log = compile_template(LOG)
    assert small.render(SMALL_VARIABLES) == python_small()
    assert log.render(LOG_VARIABLES) == python_log()
    pairs = [
        (
            "(a) cached 3-variable template + filter",
            lambda: small.render(SMALL_VARIABLES),
            python_small,
        ),
        ("(b) 50-line log with a 100-item for", lambda: log.render(LOG_VARIABLES), python_log),
    ]
    for name, template, python in pairs:
        ours, floor = measure(template), measure(python)
        print(
            f"{name:<48} {ours * 1e6:10.2f} us  python {floor * 1e6:8.2f} us  x{ours / floor:.1f}"
        )
    compile_seconds = measure(compile_new)
    print(f"{'(c) compile a new template (target < 200 us)':<48} {compile_seconds * 1e6:10.2f} us")
    cached = measure(lambda: render(SMALL, SMALL_VARIABLES))
    print(f"{'(d) cached small template (target < 10 us)':<48} {cached * 1e6:10.2f} us")


def main() -> None:
    for name, unit, function in CASES:
        seconds = measure(function)
        scale = 1e6 if unit == "us" else 1e3
        print(f"{name:<48} {seconds * scale:10.2f} {unit}")
    ratios()


if __name__ == "__main__":
    main()
