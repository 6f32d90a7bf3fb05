"""Micro-benchmark of the expression engine: cached renders and a 1000-row loop.

Run with `python bench/expressions_bench.py`; it prints microseconds or milliseconds per render.
"""

from __future__ import annotations

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


def main() -> None:
    for name, unit, function in CASES:
        seconds = measure(function)
        scale = 1e6 if unit == "us" else 1e3
        print(f"{name:<48} {seconds * scale:10.2f} {unit}")


if __name__ == "__main__":
    main()
