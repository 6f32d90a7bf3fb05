"""httpcore's network layer on plain asyncio, for lanner's HTTP clients.

httpx's transports reach the network through httpcore's default backend, which runs on anyio:
every read and write opens a cancel scope with a deadline, and every look at an idle pooled
connection builds anyio's typed attributes. For a worker sending thousands of small requests
that machinery was a large share of the CPU a request costs. The backend here keeps httpcore's
contract with an asyncio Protocol per connection instead: received bytes wait in the protocol
until httpcore reads them, a read that finds bytes waiting returns them without any timer, and
a read that has to wait arms one plain loop timer for its timeout.

`NetworkTransport` is httpx's own transport with its connection pool built on this backend.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any, Final

import httpcore
import httpx
from httpcore._utils import is_socket_readable

SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)

_PAUSE_READING_AT: Final = 256 * 1024
"""Bytes received and not read yet past which the connection stops reading from its socket
(a slow consumer of a large body must not pull all of it into memory)."""

_RESUME_READING_AT: Final = 64 * 1024

_HANDSHAKE_LIMIT: Final = 24 * 3600.0
"""asyncio gives up a TLS handshake after 60 s unless told otherwise; the caller's connect
timeout bounds it here instead (None waits as long as the server takes, as anyio does)."""

_HAPPY_EYEBALLS_DELAY: Final = 0.25
"""Try the next address of a host after this long, as anyio's connect_tcp does."""


def _finish(waiter: asyncio.Future[bool] | None, result: bool) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(result)


