"""Recording of a Request task's HTTP exchange as a HAR 1.2 file in internal storage.

The task attaches an `ExchangeRecorder` to the request before sending it: httpcore reports each
step (connect, TLS, send, response headers, body) to the recorder through the request's `trace`
extension. When the exchange ends, read to its end or failed, the recorder writes every request
sent (redirects and authentication challenges included, each an entry) as one HAR log,
`exchange.har` in the task run's storage folder, and the task links it from its outputs under
`har`. The file is written on failure too, at the same place, so a failed run can be inspected.

Nothing secret reaches the file: `Authorization` and `Proxy-Authorization` keep only their
scheme, URL and proxy passwords are replaced, and every string goes through the run's masker
(the values of `secret()` and SECRET inputs) and through one of the task's own credentials.
Request bodies are kept as a preview (the first `PREVIEW_BYTES`); response bodies only by size.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from http.cookies import CookieError, SimpleCookie
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx

from lanner.clock import utcnow
from lanner.context import MASK, Masker, millis_iso
from lanner.httpclient import USER_AGENT
from lanner.storage import run_storage, task_prefix
from lanner.tasks.exchange_timings import Event, Hop, event_name, har_timings, split_hops
from lanner.tasks.exchange_timings import total_time as har_total
from lanner.tasks.http_options import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_READ_IDLE_TIMEOUT,
    ResolvedOptions,
)

if TYPE_CHECKING:
    from lanner.context import RunContext
    from lanner.executions import Execution, TaskRun
    from lanner.tasks.http import Payload

HAR_OUTPUT = "har"
"""The extra output key of the Request task: the `kestra://` URI of its HAR file."""
HAR_NAME = "exchange.har"
PREVIEW_BYTES = 64 * 1024
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization"})
# Headers the transport writes for every request, whatever the task says.
_TRANSPORT_HEADERS = frozenset({"host", "content-length", "transfer-encoding"})
_URLENCODED = "application/x-www-form-urlencoded"
# Compact: the C encoder writes it, about ten times faster than an indented dump. One encoder
# for every file, as `json.dumps` with options would build one per call.
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def masked_header(name: str, value: str) -> str:
    """Return a header value fit to show: credentials headers keep only their scheme."""
    if name.lower() not in SECRET_HEADERS:
        return value
    scheme = value.split(" ", 1)[0] if " " in value else ""
    return f"{scheme} {MASK}".strip()


def masked_url(url: str) -> str:
    """Replace the password of a URL's user info (`http://user:********@host/`)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    userinfo, _, host = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{host}"))


def har_uri(execution: Execution, run: TaskRun) -> str:
    """Return where the HAR file of a task run is kept: in its folder (`RunContext.folder`)."""
    folder = task_prefix(execution.namespace, execution.flow_id, execution.id, run.task_id, run.id)
    return f"kestra://{folder}/{HAR_NAME}"


