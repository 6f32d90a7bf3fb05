"""lanner's asyncio network backend for httpcore, against real sockets on 127.0.0.1.

Where httpx's own backend (httpcore on anyio) is the reference, the same scenario runs through
both transports and must end the same way.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpcore
import httpx
import pytest

from lanner.http_network import BACKEND, AsyncioStream, NetworkTransport
from lanner.httpclient import ClientPool
from tests.httpservers import self_signed_context
from tests.socks5 import Socks5Proxy

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
MIB = 1024 * 1024


class Peer:
    """A TCP server on 127.0.0.1 running `handler` for each connection it accepts."""

    def __init__(self, handler: Handler, server: asyncio.Server, scheme: str) -> None:
        self.handler = handler
        self.server = server
        self.scheme = scheme
        self.connections = 0
        self.closed = asyncio.Event()
        """Set each time the server side closes a connection."""

    @property
    def port(self) -> int:
        port: int = self.server.sockets[0].getsockname()[1]
        return port

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"


@asynccontextmanager
async def serving(handler: Handler, tls: ssl.SSLContext | None = None) -> AsyncIterator[Peer]:
    handlers: set[asyncio.Task[None]] = set()
    peer: Peer

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer.connections += 1
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        try:
            await handler(reader, writer)
        # A cancellation is the server's end: asyncio would log it as a handler's failure.
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, asyncio.CancelledError):
            writer.transport.abort()
        finally:
            handlers.discard(task)
            writer.close()
            peer.closed.set()

    server = await asyncio.start_server(accept, "127.0.0.1", 0, ssl=tls)
    peer = Peer(handler, server, "https" if tls else "http")
    try:
        yield peer
    finally:
        server.close()
        for task in list(handlers):
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        await server.wait_closed()


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """Read one request; return its body (sent with Content-Length)."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return await reader.readexactly(length) if length else b""


def response(body: bytes, *extra: bytes) -> bytes:
    head = [b"HTTP/1.1 200 OK", b"Content-Length: " + str(len(body)).encode(), *extra]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer each request with its own body, or with `hello` when it has none."""
    while True:
        body = await read_request(reader)
        writer.write(response(body or b"hello"))
        await writer.drain()


async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Read whatever comes and never answer."""
    while await reader.read(65536):
        pass


async def not_reading(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Never read: what the client sends fills the socket buffers."""
    await asyncio.sleep(3600)


async def cut_short(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Promise 100 bytes, send 10, close."""
    await read_request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
    await writer.drain()


async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Send half a response, then reset the connection."""
    await read_request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
    await writer.drain()
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    writer.transport.abort()


async def once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer one request, keep-alive as far as the client knows, then close."""
    await read_request(reader)
    writer.write(response(b"once"))
    await writer.drain()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, Path]:
    """A server context with a self-signed certificate for 127.0.0.1, and that certificate."""
    directory = tmp_path_factory.mktemp("tls")
    return self_signed_context(directory), directory / "cert.pem"


def transport(
    backend: str, ssl_context: ssl.SSLContext | None = None, proxy: str | None = None
) -> httpx.AsyncHTTPTransport:
    """httpx's transport on httpx's own backend ("anyio") or on lanner's ("asyncio")."""
    context = ssl_context or httpx.create_ssl_context(trust_env=False)
    limits = httpx.Limits(max_connections=8, max_keepalive_connections=8)
    if backend == "anyio":
        return httpx.AsyncHTTPTransport(verify=context, limits=limits, trust_env=False, proxy=proxy)
    return NetworkTransport(ssl_context=context, limits=limits, proxy=proxy)


@pytest.fixture(params=["anyio", "asyncio"])
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
async def client(backend: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=transport(backend), trust_env=False) as client:
        yield client


# -- through a ClientPool client ----------------------------------------------------------------


async def test_clientpool_get_reuses_its_connection() -> None:
    async with serving(echo) as peer, ClientPool() as pool:
        client = pool.get()
        first = await client.get(peer.url)
        second = await client.post(peer.url, content=b"again")
        assert (first.status_code, first.content) == (200, b"hello")
        assert second.content == b"again"
        assert isinstance(first.extensions["network_stream"], AsyncioStream)
        assert peer.connections == 1


