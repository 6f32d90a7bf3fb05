"""The `::{...}::` line protocol a script uses to talk back to the engine.

A line of a script's stdout or stderr that is exactly `::` + a JSON object + `::` is a message,
not a log line (Kestra's TaskLogLineMatcher). The object may hold:

* `outputs`: a map merged into the task's `vars` output (later keys win);
* `metrics`: a list of `{name, type, value, tags}` with type `counter`, `timer` (seconds) or
  `gauge`;
* `logs`: a list of `{level, message}`, written to the task run's logs at that level.

Other keys (`assets`) are accepted and ignored. `from kestra import Kestra` (PyPI `kestra`)
prints exactly these lines: `Kestra.outputs({...})`, `Kestra.counter(...)`, `Kestra.logger()`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lanner.exceptions import LannerError
from lanner.executions import Level

if TYPE_CHECKING:
    from lanner.context import RunContext

_MESSAGE = re.compile(r"^::(\{.*\})::$")
METRIC_TYPES = ("counter", "timer", "gauge")


class ProtocolError(ValueError):
    """A `::{...}::` line that is not a valid message."""


@dataclass(frozen=True, slots=True)
class Metric:
    """One metric a script reported."""

    name: str
    type: str
    value: float
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LogLine:
    """One log line a script sent through the protocol, at its own level."""

    level: Level
    message: str


@dataclass(frozen=True, slots=True)
class Message:
    """What one protocol line carries."""

    outputs: Mapping[str, Any]
    metrics: tuple[Metric, ...] = ()
    logs: tuple[LogLine, ...] = ()


def parse_line(line: str) -> Message | None:
    """Return the message a line carries, None for an ordinary line; raise ProtocolError."""
    match = _MESSAGE.match(line)
    if match is None:
        return None
    try:
        data = json.loads(match.group(1))
    except json.JSONDecodeError as exc:
        raise ProtocolError(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ProtocolError("expected a JSON object")
    outputs = data.get("outputs") or {}
    if not isinstance(outputs, dict):
        raise ProtocolError(f"'outputs' must be an object, got {_kind(outputs)}")
    metrics = tuple(_metric(item) for item in _list(data, "metrics"))
    logs = tuple(_log(item) for item in _list(data, "logs"))
    return Message(outputs, metrics, logs)


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ProtocolError(f"'{key}' must be a list, got {_kind(value)}")
    return value


def _metric(item: Any) -> Metric:
    if not isinstance(item, dict):
        raise ProtocolError(f"a metric must be an object, got {_kind(item)}")
    name, kind, value = item.get("name"), item.get("type"), item.get("value")
    if not isinstance(name, str) or not name:
        raise ProtocolError("a metric needs a 'name'")
    if kind not in METRIC_TYPES:
        raise ProtocolError(f"metric '{name}': 'type' must be one of {', '.join(METRIC_TYPES)}")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ProtocolError(f"metric '{name}': 'value' must be a number")
    tags = item.get("tags") or {}
    if not isinstance(tags, dict):
        raise ProtocolError(f"metric '{name}': 'tags' must be an object")
    return Metric(name, kind, float(value), {str(k): str(v) for k, v in tags.items()})


def _log(item: Any) -> LogLine:
    if not isinstance(item, dict):
        raise ProtocolError(f"a log must be an object, got {_kind(item)}")
    try:
        level = Level.parse(str(item.get("level", "INFO")))
    except KeyError as exc:
        raise ProtocolError(f"unknown log level {item.get('level')!r}") from exc
    return LogLine(level, str(item.get("message", "")))


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


class LineConsumer:
    """Turns a script's output lines into logs, `vars` outputs and metrics of its task run.

    An ordinary line is logged as it arrives: stdout at INFO, stderr at ERROR (Kestra 0.21+).
    A protocol line is not logged; an invalid one is reported with a WARN line. Every line
    is counted, protocol lines included, as Kestra counts them for `warningOnStdErr`.
    """

    def __init__(self, ctx: RunContext) -> None:
        self._ctx = ctx
        self.vars: dict[str, Any] = {}
        self.stdout_lines = 0
        self.stderr_lines = 0

    def accept(self, line: str, is_stderr: bool) -> None:
        if is_stderr:
            self.stderr_lines += 1
        else:
            self.stdout_lines += 1
        logger = self._ctx.logger
        try:
            message = parse_line(line)
        except ProtocolError as exc:
            logger.warn(f"Invalid outputs '{line}': {exc}")
            return
        if message is None:
            logger.log(Level.ERROR if is_stderr else Level.INFO, line)
            return
        self.vars.update(message.outputs)
        for log in message.logs:
            logger.log(log.level, log.message)
        for metric in message.metrics:
            try:
                self._ctx.metric(metric.name, metric.value, type=metric.type, tags=metric.tags)
            except LannerError as exc:
                logger.warn(f"Invalid metric '{metric.name}': {exc}")