class _Connection(asyncio.Protocol):
    """The state of one connection: bytes received and not yet read, EOF, loss, flow control.

    A waiter future is finished with True when what it waits for happened, and with False by
    the waiter's own timer; a cancelled waiter therefore always means the task was cancelled.
    """

    __slots__ = (
        "buffered",
        "chunks",
        "eof",
        "error",
        "lost",
        "offset",
        "read_waiter",
        "reading_paused",
        "tls",
        "transport",
        "write_waiter",
        "writing_paused",
    )

    def __init__(self, tls: bool = False) -> None:
        self.transport: asyncio.Transport | None = None
        self.chunks: deque[bytes] = deque()
        self.offset = 0
        """How much of the first chunk was read already."""
        self.buffered = 0
        """Bytes received and not read yet."""
        self.eof = False
        self.lost = False
        self.error: Exception | None = None
        self.tls = tls
        self.reading_paused = False
        self.writing_paused = False
        self.read_waiter: asyncio.Future[bool] | None = None
        self.write_waiter: asyncio.Future[bool] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)
        self.buffered += len(data)
        _finish(self.read_waiter, True)
        transport = self.transport
        if (
            self.buffered > _PAUSE_READING_AT
            and not self.reading_paused
            and transport is not None
            and not transport.is_closing()
        ):
            self.reading_paused = True
            transport.pause_reading()

    def eof_received(self) -> bool:
        self.eof = True
        _finish(self.read_waiter, True)
        # Keep a plain TCP connection open for writing after the peer's EOF, as anyio does
        # (a server may stop sending before it has read the whole request). asyncio ignores
        # the answer for TLS, and warns if it is True.
        return not self.tls

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.error = exc
        _finish(self.read_waiter, True)
        _finish(self.write_waiter, True)

    def pause_writing(self) -> None:
        self.writing_paused = True

    def resume_writing(self) -> None:
        self.writing_paused = False
        _finish(self.write_waiter, True)

    def take(self, max_bytes: int) -> bytes:
        """Return up to `max_bytes` of the bytes received (some must be waiting)."""
        chunk = self.chunks[0]
        start = self.offset
        end = start + max_bytes
        if end >= len(chunk):
            self.chunks.popleft()
            self.offset = 0
            data = chunk if start == 0 else chunk[start:]
        else:
            self.offset = end
            data = chunk[start:end]
        self.buffered -= len(data)
        if self.reading_paused and self.buffered <= _RESUME_READING_AT:
            self.reading_paused = False
            transport = self.transport
            if transport is not None and not transport.is_closing():
                transport.resume_reading()
        return data

    async def wait(self, reading: bool, timeout: float | None) -> bool:
        """Wait for bytes, EOF or loss (`reading`) or for room to write; False if timed out."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[bool] = loop.create_future()
        timer = None if timeout is None else loop.call_later(timeout, _finish, waiter, False)
        if reading:
            self.read_waiter = waiter
        else:
            self.write_waiter = waiter
        try:
            return await waiter
        finally:
            if reading:
                self.read_waiter = None
            else:
                self.write_waiter = None
            if timer is not None:
                timer.cancel()


class AsyncioStream(httpcore.AsyncNetworkStream):
    """One connection, plain or TLS, as httpcore reads and writes it."""

    def __init__(
        self,
        transport: asyncio.Transport,
        connection: _Connection,
        socket_transport: asyncio.BaseTransport | None = None,
    ) -> None:
        self._transport = transport
        self._connection = connection
        self._socket_transport = socket_transport or transport
        """The transport on the socket itself, below any TLS: it keeps the socket's addresses
        after the connection is closed (a TLS transport forgets them)."""
        self._closed = False
        """Closed by `aclose`, or handed over to the stream `start_tls` returned."""

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        connection = self._connection
        if self._closed:
            raise httpcore.ReadError("the connection is closed")
        if connection.buffered:
            return connection.take(max_bytes)
        if not (connection.eof or connection.lost):
            if not await connection.wait(True, timeout):
                raise httpcore.ReadTimeout("timed out reading from the server")
            if connection.buffered:
                return connection.take(max_bytes)
        error = connection.error
        if error is not None and not connection.eof:
            raise httpcore.ReadError(str(error) or repr(error))
        return b""

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        connection = self._connection
        if self._closed or connection.lost or self._transport.is_closing():
            raise httpcore.WriteError("the connection is closed")
        self._transport.write(buffer)
        if connection.writing_paused and not connection.lost:
            # The transport holds more than its high-water mark: let the peer take some of it.
            if not await connection.wait(False, timeout):
                raise httpcore.WriteTimeout("timed out writing to the server")
            if connection.lost:
                raise httpcore.WriteError("the connection was lost while writing")

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            # Nothing is waited for: unsent bytes are dropped and TLS sends no close_notify,
            # as with httpcore's own backend.
            self._transport.abort()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        if self._closed:
            raise httpcore.ConnectError("the connection is closed")
        # From here on this stream is done with: the socket belongs to the TLS transport.
        self._closed = True
        loop = asyncio.get_running_loop()
        connection = _Connection(tls=True)
        try:
            async with asyncio.timeout(timeout):
                transport = await loop.start_tls(
                    self._transport,
                    connection,
                    ssl_context,
                    server_hostname=server_hostname,
                    ssl_handshake_timeout=_HANDSHAKE_LIMIT,
                )
        # asyncio closes the connection when the handshake fails or is cancelled.
        except TimeoutError as exc:  # before OSError: it is one
            raise httpcore.ConnectTimeout("timed out in the TLS handshake") from exc
        except OSError as exc:  # ssl.SSLError included
            raise httpcore.ConnectError(str(exc) or repr(exc)) from exc
        if transport is None:  # pragma: no cover - asyncio returns None for no transport here
            self._transport.abort()
            raise httpcore.ConnectError("the TLS handshake did not complete")
        connection.transport = transport
        return AsyncioStream(transport, connection, self._socket_transport)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            # An idle connection that has something to read has been closed by the server (or
            # sent what it should not have): the pool drops it. The loop usually has taken the
            # bytes or the EOF off the socket already; the socket tells about what it has not.
            connection = self._connection
            return (
                self._closed
                or connection.buffered > 0
                or connection.eof
                or connection.lost
                or self._transport.is_closing()
                or is_socket_readable(self._socket_transport.get_extra_info("socket"))
            )
        if info == "ssl_object":
            return self._transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._socket_transport.get_extra_info("sockname")
        if info == "server_addr":
            return self._socket_transport.get_extra_info("peername")
        if info == "socket":
            return self._socket_transport.get_extra_info("socket")
        return None


@contextlib.contextmanager
def _connecting(where: str) -> Iterator[None]:
    """Turn a failed connect into httpcore's errors, as httpx expects them."""
    try:
        yield
    except TimeoutError as exc:  # before OSError: it is one
        raise httpcore.ConnectTimeout(f"timed out connecting to {where}") from exc
    except OSError as exc:
        raise httpcore.ConnectError(str(exc) or repr(exc)) from exc


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """Open connections with the running event loop."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        with _connecting(f"{host}:{port}"):
            async with asyncio.timeout(timeout):
                transport, connection = await loop.create_connection(
                    _Connection,
                    host,
                    port,
                    local_addr=None if local_address is None else (local_address, 0),
                    happy_eyeballs_delay=_HAPPY_EYEBALLS_DELAY,
                )
        return _configured(transport, connection, socket_options)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        with _connecting(path):
            async with asyncio.timeout(timeout):
                transport, connection = await loop.create_unix_connection(_Connection, path)
        return _configured(transport, connection, socket_options)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def _configured(
    transport: asyncio.Transport,
    connection: _Connection,
    socket_options: Iterable[SocketOption] | None,
) -> AsyncioStream:
    """Apply the socket options to a new connection, as httpcore's backends do: once connected."""
    if socket_options:
        sock = transport.get_extra_info("socket")
        try:
            for option in socket_options:
                sock.setsockopt(*option)
        except OSError as exc:
            transport.abort()
            raise httpcore.ConnectError(str(exc) or repr(exc)) from exc
    return AsyncioStream(transport, connection)