async def test_clientpool_read_timeout() -> None:
    async with serving(silent) as peer, ClientPool() as pool:
        with pytest.raises(httpx.ReadTimeout):
            await pool.get(read_timeout=0.2).get(peer.url)


async def test_cancelling_a_request_in_flight_is_a_cancellation_not_a_timeout() -> None:
    async with serving(silent) as peer, ClientPool() as pool:
        client = pool.get(read_timeout=0.3)
        request = asyncio.ensure_future(client.get(peer.url))
        await asyncio.sleep(0.1)
        request.cancel()
        with pytest.raises(asyncio.CancelledError):
            await request
        # The read's timer went with it: nothing fires later in the task's name.
        await asyncio.sleep(0.4)


async def test_cancelling_a_connect_in_flight_is_a_cancellation() -> None:
    # A listening socket whose backlog is full leaves further connects pending.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        async with ClientPool() as pool:
            client = pool.get(connect_timeout=5.0)
            requests = [asyncio.ensure_future(client.get(url)) for _ in range(4)]
            await asyncio.sleep(0.2)
            for request in requests:
                request.cancel()
            for request in requests:
                with pytest.raises(asyncio.CancelledError):
                    await request


# -- the same outcome as with httpx's own backend ------------------------------------------------


async def test_connect_refused(client: httpx.AsyncClient) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(httpx.ConnectError):
        await client.get(f"http://127.0.0.1:{port}/")


async def test_read_timeout(client: httpx.AsyncClient) -> None:
    async with serving(silent) as peer:
        with pytest.raises(httpx.ReadTimeout):
            await client.get(peer.url, timeout=httpx.Timeout(5.0, read=0.2))


async def test_server_closing_mid_response(client: httpx.AsyncClient) -> None:
    async with serving(cut_short) as peer:
        with pytest.raises(
            httpx.RemoteProtocolError, match="without sending complete message body"
        ):
            await client.get(peer.url)


async def test_server_resetting_mid_response(client: httpx.AsyncClient) -> None:
    async with serving(reset) as peer:
        with pytest.raises(httpx.ReadError):
            await client.get(peer.url)


async def test_upload_to_a_server_not_reading_times_out(client: httpx.AsyncClient) -> None:
    # Far more than loopback's socket buffers hold: the transport pauses the writer, which
    # waits for room no longer than the write timeout.
    async with serving(not_reading) as peer:
        with pytest.raises(httpx.WriteTimeout):
            await client.post(
                peer.url, content=b"x" * (64 * MIB), timeout=httpx.Timeout(5.0, write=0.3)
            )


