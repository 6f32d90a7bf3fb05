from __future__ import annotations

from datetime import timedelta

import pytest

from lanner.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("PT5M6S", timedelta(minutes=5, seconds=6), id="minutes-seconds"),
        pytest.param("P1D", timedelta(days=1), id="day"),
        pytest.param("PT0.5S", timedelta(milliseconds=500), id="fraction"),
        pytest.param("PT0,5S", timedelta(milliseconds=500), id="comma-fraction"),
        pytest.param("PT1H30M", timedelta(hours=1, minutes=30), id="hours-minutes"),
        pytest.param("P2DT3H4M", timedelta(days=2, hours=3, minutes=4), id="days-and-time"),
        pytest.param("pt1.2s", timedelta(seconds=1.2), id="lower-case"),
        pytest.param("PT0S", timedelta(0), id="zero"),
        pytest.param("-PT6H3M", -timedelta(hours=6, minutes=3), id="negative-whole"),
        pytest.param("PT-6H3M", timedelta(hours=-6, minutes=3), id="negative-part"),
        pytest.param("PT-0.5S", timedelta(milliseconds=-500), id="negative-fraction"),
        pytest.param("PT1.000000001S", timedelta(seconds=1), id="nanoseconds-truncated"),
        pytest.param("PT36H", timedelta(hours=36), id="hours-over-a-day"),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("P", id="no-part"),
        pytest.param("PT", id="no-time-part"),
        pytest.param("P1DT", id="dangling-t"),
        pytest.param("5M", id="no-p"),
        pytest.param("P1Y", id="years"),
        pytest.param("P1W", id="weeks"),
        pytest.param("PT1.5M", id="fractional-minutes"),
        pytest.param("PT5 M", id="space"),
    ],
)
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="cannot be parsed to a Duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("duration", "expected"),
    [
        pytest.param(timedelta(0), "PT0S", id="zero"),
        pytest.param(timedelta(seconds=1.2), "PT1.2S", id="fraction"),
        pytest.param(timedelta(minutes=5, seconds=6), "PT5M6S", id="minutes-seconds"),
        pytest.param(timedelta(hours=1, minutes=30), "PT1H30M", id="hours-minutes"),
        pytest.param(timedelta(days=1), "PT24H", id="day-as-hours"),
        pytest.param(timedelta(microseconds=1), "PT0.000001S", id="microsecond"),
        pytest.param(timedelta(milliseconds=-500), "PT-0.5S", id="minus-half-second"),
        pytest.param(-timedelta(hours=1.5), "PT-1H-30M", id="negative"),
        pytest.param(timedelta(seconds=-61.5), "PT-1M-1.5S", id="negative-with-fraction"),
    ],
)
def test_format_duration(duration: timedelta, expected: str) -> None:
    assert format_duration(duration) == expected


@pytest.mark.parametrize(
    "duration",
    [
        timedelta(0),
        timedelta(days=3, seconds=7, microseconds=123),
        timedelta(seconds=-1, microseconds=1),
        -timedelta(days=1, hours=2, minutes=3, seconds=4.5),
    ],
    ids=["zero", "positive", "just-below-zero", "negative"],
)
def test_format_then_parse_gives_back_the_duration(duration: timedelta) -> None:
    assert parse_duration(format_duration(duration)) == duration
