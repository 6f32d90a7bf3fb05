"""Reading `::{...}::` lines: what a message carries, and how a bad one is refused."""

from __future__ import annotations

import pytest

from lanner.executions import Level
from lanner.tasks.scripts.protocol import LogLine, Message, Metric, ProtocolError, parse_line

VALID: list[tuple[str, Message | None]] = [
    ("hello", None),
    ('::{"outputs": {"a": 1}}:: trailing', None),
    (' ::{"outputs": {"a": 1}}::', None),
    ("::[1, 2]::", None),
    ('::{"outputs": {"a": 1, "b": [true]}}::', Message({"a": 1, "b": [True]})),
    ("::{}::", Message({})),
    ('::{"assets": {"x": 1}}::', Message({})),
    (
        '::{"metrics": [{"name": "rows", "type": "counter", "value": 3, "tags": {"t": 1}}]}::',
        Message({}, (Metric("rows", "counter", 3.0, {"t": "1"}),)),
    ),
    (
        '::{"metrics": [{"name": "took", "type": "timer", "value": 0.25}]}::',
        Message({}, (Metric("took", "timer", 0.25),)),
    ),
    (
        '::{"logs": [{"level": "WARN", "message": "careful"}, {"message": "plain"}]}::',
        Message({}, (), (LogLine(Level.WARN, "careful"), LogLine(Level.INFO, "plain"))),
    ),
]


@pytest.mark.parametrize(("line", "expected"), VALID, ids=[str(i) for i in range(len(VALID))])
def test_messages(line: str, expected: Message | None) -> None:
    assert parse_line(line) == expected


INVALID: list[tuple[str, str]] = [
    ("::{not json}::", "not JSON"),
    ('::{"outputs": [1]}::', "'outputs' must be an object, got list"),
    ('::{"metrics": {}}::', "'metrics' must be a list, got dict"),
    ('::{"metrics": [1]}::', "a metric must be an object, got int"),
    ('::{"metrics": [{"type": "counter", "value": 1}]}::', "a metric needs a 'name'"),
    (
        '::{"metrics": [{"name": "m", "type": "histogram", "value": 1}]}::',
        "metric 'm': 'type' must be one of counter, timer, gauge",
    ),
    (
        '::{"metrics": [{"name": "m", "type": "counter", "value": "1"}]}::',
        "metric 'm': 'value' must be a number",
    ),
    (
        '::{"metrics": [{"name": "m", "type": "counter", "value": true}]}::',
        "metric 'm': 'value' must be a number",
    ),
    (
        '::{"metrics": [{"name": "m", "type": "counter", "value": 1, "tags": [1]}]}::',
        "metric 'm': 'tags' must be an object",
    ),
    ('::{"logs": [{"level": "LOUD", "message": "x"}]}::', "unknown log level 'LOUD'"),
    ('::{"logs": ["x"]}::', "a log must be an object, got str"),
]


@pytest.mark.parametrize(("line", "message"), INVALID, ids=[m for _, m in INVALID])
def test_invalid_messages_say_what_is_wrong(line: str, message: str) -> None:
    with pytest.raises(ProtocolError, match=message.replace("(", r"\(")):
        parse_line(line)
