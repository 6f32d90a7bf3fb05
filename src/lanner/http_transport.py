"""An HTTP transport that spreads requests over several small connection pools.

httpcore's connection pool, on every request it starts and every response it releases, walks
its connections once for each idle one: its cost grows with the square of the pooled
connections. A ForEach of thousands of requests 50 at a time keeps about 50 connections, most
of them idle for a moment between two task runs, and that walk became most of the cost of a
request. Here each pool (a shard) holds at most `SHARD_SIZE` connections, so the walk stays
small whatever the concurrency; a request goes to the shard with the fewest requests in flight,
which is the one most likely to have an idle connection to reuse, and a new shard opens only
when every shard is full.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from types import TracebackType

import httpx

SHARD_SIZE = 8
"""Connections per shard: few enough for httpcore's walk to stay cheap, enough for a shard to
serve a handful of concurrent requests to one host on its own."""

TransportFactory = Callable[[httpx.Limits], httpx.AsyncBaseTransport]


@dataclass(eq=False, slots=True)
class _Shard:
    transport: httpx.AsyncBaseTransport
    size: int
    """The most connections this shard opens."""
    busy: int = 0
    """Requests sent through this shard whose response is not closed yet."""


class ShardedTransport(httpx.AsyncBaseTransport):
    """Send requests through shards made by `make`, holding `limits.max_connections` at most.

    Each shard keeps its connections alive for `limits.keepalive_expiry`; with several shards,
    the connections kept alive are bounded by `max_connections` rather than by
    `max_keepalive_connections`.
    """

    def __init__(
        self, make: TransportFactory, limits: httpx.Limits, shard_size: int = SHARD_SIZE
    ) -> None:
        self._make = make
        self._size = shard_size
        self._total = limits.max_connections
        self._expiry = limits.keepalive_expiry
        self._shards: list[_Shard] = []

    @property
    def shards(self) -> int:
        """How many shards were opened so far."""
        return len(self._shards)

    @property
    def in_flight(self) -> int:
        """How many requests were sent whose response is not closed yet."""
        return sum(shard.busy for shard in self._shards)

    def _pick(self) -> _Shard:
        best = min(self._shards, key=lambda shard: shard.busy, default=None)
        if best is not None and best.busy < best.size:
            return best
        opened = sum(shard.size for shard in self._shards)
        room = self._size if self._total is None else min(self._size, self._total - opened)
        if room <= 0:
            assert best is not None
            return best  # every connection allowed is open: wait in the least busy shard
        limits = httpx.Limits(
            max_connections=room, max_keepalive_connections=room, keepalive_expiry=self._expiry
        )
        shard = _Shard(self._make(limits), room)
        self._shards.append(shard)
        return shard

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        shard = self._pick()
        shard.busy += 1
        try:
            response = await shard.transport.handle_async_request(request)
        except BaseException:
            shard.busy -= 1
            raise
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _Releasing(response.stream, shard)
        return response

    async def aclose(self) -> None:
        shards, self._shards = self._shards, []
        for shard in shards:
            await shard.transport.aclose()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        await self.aclose()


class _Releasing(httpx.AsyncByteStream):
    """A response body that gives its shard's slot back when it is closed."""

    def __init__(self, stream: httpx.AsyncByteStream, shard: _Shard) -> None:
        self._stream = stream
        self._shard: _Shard | None = shard

    def __aiter__(self) -> AsyncIterator[bytes]:
        # The body's own iterator: a generator in between would cost a hop per chunk.
        return self._stream.__aiter__()

    async def aclose(self) -> None:
        shard, self._shard = self._shard, None
        if shard is not None:
            shard.busy -= 1
        await self._stream.aclose()
