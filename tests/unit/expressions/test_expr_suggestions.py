"""An unknown filter, test or function names the closest known one."""

from __future__ import annotations

import pytest

from lanner.exceptions import ExpressionError
from lanner.expressions import render


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ x | upperr }}", "Unknown filter 'upperr' (did you mean 'upper'?)"),
        ("{{ x is defind }}", "Unknown test 'defind' (did you mean 'defined'?)"),
        ('{{ fromJsn("1") }}', "Unknown function 'fromJsn' (did you mean 'fromJson'?)"),
        ("{{ x | zzzzzz }}", "Unknown filter 'zzzzzz' in"),
    ],
    ids=["filter", "test", "function", "nothing-close"],
)
def test_unknown_names_suggest_the_closest(template: str, message: str) -> None:
    with pytest.raises(ExpressionError) as raised:
        render(template, {"x": "a"})
    assert message in str(raised.value)


def test_a_template_longer_than_the_limit_is_refused() -> None:
    from lanner.expressions.runtime import MAX_TEMPLATE_LENGTH

    template = "{{ 1 }}" + "x" * MAX_TEMPLATE_LENGTH
    with pytest.raises(ExpressionError) as raised:
        render(template, {})
    assert str(raised.value) == (
        f"A template of {len(template)} characters is longer than the limit of "
        f"{MAX_TEMPLATE_LENGTH}"
    )
