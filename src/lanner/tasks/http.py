"""The HTTP Request task: send one request and keep the response as the task's outputs.

`HttpTask` holds what every HTTP task shares (the request properties, building the request,
sending it on a pooled client, translating transport errors); `Request` reads the response
into memory, capped, and returns it as text (spec http-tasks.md §1-2).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import ssl
import tempfile
import time
import unicodedata
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import AsyncExitStack, ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

import httpx
from pydantic import TypeAdapter

from lanner.durations import format_duration
from lanner.encryption import encrypted_output
from lanner.exceptions import HttpRequestError, HttpResponseError, NotFoundError, TaskError
from lanner.expressions.values import to_text
from lanner.httpclient import GUARD
from lanner.properties import Dynamic, Expr
from lanner.storage import SCHEME, Storage, run_storage
from lanner.storage.base import CHUNK
from lanner.tasks.base import RunnableTask
from lanner.tasks.http_exchange import HAR_OUTPUT, ExchangeRecorder, masked_header
from lanner.tasks.http_metrics import report_exchange
from lanner.tasks.http_options import (
    HttpOptions,
    LogType,
    ResolvedOptions,
    SslOptions,
    Text,
    resolve,
    resolve_options,
)
from lanner.tasks.http_pagination import Page, Pagination, paginate
from lanner.tasks.http_retry import send_with_retry
from lanner.tasks.registry import register

if TYPE_CHECKING:
    from lanner.context import RunContext

MULTIPART = "multipart/form-data"
URLENCODED = "application/x-www-form-urlencoded"
# Responses that never carry a body, whatever bytes the server may have sent.
_NO_BODY_CODES = frozenset({204, 304})

FilePart = tuple[str | None, bytes | IO[bytes], str]
_BOOL: TypeAdapter[bool] = TypeAdapter(bool)


@dataclass
class Payload:
    """What goes in the request body, and how to show it in the logs."""

    content: bytes | None = None
    parts: list[tuple[str, FilePart]] | None = None
    content_type: str | None = None
    description: str | None = None


@dataclass
class Exchange:
    """One request sent and its streamed response, still open."""

    uri: str
    request: httpx.Request
    response: httpx.Response
    payload: Payload = field(default_factory=Payload)


class HttpTask(RunnableTask):
    """The properties and request plumbing shared by the HTTP tasks."""

    uri: str
    method: str = "GET"
    params: Dynamic[dict[str, Any]] | None = None
    body: Text | None = None
    form_data: Dynamic[dict[str, Any]] | None = None
    content_type: str = "application/json"
    headers: Dynamic[dict[str, Any]] | None = None
    options: HttpOptions | None = None
    # Deprecated task-level copies of `options.allowFailed` and `options.ssl`.
    allow_failed: Dynamic[bool] | None = None
    ssl_options: SslOptions | None = None

    def resolve_options(self, ctx: RunContext) -> ResolvedOptions:
        """Render the options, the deprecated task-level copies folded in."""
        return resolve_options(
            ctx, self.options, allow_failed=self.allow_failed, ssl_options=self.ssl_options
        )

    @asynccontextmanager
    async def exchange(
        self,
        ctx: RunContext,
        options: ResolvedOptions,
        uri: str | None = None,
        recorder: ExchangeRecorder | None = None,
    ) -> AsyncIterator[Exchange]:
        """Send the request (to `uri` when given, else to the task's) and yield its response,
        streamed; transport errors become HttpRequestError. The response is closed when the
        block ends. A recorder, when given, follows the exchange and saves it when the block
        ends, even on failure."""
        client = _client(ctx, options)
        async with AsyncExitStack() as files:
            uri = self.request_uri(ctx) if uri is None else uri
            payload = await self.payload(ctx, options, files)
            request = self.build_request(ctx, options, client, uri, payload)
            if ctx.settings.http_hosts.active:
                request.extensions[GUARD] = partial(
                    ctx.settings.http_hosts.check, first=str(request.url)
                )
            _log_request(ctx, options.logs, request, payload)
            started = time.perf_counter()
            if recorder is not None:
                recorder.attach(request, payload, client.headers)
                await files.enter_async_context(recorder.saved())
            with _transport_errors(uri, options):
                response = await send_with_retry(
                    client,
                    request,
                    auth=_digest(options),
                    retry=options.retry,
                    accepts=options.accepts,
                    logger=ctx.logger,
                )
                try:
                    if recorder is not None:
                        recorder.received(response)
                    yield Exchange(uri, request, response, payload)
                finally:
                    await response.aclose()
                    report_exchange(ctx, response, time.perf_counter() - started)

    # -- building the request -------------------------------------------------------------

    def request_uri(self, ctx: RunContext) -> str:
        """Render `uri` (spaces become %20, nothing else is encoded), then append `params`."""
        uri = ctx.render(self.uri).strip().replace(" ", "%20")
        params = _query_pairs(_render_map(ctx, self.params, "params"))
        if not params:
            return uri
        base, hash_sign, fragment = uri.partition("#")
        query = "&".join(f"{quote(key, safe='')}={quote(value, safe='')}" for key, value in params)
        separator = "" if base.endswith(("?", "&")) else "&" if "?" in base else "?"
        return f"{base}{separator}{query}{hash_sign}{fragment}"

    async def payload(
        self, ctx: RunContext, options: ResolvedOptions, files: AsyncExitStack
    ) -> Payload:
        """Build the body: `formData` when it has entries, else `body`, else nothing."""
        form = _render_map(ctx, self.form_data, "formData")
        if form:
            if ctx.render(self.content_type).strip() == MULTIPART:
                return await _multipart(ctx, form, files)
            return _urlencoded(form, options.charset)
        if self.body is None:
            return Payload()
        text = ctx.render(self.body)
        content_type = _with_charset(ctx.render(self.content_type).strip(), options.charset)
        return Payload(_encode(text, options.charset), None, content_type, text)

    def build_request(
        self,
        ctx: RunContext,
        options: ResolvedOptions,
        client: httpx.AsyncClient,
        uri: str,
        payload: Payload,
    ) -> httpx.Request:
        """Build the request: generated headers first, the task's `headers` winning."""
        method = ctx.render(self.method).strip().upper() or "GET"
        generated: list[tuple[str, str]] = []
        if payload.content_type:
            generated.append(("Content-Type", payload.content_type))
        authorization = _authorization(options)
        if authorization:
            generated.append(("Authorization", authorization))
        headers = _merge_headers(generated, _render_map(ctx, self.headers, "headers"))
        try:
            return client.build_request(
                method, uri, headers=headers, content=payload.content, files=payload.parts
            )
        except httpx.InvalidURL as exc:
            raise HttpRequestError(f"Invalid URI '{uri}': {exc}") from exc


@register
class Request(HttpTask):
    """Send an HTTP request and return the response's code, headers and body as text."""

    TYPE = "io.kestra.plugin.core.http.Request"

    encrypt_body: Dynamic[bool] = False

    pagination: Pagination | None = None

    async def run(self, ctx: RunContext) -> Mapping[str, Any] | None:
        encrypt = resolve(ctx, self.encrypt_body, _BOOL, "encryptBody")
        options = self.resolve_options(ctx)
        if self.pagination is None:
            return _outputs(ctx, await self.fetch(ctx, options), encrypt)
        pages = await paginate(
            ctx, self.pagination, self.request_uri(ctx), partial(self.fetch, ctx, options)
        )
        outputs = _outputs(ctx, pages[-1], encrypt)
        outputs["pages"] = [_outputs(ctx, page, encrypt) for page in pages]
        outputs["pageCount"] = len(pages)
        return outputs

    async def fetch(
        self, ctx: RunContext, options: ResolvedOptions, uri: str | None = None
    ) -> Page:
        """Send the request (to `uri` instead of the task's own when given), read the answer."""
        recorder = ExchangeRecorder(ctx, options)
        async with self.exchange(ctx, options, uri, recorder) as exchange:
            remote = _remote_address(exchange.response)
            data = await read_body(exchange.response, options.max_content_length)
            recorder.body_read(len(data))
        response, code = exchange.response, exchange.response.status_code
        ctx.logger.debug(
            f"Request '{exchange.uri}' from '{remote}' with the response code '{code}'"
        )
        body = None if has_no_body(exchange.request.method, code) else _decode(data)
        log_response(ctx, options.logs, response, body)
        check_status(options, code, body)
        if body is not None:
            check_unicode(body)
        links = {
            str(rel): link["url"] for rel, link in response.links.items() if rel and "url" in link
        }
        return Page(exchange.uri, code, header_map(response.headers), body, links, recorder.uri)


def _outputs(ctx: RunContext, page: Page, encrypt: bool) -> dict[str, Any]:
    # A missing body is left out, as Kestra leaves null outputs out of their JSON.
    outputs: dict[str, Any] = {"uri": page.uri, "code": page.code, "headers": page.headers}
    if page.body is not None and encrypt:
        outputs["encryptedBody"] = encrypted_output(ctx.encrypt(page.body))
    elif page.body is not None:
        outputs["body"] = page.body
    if page.har is not None:
        outputs[HAR_OUTPUT] = page.har
    return outputs


# -- responses -----------------------------------------------------------------------------


async def read_body(response: httpx.Response, limit: int) -> bytes:
    """Read the whole (decoded) body, failing as soon as it grows beyond `limit` bytes."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    data = bytearray()
    async for chunk in response.aiter_bytes():
        data += chunk
        if len(data) > limit:
            raise _too_large(limit)
    return bytes(data)


def _too_large(limit: int) -> TaskError:
    return TaskError(
        f"Response body is too large to store in task outputs (more than {limit} bytes, see "
        "options.maxContentLength). Use the Download task to store large responses in "
        "internal storage instead."
    )


def check_status(options: ResolvedOptions, code: int, body: str | None) -> None:
    """Fail with Kestra's message when the response code is not accepted."""
    if options.accepts(code):
        return
    message = f"Failed http request with response code '{code}'"
    if body:
        message += f" and body:\n{body}"
    raise HttpResponseError(message, code)


def check_unicode(body: str) -> None:
    """Refuse a body holding an unassigned code point: it was binary, not text."""
    if body.isascii():
        return
    unassigned = [char for char in set(body) if unicodedata.category(char) == "Cn"]
    if unassigned:
        first = min(unassigned, key=body.index)
        raise TaskError(
            f"Illegal unicode code point in request body: {ord(first)}, the Request task only "
            "support valid Unicode strings as body.\nYou can try using the Download task instead."
        )


def header_map(headers: httpx.Headers) -> dict[str, list[str]]:
    """Return headers as lower-cased names to their list of values."""
    result: dict[str, list[str]] = {}
    for name, value in headers.multi_items():
        result.setdefault(name, []).append(value)
    return result


def _decode(data: bytes) -> str:
    # Kestra decodes every response as UTF-8, whatever charset the server announced.
    return data.decode("utf-8", errors="replace")


def has_no_body(method: str, code: int) -> bool:
    return method == "HEAD" or code in _NO_BODY_CODES or 100 <= code < 200


def _remote_address(response: httpx.Response) -> str:
    stream = response.extensions.get("network_stream")
    address = stream.get_extra_info("server_addr") if stream is not None else None
    if isinstance(address, tuple) and len(address) >= 2:
        return f"{address[0]}:{address[1]}"
    return "unknown"


# -- clients and errors --------------------------------------------------------------------


def _client(ctx: RunContext, options: ResolvedOptions) -> httpx.AsyncClient:
    return ctx.http.get(
        verify=options.verify,
        follow_redirects=options.follow_redirects,
        proxy=options.proxy,
        connect_timeout=_seconds(options.connect_timeout.total_seconds()),
        read_timeout=_seconds(options.read_idle_timeout.total_seconds()),
    )


def _seconds(value: float) -> float | None:
    # A zero or negative timeout means no limit, as for Java's HTTP clients.
    return value if value > 0 else None


@contextmanager
def _transport_errors(uri: str, options: ResolvedOptions) -> Iterator[None]:
    """Turn httpx's transport errors into HttpRequestError, keeping the cause's text."""
    try:
        yield
    except httpx.ConnectTimeout as exc:
        limit = format_duration(options.connect_timeout)
        cause = f"no connection within {limit} (options.timeout.connectTimeout)"
        raise HttpRequestError(f"Failed http request to '{uri}': {cause}") from exc
    except (httpx.ReadTimeout, httpx.WriteTimeout) as exc:
        limit = format_duration(options.read_idle_timeout)
        cause = f"no data for {limit} (options.timeout.readIdleTimeout)"
        raise HttpRequestError(f"Failed http request to '{uri}': {cause}") from exc
    except httpx.HTTPError as exc:
        raise HttpRequestError(f"Failed http request to '{uri}': {_cause(exc)}") from exc


def _cause(exc: BaseException) -> str:
    """Describe a transport error by its root cause: `Connection refused`, the TLS problem..."""
    for error in _chain(exc):
        if isinstance(error, ssl.SSLError):
            return str(error)
        if isinstance(error, socket.gaierror):
            return str(error.strerror)
        if isinstance(error, OSError) and error.errno is not None and error.errno > 0:
            return os.strerror(error.errno)
    return str(exc) or type(exc).__name__


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """Yield an exception and the ones behind it, the outermost first."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _digest(options: ResolvedOptions) -> httpx.Auth | None:
    auth = options.auth
    if auth is None or auth.kind != "DIGEST":
        return None
    return httpx.DigestAuth(auth.username, auth.password)


def _authorization(options: ResolvedOptions) -> str | None:
    """Return the pre-emptive Authorization header of BASIC and BEARER auth."""
    auth = options.auth
    if auth is None:
        return None
    if auth.kind == "BASIC":
        token = base64.b64encode(f"{auth.username}:{auth.password}".encode()).decode("ascii")
        return f"Basic {token}"
    if auth.kind == "BEARER":
        return f"Bearer {auth.token}"
    return None


# -- rendering maps, headers and bodies -----------------------------------------------------


def _render_map(ctx: RunContext, value: dict[str, Any] | Expr | None, name: str) -> dict[str, Any]:
    """Render a map property written either as a map or as one expression giving a map."""
    if value is None:
        return {}
    if not isinstance(value, Expr):
        rendered: dict[str, Any] = ctx.render_value(value)
        return rendered
    result = ctx.render_typed(value)
    if isinstance(result, str) and result.strip():
        try:
            result = json.loads(result)
        except ValueError as exc:
            raise TaskError(f"'{name}' must render to a map, got: {result}") from exc
    if result is None or result == "":
        return {}
    if not isinstance(result, Mapping):
        raise TaskError(f"'{name}' must render to a map, got: {to_text(result)}")
    return {str(key): item for key, item in result.items()}


def _query_pairs(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Flatten params to pairs, a list value repeating its key."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        values = value if isinstance(value, list | tuple) else [value]
        pairs.extend((key, to_text(item)) for item in values)
    return pairs


def _merge_headers(generated: list[tuple[str, str]], user: Mapping[str, Any]) -> httpx.Headers:
    """Merge headers: a user header replaces generated ones of the same name, any case."""
    overridden = {name.lower() for name in user}
    items: list[tuple[bytes, bytes]] = [
        (name.encode(), value.encode())
        for name, value in generated
        if name.lower() not in overridden
    ]
    for name, value in user.items():
        values = value if isinstance(value, list | tuple) else [value]
        # Encoded here so non-ASCII values are sent as UTF-8 rather than rejected.
        items.extend((str(name).encode(), to_text(item).encode()) for item in values)
    try:
        return httpx.Headers(items)
    except (UnicodeEncodeError, ValueError) as exc:
        raise TaskError(f"Invalid header in 'headers': {exc}") from exc


def _with_charset(content_type: str, charset: str | None) -> str:
    """Append `; charset=...` unless there is no charset or the type names one already."""
    if not content_type or charset is None or "charset=" in content_type.lower():
        return content_type
    return f"{content_type}; charset={charset}"


def _encode(text: str, charset: str | None) -> bytes:
    try:
        return text.encode(charset or "utf-8")
    except UnicodeEncodeError as exc:
        raise TaskError(f"The body cannot be encoded in {charset}: {exc}") from exc


def _urlencoded(form: Mapping[str, Any], charset: str | None) -> Payload:
    # UTF-8 whatever `defaultCharset` says: Kestra's ISO-8859-1 mangles non-Latin text.
    text = urlencode(_query_pairs(form))
    content_type = URLENCODED if charset is None else f"{URLENCODED}; charset=UTF-8"
    return Payload(text.encode("utf-8"), None, content_type, text)


async def _multipart(ctx: RunContext, form: Mapping[str, Any], files: AsyncExitStack) -> Payload:
    """Build multipart parts in order: storage files as file parts, the rest as text."""
    parts: list[tuple[str, FilePart]] = []
    for key, value in form.items():
        parts.append((key, await _part(ctx, key, value, files)))
    names = ", ".join(f"{key}={part[0]}" if part[0] else key for key, part in parts)
    return Payload(None, parts, None, f"<{MULTIPART}: {names}>")


async def _part(ctx: RunContext, key: str, value: Any, files: AsyncExitStack) -> FilePart:
    if isinstance(value, str) and value.startswith(SCHEME):
        return await _file_part(ctx, value, value.rsplit("/", 1)[-1], files)
    if isinstance(value, Mapping) and "name" in value and "content" in value:
        content = to_text(value["content"])
        if not content.startswith(SCHEME):
            raise TaskError(f"formData.{key}.content must be a {SCHEME} URI, got '{content}'")
        return await _file_part(ctx, content, to_text(value["name"]), files)
    return (None, to_text(value).encode(), "text/plain; charset=UTF-8")


async def _file_part(ctx: RunContext, uri: str, name: str, files: AsyncExitStack) -> FilePart:
    """Open a storage file for streaming; the stack closes it after the request."""
    storage = ctx.storage
    try:
        handle = files.enter_context(await run_storage(storage, _readable, storage, uri))
    except NotFoundError:
        raise TaskError(f"Unable to read file '{uri}': there is no such file") from None
    except (OSError, ValueError) as exc:
        raise TaskError(f"Unable to read file '{uri}': {exc}") from exc
    return (name, handle, "application/octet-stream")


def _readable(storage: Storage, uri: str) -> IO[bytes]:
    """Open a storage file that httpx may read on the event loop: the file itself on a quick
    storage; on a remote one, a local temporary copy made here (in a thread), since httpx
    reads a multipart body chunk by chunk on the event loop and each read of a remote file
    may be a round trip. The copy lives on disk, not in memory, whatever the file's size."""
    if storage.quick_io:
        return storage.open_read(uri)
    with ExitStack() as on_failure:
        copy = on_failure.enter_context(tempfile.TemporaryFile())
        with storage.open_read(uri) as source:
            shutil.copyfileobj(source, copy, CHUNK)
        copy.seek(0)
        on_failure.pop_all()  # kept open: the request's stack closes it
    return copy


# -- logs ----------------------------------------------------------------------------------


def _log_request(
    ctx: RunContext, logs: frozenset[LogType], request: httpx.Request, payload: Payload
) -> None:
    if LogType.REQUEST_HEADERS in logs:
        ctx.logger.debug(f"request:\n    method: {request.method}\n    uri: {request.url}")
        ctx.logger.debug(_headers_entry("request", request.headers))
    if LogType.REQUEST_BODY in logs:
        ctx.logger.trace(_payload_entry("request", payload.description))


def log_response(
    ctx: RunContext, logs: frozenset[LogType], response: httpx.Response, body: str | None
) -> None:
    if LogType.RESPONSE_HEADERS in logs:
        status = f"{response.status_code} {response.reason_phrase}".strip()
        ctx.logger.debug(f"response:\n    status: {status}")
        ctx.logger.debug(_headers_entry("response", response.headers))
    if LogType.RESPONSE_BODY in logs:
        ctx.logger.trace(_payload_entry("response", body))


def _headers_entry(kind: str, headers: httpx.Headers) -> str:
    lines = [
        f"{name.decode('latin-1')}: {_shown_value(name, value)}" for name, value in headers.raw
    ]
    if not lines:
        return f"{kind} headers: null"
    return f"{kind} headers:\n    " + "\n    ".join(lines)


def _shown_value(name: bytes, value: bytes) -> str:
    """Return a header value for the logs, credentials hidden."""
    return masked_header(name.decode("latin-1"), value.decode("utf-8", errors="replace"))


def _payload_entry(kind: str, text: str | None) -> str:
    if text is None:
        return f"{kind} payload: null"
    return f"{kind} payload:\n    {text}"