@pytest.mark.parametrize("tls", [False, True], ids=["plain", "tls"])
async def test_large_bodies_both_ways(
    tls: bool, certificate: tuple[ssl.SSLContext, Path], backend: str
) -> None:
    body = bytes(range(256)) * (6 * MIB // 256)
    server_context, cert = certificate
    trusting = ssl.create_default_context(cafile=cert)
    async with (
        serving(echo, server_context if tls else None) as peer,
        httpx.AsyncClient(transport=transport(backend, trusting)) as client,
    ):
        answer = await client.post(peer.url, content=body)
        again = await client.post(peer.url, content=body[::-1])
    assert answer.content == body
    assert again.content == body[::-1]
    assert peer.connections == 1


async def test_idle_connection_closed_by_the_server_is_dropped(client: httpx.AsyncClient) -> None:
    async with serving(once) as peer:
        first = await client.get(peer.url)
        stream = first.extensions["network_stream"]
        await asyncio.wait_for(peer.closed.wait(), 5)
        await asyncio.sleep(0.05)  # the FIN reaches the client's socket
        assert stream.get_extra_info("is_readable") is True
        second = await client.get(peer.url)
    assert (first.content, second.content) == (b"once", b"once")
    assert peer.connections == 2


async def test_idle_open_connection_is_not_readable(client: httpx.AsyncClient) -> None:
    async with serving(echo) as peer:
        answer = await client.get(peer.url)
        stream = answer.extensions["network_stream"]
        await asyncio.sleep(0.05)
        assert stream.get_extra_info("is_readable") is False
        assert stream.get_extra_info("server_addr") == ("127.0.0.1", peer.port)
        assert stream.get_extra_info("client_addr")[0] == "127.0.0.1"
        assert stream.get_extra_info("ssl_object") is None
        assert stream.get_extra_info("no such thing") is None


# -- TLS -------------------------------------------------------------------------------------------


async def test_tls_with_the_servers_certificate_trusted(
    certificate: tuple[ssl.SSLContext, Path], backend: str
) -> None:
    server_context, cert = certificate
    trusting = ssl.create_default_context(cafile=cert)
    async with (
        serving(echo, server_context) as peer,
        httpx.AsyncClient(transport=transport(backend, trusting)) as client,
    ):
        first = await client.get(peer.url)
        second = await client.get(peer.url)
        stream = first.extensions["network_stream"]
        ssl_object = stream.get_extra_info("ssl_object")
        await client.aclose()
        if backend == "asyncio":
            # The addresses stay known once the connection is closed (anyio forgets them).
            assert stream.get_extra_info("server_addr") == ("127.0.0.1", peer.port)
            assert stream.get_extra_info("client_addr")[0] == "127.0.0.1"
    assert (first.content, second.content) == (b"hello", b"hello")
    assert isinstance(ssl_object, ssl.SSLObject)
    assert peer.connections == 1


async def till_close_without_close_notify(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """Send a body that ends with the connection, then drop TCP without TLS's close_notify."""
    await read_request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\n\r\nthe body ends with the connection")
    await writer.drain()
    writer.get_extra_info("socket").shutdown(socket.SHUT_RDWR)
    writer.transport.abort()


async def test_tls_body_ended_by_an_unclean_close(
    certificate: tuple[ssl.SSLContext, Path], backend: str
) -> None:
    # Many servers never send close_notify: the end of TCP still ends the body, as with anyio.
    server_context, cert = certificate
    trusting = ssl.create_default_context(cafile=cert)
    async with (
        serving(till_close_without_close_notify, server_context) as peer,
        httpx.AsyncClient(transport=transport(backend, trusting)) as client,
    ):
        answer = await client.get(peer.url)
    assert answer.content == b"the body ends with the connection"


async def test_tls_certificate_not_trusted(
    certificate: tuple[ssl.SSLContext, Path], client: httpx.AsyncClient
) -> None:
    async with serving(echo, certificate[0]) as peer:
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await client.get(peer.url)


async def test_tls_through_clientpool_without_verification(
    certificate: tuple[ssl.SSLContext, Path],
) -> None:
    async with serving(echo, certificate[0]) as peer, ClientPool() as pool:
        answer = await pool.get(verify=False).get(peer.url)
    assert answer.content == b"hello"


async def test_tls_handshake_timeout(client: httpx.AsyncClient) -> None:
    # A plain TCP server that never answers the ClientHello.
    async with serving(silent) as peer:
        with pytest.raises(httpx.ConnectTimeout):
            await client.get(f"https://127.0.0.1:{peer.port}/", timeout=0.3)


async def connect_proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """An HTTP proxy for CONNECT only: open the tunnel, then relay bytes both ways."""
    head = await reader.readuntil(b"\r\n\r\n")
    method, target, _ = head.split(b" ", 2)
    assert method == b"CONNECT"
    host, _, port = target.decode().rpartition(":")
    upstream_reader, upstream_writer = await asyncio.open_connection(host, int(port))
    writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")

    async def relay(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        finally:
            sink.close()

    try:
        await asyncio.gather(relay(reader, upstream_writer), relay(upstream_reader, writer))
    finally:
        upstream_writer.transport.abort()


async def test_tls_through_an_http_proxy_tunnel(
    certificate: tuple[ssl.SSLContext, Path], backend: str
) -> None:
    # TLS starts on the connection to the proxy once the tunnel is open.
    server_context, cert = certificate
    trusting = ssl.create_default_context(cafile=cert)
    async with serving(echo, server_context) as target, serving(connect_proxy) as proxy:
        tunnelled = transport(backend, trusting, proxy=proxy.url)
        async with httpx.AsyncClient(transport=tunnelled) as client:
            first = await client.get(target.url)
            second = await client.post(target.url, content=b"again")
    assert (first.content, second.content) == (b"hello", b"again")
    assert proxy.connections == 1


async def test_tls_through_a_socks5_proxy(
    certificate: tuple[ssl.SSLContext, Path], backend: str
) -> None:
    server_context, cert = certificate
    trusting = ssl.create_default_context(cafile=cert)
    socks = Socks5Proxy(username="user", password="pass").start()
    try:
        async with serving(echo, server_context) as target:
            target_port = target.port
            url = f"socks5://user:pass@127.0.0.1:{socks.port}"
            async with httpx.AsyncClient(transport=transport(backend, trusting, url)) as client:
                answer = await client.get(target.url)
    finally:
        socks.close()
    assert answer.content == b"hello"
    assert socks.connects == [("127.0.0.1", target_port)]


# -- the backend on its own --------------------------------------------------------------------


async def test_start_tls_hands_the_connection_over(
    certificate: tuple[ssl.SSLContext, Path],
) -> None:
    server_context, cert = certificate
    trusting = ssl.create_default_context(cafile=str(cert))
    async with serving(echo, server_context) as peer:
        plain = await BACKEND.connect_tcp("127.0.0.1", peer.port, timeout=5)
        secure = await plain.start_tls(trusting, server_hostname="127.0.0.1", timeout=5)
        with pytest.raises(httpcore.ReadError):
            await plain.read(1024)
        with pytest.raises(httpcore.WriteError):
            await plain.write(b"GET / HTTP/1.1\r\n\r\n")
        await secure.write(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", timeout=5)
        received = b""
        while not received.endswith(b"hello"):
            received += await secure.read(1024, timeout=5)
        await secure.aclose()
        await plain.aclose()
    assert received.startswith(b"HTTP/1.1 200 OK")


async def test_read_returns_at_most_max_bytes_then_eof() -> None:
    async def send_and_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"0123456789")
        await writer.drain()

    async with serving(send_and_close) as peer:
        stream = await BACKEND.connect_tcp("127.0.0.1", peer.port, timeout=5)
        received = []
        while chunk := await stream.read(3, timeout=5):
            assert len(chunk) <= 3
            received.append(chunk)
        assert b"".join(received) == b"0123456789"
        assert await stream.read(3, timeout=5) == b""
        assert stream.get_extra_info("is_readable") is True
        await stream.aclose()
        with pytest.raises(httpcore.ReadError):
            await stream.read(3)
        with pytest.raises(httpcore.WriteError):
            await stream.write(b"late")


async def test_a_slow_reader_does_not_buffer_a_whole_large_body() -> None:
    size = 32 * MIB

    async def flood(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        block = b"x" * MIB
        for _ in range(size // MIB):
            writer.write(block)
            await writer.drain()

    async with serving(flood) as peer:
        stream = await BACKEND.connect_tcp("127.0.0.1", peer.port, timeout=5)
        assert isinstance(stream, AsyncioStream)
        await asyncio.sleep(0.3)  # the server has long filled what the client takes in
        waiting = stream._connection.buffered
        total = 0
        while chunk := await stream.read(65536, timeout=5):
            total += len(chunk)
        await stream.aclose()
    assert total == size
    assert waiting < 2 * MIB


async def test_connect_options(tmp_path: Path) -> None:
    async with serving(echo) as peer:
        stream = await BACKEND.connect_tcp(
            "127.0.0.1",
            peer.port,
            timeout=5,
            local_address="127.0.0.1",
            socket_options=[(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)],
        )
        sock = stream.get_extra_info("socket")
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
        assert stream.get_extra_info("client_addr")[0] == "127.0.0.1"
        await stream.aclose()


async def test_unix_socket(tmp_path: Path) -> None:
    path = str(tmp_path / "http.sock")

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await echo(reader, writer)
        except asyncio.IncompleteReadError:
            pass
        finally:
            writer.close()

    server = await asyncio.start_unix_server(accept, path)
    async with server:
        stream = await BACKEND.connect_unix_socket(path, timeout=5)
        await stream.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", timeout=5)
        received = b""
        while not received.endswith(b"hello"):
            received += await stream.read(1024, timeout=5)
        await stream.aclose()
    assert received.startswith(b"HTTP/1.1 200 OK")
    with pytest.raises(httpcore.ConnectError):
        await BACKEND.connect_unix_socket(str(tmp_path / "missing.sock"), timeout=5)


def test_unknown_proxy_scheme_is_refused_as_httpx_does() -> None:
    with pytest.raises(ValueError, match="ftp"):
        NetworkTransport(
            ssl_context=httpx.create_ssl_context(), limits=httpx.Limits(), proxy="ftp://x:1"
        )
