"""The HTTP Download task: stream a response body into internal storage (spec http-tasks.md §3).

The request is built and sent by `HttpTask`, as for `Request`; only the response handling
differs: the body goes to a file of this task run, chunk by chunk, never whole in memory.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import unquote, urlsplit

import httpx
from pydantic import TypeAdapter

from lanner.exceptions import TaskError
from lanner.properties import Dynamic
from lanner.storage import Storage, file_uri, run_storage
from lanner.tasks.http import HttpTask, check_status, has_no_body, header_map, log_response
from lanner.tasks.http_options import Text, resolve
from lanner.tasks.registry import register

if TYPE_CHECKING:
    from lanner.context import RunContext

_BOOL: TypeAdapter[bool] = TypeAdapter(bool)
_BATCH = 1 << 18
"""Bytes of the body gathered before one write to storage."""


@register
class Download(HttpTask):
    """Download a file over HTTP into internal storage and return its `kestra://` URI."""

    TYPE = "io.kestra.plugin.core.http.Download"

    fail_on_empty_response: Dynamic[bool] = True
    file_name: Text | None = None

    async def run(self, ctx: RunContext) -> Mapping[str, Any] | None:
        options = self.resolve_options(ctx)
        fail_on_empty = resolve(ctx, self.fail_on_empty_response, _BOOL, "failOnEmptyResponse")
        requested_name = ctx.render(self.file_name).strip() if self.file_name is not None else ""
        async with self.exchange(ctx, options) as exchange:
            response, code = exchange.response, exchange.response.status_code
            ctx.logger.debug(f"Download '{exchange.uri}' with the response code '{code}'")
            check_status(options, code, None)
            name = (
                safe_name(requested_name)
                or disposition_name(response.headers.get("content-disposition"))
                or _temporary_name(exchange.uri)
            )
            uri = file_uri(ctx.folder(), name)
            storage = ctx.storage
            try:
                length = await _store(storage, uri, response)
                if not has_no_body(exchange.request.method, code):
                    _check_length(response, length)
            except BaseException:
                # A cancelled task cleans up too: once started, the deletion goes to its end
                # even if the task is cancelled again meanwhile (see run_storage).
                await run_storage(storage, storage.delete, uri)
                raise
        log_response(ctx, options.logs, response, f"<{length} bytes stored as {uri}>")
        if length == 0:
            if fail_on_empty and not options.allow_failed:
                await run_storage(ctx.storage, ctx.storage.delete, uri)
                raise TaskError("No response from server")
            ctx.logger.warn(f"File '{exchange.uri}' is empty")
        return {
            "uri": uri,
            "code": code,
            "length": length,
            "headers": header_map(response.headers),
        }


async def _store(storage: Storage, uri: str, response: httpx.Response) -> int:
    """Write the body to `uri` as it arrives; return its length.

    Opening, writing (a batch of chunks at a time) and closing go through `run_storage`:
    inline on a local storage, in a thread on a remote one, where the event loop must go on
    serving the other tasks during each round trip.
    """
    writing = storage.open_write(uri)
    handle = await run_storage(storage, writing.__enter__)
    try:
        length, batched = 0, 0
        batch: list[bytes] = []
        async for chunk in response.aiter_bytes():
            batch.append(chunk)
            batched += len(chunk)
            if batched >= _BATCH:
                length += await _write(storage, handle, batch)
                batch, batched = [], 0
        length += await _write(storage, handle, batch)
    except BaseException as exc:
        await run_storage(storage, writing.__exit__, type(exc), exc, exc.__traceback__)
        raise
    await run_storage(storage, writing.__exit__, None, None, None)
    return length


async def _write(storage: Storage, handle: BinaryIO, batch: list[bytes]) -> int:
    # Not inline on a remote storage, though most writes only fill a buffer: an fsspec
    # buffered file (S3...) uploads a part from inside write() each time its buffer reaches
    # the block size (BLOCK, 8 MiB), and other file systems may send every write. Batching
    # the chunks (_BATCH) keeps it to one thread hop per 256 KiB, little beside the transfer.
    data = b"".join(batch)
    if data:
        await run_storage(storage, handle.write, data)
    return len(data)


def _check_length(response: httpx.Response, written: int) -> None:
    """Fail when the server announced a length other than what arrived."""
    declared = response.headers.get("content-length", "").strip()
    if not declared.isdigit():
        return
    # With a content encoding, the announced length is that of the encoded bytes.
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    received = written if encoding in ("", "identity") else response.num_bytes_downloaded
    if int(declared) != received:
        raise TaskError(f"Invalid size, got {received}, expected {declared}")


def _temporary_name(uri: str) -> str:
    """Return a fresh name carrying the extension of the URI's last path segment."""
    suffix = PurePosixPath(urlsplit(uri).path).suffix
    return f"{uuid.uuid4().hex}{suffix}"


def disposition_name(header: str | None) -> str:
    """Return the file name a Content-Disposition header gives, or "" when it gives none.

    `filename*=` (RFC 5987, percent-encoded with its charset) wins over `filename=`.
    """
    if not header:
        return ""
    params = _parameters(header)
    extended = params.get("filename*")
    if extended is not None:
        charset, _, rest = extended.partition("'")
        _, _, encoded = rest.partition("'")
        if not rest:
            encoded, charset = extended, "utf-8"
        try:
            name = safe_name(unquote(encoded, encoding=charset or "utf-8", errors="strict"))
        except (LookupError, UnicodeDecodeError):
            name = ""
        if name:
            return name
    return safe_name(params.get("filename", ""))


def safe_name(name: str) -> str:
    """Keep a name's last path segment, quotes stripped; "" when nothing usable is left."""
    name = name.strip().strip('"').strip()
    last = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return "" if last in ("", ".", "..") else last


def _parameters(header: str) -> dict[str, str]:
    """Split `type; key=value; key="quoted; value"` into lower-cased keys and raw values."""
    params: dict[str, str] = {}
    for part in _split_unquoted(header)[1:]:
        key, equals, value = part.partition("=")
        if equals:
            params.setdefault(key.strip().lower(), value.strip())
    return params


def _split_unquoted(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == ";" and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts
