"""File previews as Kestra's UI shows them: the first lines of text, Ion rows, images.

The type follows the file's extension: images are `IMAGE` (base64 content), `.ion` files are
`LIST` (one row per Ion value), `.md` is `MARKDOWN`, anything else is `TEXT` (CSV included),
read with the requested encoding. At most `max_rows` lines or rows are read, and text stops at
2 MiB; `truncated` tells whether there was more.
"""

from __future__ import annotations

import base64
import codecs
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import PurePosixPath
from typing import Any, BinaryIO

from lanner.exceptions import LannerError
from lanner.expressions.ion import read_ion
from lanner.jsonvalues import jsonable

DEFAULT_ROWS = 100
MAX_ROWS = 5000
MAX_TEXT_BYTES = 2 * 1024 * 1024
IMAGE_EXTENSIONS = frozenset({"bmp", "gif", "jpeg", "jpg", "png", "svg", "webp"})

Opener = Callable[[], BinaryIO]
"""Opens the previewed file for reading, from its start."""


@dataclass(frozen=True)
class Preview:
    """What the preview endpoint answers."""

    extension: str
    type: str
    content: Any
    truncated: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "extension": self.extension,
            "type": self.type,
            "content": self.content,
            "truncated": self.truncated,
        }


def preview(
    name: str, open_file: Opener, max_rows: int | None = None, encoding: str = "UTF-8"
) -> Preview:
    """Preview the file `name` that `open_file` opens (maybe twice: Ion falls back to text).

    LannerError for an encoding Python does not know.
    """
    extension = PurePosixPath(name).suffix[1:].lower()
    rows = min(max_rows or DEFAULT_ROWS, MAX_ROWS)
    if extension in IMAGE_EXTENSIONS:
        with open_file() as stream:
            return Preview(extension, "IMAGE", base64.b64encode(stream.read()).decode(), False)
    if extension == "ion":
        listed = _ion_rows(open_file, rows)
        if listed is not None:
            return listed
    kind = "MARKDOWN" if extension == "md" else "TEXT"
    content, truncated = _text(open_file, rows, "UTF-8" if kind == "MARKDOWN" else encoding)
    return Preview(extension, kind, content, truncated)


def _text(open_file: Opener, rows: int, encoding: str) -> tuple[str, bool]:
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise LannerError(f"Unable to preview using encoding '{encoding}'") from None
    with _text_stream(open_file, encoding, "replace") as handle:
        lines = [line.rstrip("\n") for line in islice(handle, rows + 1)]
    truncated = len(lines) > rows
    text = "\n".join(lines[:rows])
    data = text.encode("utf-8")
    if len(data) > MAX_TEXT_BYTES:
        return data[:MAX_TEXT_BYTES].decode("utf-8", errors="ignore"), True
    return text, truncated


def _ion_rows(open_file: Opener, rows: int) -> Preview | None:
    """Read one Ion value per line; None when the file is not such Ion (shown as text then)."""
    try:
        with _text_stream(open_file, "utf-8", "strict") as handle:
            lines = list(islice(_non_blank(handle), rows + 1))
        values = [jsonable(read_ion(line)) for line in lines[:rows]]
    except (UnicodeDecodeError, ValueError):
        return None
    return Preview("ion", "LIST", values, len(lines) > rows)


def _text_stream(open_file: Opener, encoding: str, errors: str) -> io.TextIOWrapper:
    # TextIOWrapper reads the binary stream a buffer at a time: only the lines shown are read.
    return io.TextIOWrapper(open_file(), encoding=encoding, errors=errors, newline=None)


def _non_blank(lines: Iterator[str]) -> Iterator[str]:
    return (line for line in lines if line.strip())
