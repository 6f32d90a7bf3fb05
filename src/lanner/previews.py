"""File previews as Kestra's UI shows them: the first lines of text, Ion rows, images.

The type follows the file's extension: images are `IMAGE` (base64 content), `.ion` files are
`LIST` (one row per Ion value), `.md` is `MARKDOWN`, anything else is `TEXT` (CSV included),
read with the requested encoding. At most `max_rows` lines or rows are read, and text stops at
2 MiB; `truncated` tells whether there was more.
"""

from __future__ import annotations

import base64
import codecs
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from lanner.exceptions import LannerError
from lanner.expressions.ion import read_ion
from lanner.jsonvalues import jsonable

DEFAULT_ROWS = 100
MAX_ROWS = 5000
MAX_TEXT_BYTES = 2 * 1024 * 1024
IMAGE_EXTENSIONS = frozenset({"bmp", "gif", "jpeg", "jpg", "png", "svg", "webp"})


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


def preview(path: Path, max_rows: int | None = None, encoding: str = "UTF-8") -> Preview:
    """Preview the file at `path`; LannerError for an encoding Python does not know."""
    extension = path.suffix[1:].lower()
    rows = min(max_rows or DEFAULT_ROWS, MAX_ROWS)
    if extension in IMAGE_EXTENSIONS:
        return Preview(extension, "IMAGE", base64.b64encode(path.read_bytes()).decode(), False)
    if extension == "ion":
        listed = _ion_rows(path, rows)
        if listed is not None:
            return listed
    kind = "MARKDOWN" if extension == "md" else "TEXT"
    content, truncated = _text(path, rows, "UTF-8" if kind == "MARKDOWN" else encoding)
    return Preview(extension, kind, content, truncated)


def _text(path: Path, rows: int, encoding: str) -> tuple[str, bool]:
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise LannerError(f"Unable to preview using encoding '{encoding}'") from None
    with path.open(encoding=encoding, errors="replace", newline=None) as handle:
        lines = [line.rstrip("\n") for line in islice(handle, rows + 1)]
    truncated = len(lines) > rows
    text = "\n".join(lines[:rows])
    data = text.encode("utf-8")
    if len(data) > MAX_TEXT_BYTES:
        return data[:MAX_TEXT_BYTES].decode("utf-8", errors="ignore"), True
    return text, truncated


def _ion_rows(path: Path, rows: int) -> Preview | None:
    """Read one Ion value per line; None when the file is not such Ion (shown as text then)."""
    try:
        with path.open(encoding="utf-8") as handle:
            lines = list(islice(_non_blank(handle), rows + 1))
        values = [jsonable(read_ion(line)) for line in lines[:rows]]
    except (UnicodeDecodeError, ValueError):
        return None
    return Preview("ion", "LIST", values, len(lines) > rows)


def _non_blank(lines: Iterator[str]) -> Iterator[str]:
    return (line for line in lines if line.strip())
