"""Identifiers: random ones, and ones derived from what asked for them."""

from __future__ import annotations

import re

from lanner.ids import derived_id, new_id

LANNER_ID = re.compile(r"[0-9A-Za-z]{22}")


def test_new_ids_are_22_base62_characters_and_differ() -> None:
    ids = {new_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(LANNER_ID.fullmatch(identifier) for identifier in ids)


def test_a_derived_id_looks_like_any_other_and_depends_only_on_its_parts() -> None:
    first = derived_id("child", "6pBuOvCjsXCO4ShHNYWmzf", "2Gdq0pUhXrpOzPIPTzHZi6", 1, None)
    again = derived_id("child", "6pBuOvCjsXCO4ShHNYWmzf", "2Gdq0pUhXrpOzPIPTzHZi6", 1, None)
    assert LANNER_ID.fullmatch(first)
    assert first == again


def test_derived_ids_differ_when_any_part_or_the_kind_differs() -> None:
    ids = [
        derived_id("child", "p", "r", 1, None),
        derived_id("child", "p", "r", 2, None),
        derived_id("child", "p", "r", 1, 0),
        derived_id("child", "p", "r", 1, "None"),
        derived_id("child", "p", "s", 1, None),
        derived_id("child", "q", "r", 1, None),
        derived_id("retry", "p", "r", 1, None),
        # Parts are kept apart, not glued together.
        derived_id("child", "ab", "c"),
        derived_id("child", "a", "bc"),
    ]
    assert len(set(ids)) == len(ids)


def test_derived_ids_spread_like_random_ones() -> None:
    ids = [derived_id("child", "parent", "run", 1, batch) for batch in range(2000)]
    assert len(set(ids)) == 2000
    # Each position uses the whole alphabet, not a corner of it.
    assert len({identifier[-1] for identifier in ids}) == 62