class ExchangeRecorder:
    """Collects one Request task run's exchange and writes it as a HAR file."""

    def __init__(self, ctx: RunContext, options: ResolvedOptions) -> None:
        self._ctx = ctx
        self._options = options
        self._credentials = _credentials(options)
        self._events: list[Event] = []
        self._started_at = utcnow()
        self._started = time.perf_counter()
        self._request: httpx.Request | None = None
        self._payload: Payload | None = None
        self._defaults: httpx.Headers = httpx.Headers()
        self._response: httpx.Response | None = None
        self._body_size: int | None = None
        self.uri: str | None = None

    def attach(self, request: httpx.Request, payload: Payload, defaults: httpx.Headers) -> None:
        """Follow a request about to be sent; `defaults` are the client's own headers."""
        request.extensions["trace"] = self._trace
        self._request, self._payload, self._defaults = request, payload, defaults
        self._started_at, self._started = utcnow(), time.perf_counter()

    async def _trace(self, name: str, info: Mapping[str, Any]) -> None:
        self._events.append(Event(event_name(name), time.perf_counter()))

    def received(self, response: httpx.Response) -> None:
        self._response = response

    def body_read(self, size: int) -> None:
        """Note the size of the response body once decoded."""
        self._body_size = size

    @asynccontextmanager
    async def saved(self) -> AsyncIterator[None]:
        """Write the HAR file when the block ends, whether the exchange succeeded or not
        (cancelled too: the write, once started, ends even if the task is cancelled again)."""
        error: BaseException | None = None
        try:
            yield
        except BaseException as exc:
            error = exc
            raise
        finally:
            await self._save(error)

    async def _save(self, error: BaseException | None) -> None:
        document = self.document(error)
        mask_document(document, self._string_mask())
        data = _JSON.encode(document).encode("utf-8")
        storage = self._ctx.storage
        # Inline on a local storage; in a thread on a remote one, whose write is a round trip.
        self.uri = await run_storage(storage, storage.put, self._ctx.folder(), HAR_NAME, data)

    # -- the HAR document ----------------------------------------------------------------------

    def document(self, error: BaseException | None) -> dict[str, Any]:
        """Return the HAR log of the exchange, not yet masked."""
        run = self._ctx.task_run
        return {
            "log": {
                "version": "1.2",
                "creator": {"name": "lanner", "version": USER_AGENT.partition("/")[2]},
                "comment": f"task '{run.task_id}', task run {run.id}",
                "_options": self._options_record(),
                "entries": self._entries(error),
            }
        }

    def _entries(self, error: BaseException | None) -> list[dict[str, Any]]:
        until = time.perf_counter()
        hops = split_hops(self._events)
        responses = [*self._response.history, self._response] if self._response else []
        entries: list[dict[str, Any]] = []
        since = self._started
        for index, response in enumerate(responses):
            hop = hops[index] if index < len(hops) else {}
            last = index == len(responses) - 1
            entry = self._entry(response.request, hop, since, until)
            entry["response"] = self._response_record(response, last)
            entries.append(entry)
            since = max(hop.values(), default=since)
        if not responses and self._request is not None:
            entries.append(self._failed_entry(self._request, hops, since, until))
        if error is not None and entries:
            entries[-1]["_error"] = str(error) or type(error).__name__
        return entries

    def _failed_entry(
        self, request: httpx.Request, hops: list[Hop], since: float, until: float
    ) -> dict[str, Any]:
        entry = self._entry(request, hops[-1] if hops else {}, since, until)
        entry["response"] = _no_response()
        return entry

    def _entry(
        self, request: httpx.Request, hop: Hop, since: float, until: float
    ) -> dict[str, Any]:
        timings = har_timings(hop, since, until)
        started = self._started_at.timestamp() + (min(hop.values(), default=since) - self._started)
        return {
            "startedDateTime": millis_iso(datetime.fromtimestamp(started, UTC)),
            "time": har_total(timings),
            "request": self._request_record(request),
            "response": _no_response(),
            "cache": {},
            "timings": timings,
        }

    def _request_record(self, request: httpx.Request) -> dict[str, Any]:
        record: dict[str, Any] = {
            "method": request.method,
            "url": str(request.url),
            "httpVersion": "HTTP/1.1",
            "cookies": _request_cookies(request.headers),
            "headers": self._request_headers(request.headers),
            "queryString": [
                {"name": name, "value": value} for name, value in request.url.params.multi_items()
            ],
            "headersSize": -1,
            "bodySize": -1,
        }
        if self._payload is not None and _has_body(request, self._payload):
            record["postData"], record["bodySize"] = _post_data(self._payload, request)
        return record

    def _request_headers(self, headers: httpx.Headers) -> list[dict[str, Any]]:
        records = []
        # Looked up once per name below, rather than scanning both header lists each time.
        defaults = dict(self._defaults.items())
        names = _display_names(headers)
        for name, value in headers.multi_items():
            record: dict[str, Any] = {"name": names.get(name, name), "value": value}
            if name in _TRANSPORT_HEADERS or defaults.get(name) == value:
                # Marks what the task did not ask for, so a cURL export can leave it out.
                record["_generated"] = True
            records.append(record)
        return records

    def _response_record(self, response: httpx.Response, last: bool) -> dict[str, Any]:
        size = self._body_size if last else _read_size(response)
        location = response.headers.get("location", "")
        return {
            "status": response.status_code,
            "statusText": response.reason_phrase,
            "httpVersion": response.http_version,
            "cookies": _response_cookies(response.headers),
            "headers": _headers(response.headers),
            "content": {
                "size": size if size is not None else -1,
                "mimeType": response.headers.get("content-type", ""),
            },
            "redirectURL": str(response.url.join(location)) if location else "",
            "headersSize": -1,
            "bodySize": response.num_bytes_downloaded,
        }

    def _options_record(self) -> dict[str, Any]:
        """What the request's client settings were: what a cURL command needs besides it."""
        options = self._options
        auth = options.auth
        timeout = self._ctx.duration(self._ctx.task.timeout)
        return {
            "followRedirects": options.follow_redirects,
            "insecure": not options.verify,
            "proxy": masked_url(options.proxy) if options.proxy else None,
            "connectTimeout": _seconds_unless(options.connect_timeout, DEFAULT_CONNECT_TIMEOUT),
            "readIdleTimeout": _seconds_unless(
                options.read_idle_timeout, DEFAULT_READ_IDLE_TIMEOUT
            ),
            "maxTime": timeout.total_seconds() if timeout is not None else None,
            "auth": {"type": auth.kind, "username": auth.username} if auth else None,
        }

    def _string_mask(self) -> Callable[[str], str] | None:
        """Return what masks a string of the document: the task's credentials then the run's
        secrets; None when both are empty, every string then being left as it is."""
        credentials, masker = self._credentials, self._ctx.masker
        if credentials.empty and masker.empty:
            return None
        return lambda text: masker.mask(credentials.mask(text))


