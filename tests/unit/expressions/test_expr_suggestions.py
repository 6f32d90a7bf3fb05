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