BACKEND: Final = AsyncioBackend()
"""The backend holds no state: every transport shares this one."""


class NetworkTransport(httpx.AsyncHTTPTransport):
    """httpx's transport for HTTP/1.1, with its connections on `AsyncioBackend`.

    httpx takes no network backend, so the httpcore pool it builds is replaced by one built the
    same way with `network_backend=`. Everything else stays httpx's: mapping httpcore's errors
    to httpx's, wrapping response bodies, closing. httpx's constructor still runs first so that
    it validates the proxy exactly as usual and sets up whatever else it may set up.
    """

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext,
        limits: httpx.Limits,
        proxy: str | None = None,
        backend: httpcore.AsyncNetworkBackend = BACKEND,
    ) -> None:
        super().__init__(
            verify=ssl_context, limits=limits, http2=False, proxy=proxy, trust_env=False
        )
        # The only private name used: the pool httpx's handle_async_request and aclose talk to.
        if not isinstance(getattr(self, "_pool", None), httpcore.AsyncConnectionPool):
            raise RuntimeError("httpx.AsyncHTTPTransport no longer keeps its pool in `_pool`")
        self._pool = _pool(ssl_context, limits, proxy, backend)


def _pool(
    ssl_context: ssl.SSLContext,
    limits: httpx.Limits,
    proxy_url: str | None,
    backend: httpcore.AsyncNetworkBackend,
) -> httpcore.AsyncConnectionPool:
    """Build the pool httpx.AsyncHTTPTransport builds (HTTP/1.1 only, no retries), on `backend`."""
    if proxy_url is None:
        return httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=False,
            retries=0,
            network_backend=backend,
        )
    # httpx.Proxy takes credentials out of the URL into `auth`, as httpx's transport uses them.
    proxy = httpx.Proxy(url=proxy_url)
    url = httpcore.URL(
        scheme=proxy.url.raw_scheme,
        host=proxy.url.raw_host,
        port=proxy.url.port,
        target=proxy.url.raw_path,
    )
    if proxy.url.scheme in ("http", "https"):
        return httpcore.AsyncHTTPProxy(
            proxy_url=url,
            proxy_auth=proxy.raw_auth,
            proxy_headers=proxy.headers.raw,
            ssl_context=ssl_context,
            proxy_ssl_context=proxy.ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=False,
            network_backend=backend,
        )
    if proxy.url.scheme in ("socks5", "socks5h"):
        return httpcore.AsyncSOCKSProxy(
            proxy_url=url,
            proxy_auth=proxy.raw_auth,
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=False,
            network_backend=backend,
        )
    raise ValueError(f"unsupported proxy scheme {proxy.url.scheme!r}")  # httpx raised first
