"""Instants as lanner prints and reads them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from lanner.clock import format_instant, parse_instant, utcnow
from lanner.context import millis_iso


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2019, 10, 6, 18, 27, 49, tzinfo=UTC), "2019-10-06T18:27:49Z"),
        (datetime(2019, 10, 6, 18, 27, 49, 120000, tzinfo=UTC), "2019-10-06T18:27:49.120Z"),
        (datetime(2019, 10, 6, 18, 27, 49, 123456, tzinfo=UTC), "2019-10-06T18:27:49.123456Z"),
        (datetime(582, 3, 4, 5, 6, 7, tzinfo=UTC), "0582-03-04T05:06:07Z"),
        (
            datetime(2019, 10, 6, 20, 27, 49, tzinfo=timezone(timedelta(hours=2))),
            "2019-10-06T18:27:49Z",
        ),
    ],
    ids=["whole-second", "millis", "micros", "year-below-1000", "offset"],
)
def test_instants_print_like_java_and_read_back(moment: datetime, text: str) -> None:
    assert format_instant(moment) == text
    assert parse_instant(text) == moment


def test_expression_dates_always_have_three_fraction_digits() -> None:
    assert millis_iso(datetime(582, 3, 4, 5, 6, 7, tzinfo=UTC)) == "0582-03-04T05:06:07.000Z"


def test_now_is_utc_to_the_millisecond() -> None:
    now = utcnow()
    assert now.tzinfo is UTC
    assert now.microsecond % 1000 == 0
