"""Typed Python values turned into what Kestra's JSON holds for them."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from lanner.clock import format_instant
from lanner.durations import format_duration


def jsonable(value: Any) -> Any:
    """Return `value` with dates, times and durations as ISO-8601 text, decimals as numbers,
    bytes as base64, and map keys as text, nested maps and lists included."""
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, datetime):
        return format_instant(value)
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value