def mask_document(value: Any, mask: Callable[[str], str] | None) -> None:
    """Mask every string of a document's dicts and lists, then credentials headers (a dict
    with a `name` and a string `value`) and URL passwords (a dict's string `url`); `mask`
    None leaves strings as they are. Header credentials were already masked where read."""
    if isinstance(value, dict):
        # Assigning to keys already there: the dict does not change size while iterated.
        _mask_items(value, value.items(), mask)
        if "name" in value and isinstance(value.get("value"), str):
            value["value"] = masked_header(str(value["name"]), value["value"])
        if isinstance(value.get("url"), str):
            value["url"] = masked_url(value["url"])
    elif isinstance(value, list):
        _mask_items(value, enumerate(value), mask)


def _mask_items(
    container: Any, items: Iterable[tuple[Any, Any]], mask: Callable[[str], str] | None
) -> None:
    """Mask the strings among `items` (keys or indexes of `container`) in place; go into the
    dicts and lists among them."""
    for key, item in items:
        if isinstance(item, str):
            if mask is not None:
                container[key] = mask(item)
        elif isinstance(item, dict | list):
            mask_document(item, mask)


def _credentials(options: ResolvedOptions) -> Masker:
    """Return a masker of the task's own credentials: passwords, tokens."""
    masker = Masker()
    if options.auth is not None:
        masker.add(options.auth.password)
        masker.add(options.auth.token)
    if options.proxy:
        password = httpx.URL(options.proxy).password
        masker.add(password)
    return masker


def _seconds_unless(value: timedelta, default: timedelta) -> float | None:
    """Return a duration in seconds, or None when it is lanner's default."""
    return None if value == default else value.total_seconds()


def _no_response() -> dict[str, Any]:
    """HAR's response of a request that got none: status 0, as browsers record it."""
    return {
        "status": 0,
        "statusText": "",
        "httpVersion": "",
        "cookies": [],
        "headers": [],
        "content": {"size": 0, "mimeType": "x-unknown"},
        "redirectURL": "",
        "headersSize": -1,
        "bodySize": -1,
    }


def _display_names(headers: httpx.Headers) -> dict[str, str]:
    """Return each header's name as first written, by its lower-case name (httpx keeps the
    original case in `raw`)."""
    names: dict[str, str] = {}
    for raw, _ in headers.raw:
        name = raw.decode("latin-1")
        names.setdefault(name.lower(), name)
    return names


def _headers(headers: httpx.Headers) -> list[dict[str, str]]:
    return [
        {"name": name.decode("latin-1"), "value": value.decode("utf-8", errors="replace")}
        for name, value in headers.raw
    ]


def _has_body(request: httpx.Request, payload: Payload) -> bool:
    """Say whether this request carried the task's body (a redirect may drop it)."""
    sent = "content-length" in request.headers or "transfer-encoding" in request.headers
    return sent and (payload.content is not None or payload.parts is not None)


def _read_size(response: httpx.Response) -> int | None:
    """Return the size of a body httpx read itself (a redirect's, a challenge's)."""
    try:
        return len(response.content)
    except httpx.ResponseNotRead:
        return None


def _post_data(payload: Payload, request: httpx.Request) -> tuple[dict[str, Any], int]:
    """Return HAR's `postData` (a preview of the body, or its parameters) and the body size."""
    mime = request.headers.get("content-type", "")
    size = int(request.headers.get("content-length", "-1"))
    if payload.parts is not None:
        return {"mimeType": mime, "params": _multipart_params(payload)}, size
    content = payload.content or b""
    if mime.lower().startswith(_URLENCODED):
        text = content.decode("utf-8", errors="replace")
        pairs = parse_qsl(text, keep_blank_values=True)
        params = [{"name": name, "value": value} for name, value in pairs]
        return {"mimeType": mime, "params": params, "text": text}, size
    post: dict[str, Any] = {
        "mimeType": mime,
        "text": content[:PREVIEW_BYTES].decode("utf-8", errors="replace"),
    }
    if len(content) > PREVIEW_BYTES:
        post["_truncated"] = True
        post["comment"] = f"the first {PREVIEW_BYTES} of {len(content)} bytes"
    return post, size


def _multipart_params(payload: Payload) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = []
    for name, (file_name, content, content_type) in payload.parts or []:
        if file_name is None and isinstance(content, bytes):
            value = content[:PREVIEW_BYTES].decode("utf-8", errors="replace")
            params.append({"name": name, "value": value})
        else:
            params.append({"name": name, "fileName": file_name or "", "contentType": content_type})
    return params


def _request_cookies(headers: httpx.Headers) -> list[dict[str, str]]:
    cookies = []
    for header in headers.get_list("cookie"):
        for pair in header.split(";"):
            name, equals, value = pair.strip().partition("=")
            if equals:
                cookies.append({"name": name, "value": value})
    return cookies


def _response_cookies(headers: httpx.Headers) -> list[dict[str, str]]:
    cookies: list[dict[str, str]] = []
    for header in headers.get_list("set-cookie"):
        parsed: SimpleCookie = SimpleCookie()
        try:
            parsed.load(header)
        except CookieError:
            continue
        cookies.extend({"name": name, "value": morsel.value} for name, morsel in parsed.items())
    return cookies
