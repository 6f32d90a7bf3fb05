"""The sharded HTTP transport: small connection pools side by side, against a real server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest

from lanner.http_transport import ShardedTransport


@dataclass
class CountingServer:
    """A keep-alive HTTP/1.1 server on 127.0.0.1 that counts connections and requests."""

    url: str = ""
    connections: int = 0
    in_flight: int = 0
    peak: int = 0
    delay: float = 0.0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                self.in_flight += 1
                self.peak = max(self.peak, self.in_flight)
                await asyncio.sleep(self.delay)
                self.in_flight -= 1
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def _serving() -> AsyncIterator[CountingServer]:
    counting = CountingServer()
    listening = await asyncio.start_server(counting.handle, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    counting.url = f"http://127.0.0.1:{port}"
    async with listening:
        yield counting
        listening.close()


@pytest.fixture
async def server() -> AsyncIterator[CountingServer]:
    async with _serving() as counting:
        yield counting


@pytest.fixture
async def other_server() -> AsyncIterator[CountingServer]:
    """A second server: another origin (its port differs)."""
    async with _serving() as counting:
        yield counting


def _client(
    limits: httpx.Limits, shard_size: int = 4
) -> tuple[httpx.AsyncClient, ShardedTransport]:
    def shard(shard_limits: httpx.Limits) -> httpx.AsyncBaseTransport:
        return httpx.AsyncHTTPTransport(limits=shard_limits)

    transport = ShardedTransport(shard, limits, shard_size=shard_size)
    return httpx.AsyncClient(transport=transport), transport


async def test_concurrent_requests_open_one_shard_per_few_connections(
    server: CountingServer,
) -> None:
    server.delay = 0.2
    client, transport = _client(httpx.Limits(max_connections=100))
    async with client:
        responses = await asyncio.gather(*(client.get(server.url) for _ in range(10)))
        assert transport.shards == 3  # 4 + 4 + 2
        assert transport.in_flight == 0

    assert [response.text for response in responses] == ["ok"] * 10
    assert server.peak == 10  # nothing waited for a connection
    assert transport.shards == 0  # closed with the client


async def test_sequential_requests_reuse_one_connection(server: CountingServer) -> None:
    client, transport = _client(httpx.Limits(max_connections=100))
    async with client:
        for _ in range(5):
            assert (await client.get(server.url)).text == "ok"
        assert transport.shards == 1

    assert server.connections == 1


async def test_a_second_wave_reuses_the_connections_of_the_first(server: CountingServer) -> None:
    server.delay = 0.1
    client, transport = _client(httpx.Limits(max_connections=100))
    async with client:
        for _ in range(3):
            await asyncio.gather(*(client.get(server.url) for _ in range(8)))
        assert transport.shards == 2

    assert server.connections == 8


async def test_max_connections_bounds_the_shards_and_requests_wait(
    server: CountingServer,
) -> None:
    server.delay = 0.1
    client, transport = _client(httpx.Limits(max_connections=6))
    async with client:
        responses = await asyncio.gather(*(client.get(server.url) for _ in range(12)))
        assert transport.shards == 2  # 6 connections in shards of 4: 4 + 2
        assert transport.in_flight == 0

    assert all(response.status_code == 200 for response in responses)
    assert server.peak == 6
    assert server.connections == 6


async def test_a_failed_request_gives_its_slot_back(server: CountingServer) -> None:
    client, transport = _client(httpx.Limits(max_connections=100))
    async with client:
        with pytest.raises(httpx.ConnectError):
            await client.get("http://127.0.0.1:1/")
        assert transport.in_flight == 0
        async with client.stream("GET", server.url) as response:
            assert transport.in_flight == 1
            assert await response.aread() == b"ok"
        assert transport.in_flight == 0


async def test_each_origin_has_its_own_shards(
    server: CountingServer, other_server: CountingServer
) -> None:
    client, transport = _client(httpx.Limits(max_connections=100), shard_size=2)
    async with client:
        for _ in range(3):
            assert (await client.get(server.url)).text == "ok"
            assert (await client.get(other_server.url)).text == "ok"
        assert transport.shards == 2

    # One connection each, kept alive: a request to one origin never closed the other's.
    assert (server.connections, other_server.connections) == (1, 1)


async def test_at_the_limit_an_idle_shard_of_another_origin_makes_room(
    server: CountingServer, other_server: CountingServer
) -> None:
    client, transport = _client(httpx.Limits(max_connections=2), shard_size=2)
    async with client:
        assert (await client.get(server.url)).text == "ok"
        assert (await client.get(other_server.url)).text == "ok"
        assert transport.shards == 1  # the first origin's shard was closed
        assert (await client.get(server.url)).text == "ok"
        assert transport.shards == 1

    assert (server.connections, other_server.connections) == (2, 1)


async def test_at_the_limit_a_busy_shard_serves_another_origin_too(
    server: CountingServer, other_server: CountingServer
) -> None:
    client, transport = _client(httpx.Limits(max_connections=2), shard_size=2)
    async with client, client.stream("GET", server.url) as held:
        # Every connection allowed belongs to a shard with a response open: the request
        # shares that shard rather than opening connections beyond the limit.
        assert (await client.get(other_server.url)).text == "ok"
        assert transport.shards == 1
        assert await held.aread() == b"ok"


class _SlowToClose(httpx.AsyncHTTPTransport):
    """A shard whose closing takes a while, and says when it is done."""

    def __init__(self, limits: httpx.Limits, closed: list[_SlowToClose]) -> None:
        super().__init__(limits=limits)
        self.closed = closed

    async def aclose(self) -> None:
        await asyncio.sleep(0.05)
        await super().aclose()
        self.closed.append(self)


async def test_a_shard_closed_to_make_room_closes_even_if_the_request_is_cancelled(
    server: CountingServer, other_server: CountingServer
) -> None:
    closed: list[_SlowToClose] = []
    transport = ShardedTransport(
        lambda limits: _SlowToClose(limits, closed), httpx.Limits(max_connections=2), shard_size=2
    )
    async with httpx.AsyncClient(transport=transport) as client:
        assert (await client.get(server.url)).text == "ok"
        request = asyncio.create_task(client.get(other_server.url))
        await asyncio.sleep(0.01)  # the first origin's idle shard is being closed
        request.cancel()
        with pytest.raises(asyncio.CancelledError):
            await request
        await asyncio.sleep(0.1)
        assert len(closed) == 1
        assert transport.shards == 0
