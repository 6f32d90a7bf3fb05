"""Server-Sent Events: cut a `text/event-stream` body into events, as Kestra's HTTP client does.

The format (WHATWG HTML, "Server-sent events"): lines end with CR LF, LF or CR; a line
`field: value` sets a field (one space after the colon is dropped); `data` lines accumulate,
joined by LF; a line starting with `:` is a comment; a blank line ends the event. As in Kestra:

* an event is dispatched only if it had at least one `data` line; a block of comments or ids
  alone is dropped;
* an event keeps its last comment line in `comment` (Kestra's `HttpSseEvent.comment`);
* `retry` is kept only when it is all ASCII digits (milliseconds); an `id` holding NUL is ignored;
* the event still open when the stream ends is dropped (no blank line, no dispatch).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from datetime import timedelta

__all__ = ["LineSplitter", "SseEvent", "SseParser"]

_NEWLINE = re.compile(r"\r\n|\r|\n")


class LineSplitter:
    """Decode UTF-8 bytes as they arrive and return the complete lines they finish."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._tail = ""
        # A chunk ending with CR: an LF starting the next chunk belongs to the same line end.
        self._skip_lf = False

    def feed(self, data: bytes) -> list[str]:
        text = self._decoder.decode(data)
        if self._skip_lf and text.startswith("\n"):
            text = text[1:]
        if not text:
            return []
        self._skip_lf = text.endswith("\r")
        lines = _NEWLINE.split(self._tail + text)
        self._tail = lines.pop()
        return lines


@dataclass(frozen=True)
class SseEvent:
    """One dispatched event; `data` is the text of its `data` lines joined by LF."""

    data: str
    id: str | None = None
    name: str | None = None
    comment: str | None = None
    retry: timedelta | None = None


@dataclass
class SseParser:
    """Read lines one at a time; return an event when a blank line completes one."""

    _data: list[str] = field(default_factory=list)
    _id: str | None = None
    _name: str | None = None
    _comment: str | None = None
    _retry: timedelta | None = None

    def line(self, line: str) -> SseEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            self._comment = _strip_space(line[1:])
            return None
        name, colon, value = line.partition(":")
        self._field(name, _strip_space(value) if colon else "")
        return None

    def _field(self, name: str, value: str) -> None:
        if name == "data":
            self._data.append(value)
        elif name == "id" and "\0" not in value:
            self._id = value
        elif name == "event":
            self._name = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self._retry = timedelta(milliseconds=int(value))
        # Any other field name is ignored, as the format says.

    def _dispatch(self) -> SseEvent | None:
        event = None
        if self._data:
            event = SseEvent(
                "\n".join(self._data), self._id, self._name, self._comment, self._retry
            )
        self._data = []
        self._id = self._name = self._comment = None
        self._retry = None
        return event


def _strip_space(value: str) -> str:
    return value[1:] if value.startswith(" ") else value
