"""An HTTP transport that spreads requests over several small connection pools.

httpcore's connection pool, on every request it starts and every response it releases, walks
its connections once for each idle one: its cost grows with the square of the pooled
connections. A ForEach of thousands of requests 50 at a time keeps about 50 connections, most
of them idle for a moment between two task runs, and that walk became most of the cost of a
request. Here each pool (a shard) holds at most `SHARD_SIZE` connections, so the walk stays
small whatever the concurrency.

A shard serves one origin (scheme, host and port): a request goes to the least busy shard of
its origin, which is the one most likely to have an idle connection to reuse, and a new shard
opens only when every shard of the origin is full. When every connection allowed is open, a
shard of another origin with nothing in flight is closed to make room; only when there is none
does the request wait in the least busy shard.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from types import TracebackType

import httpx

SHARD_SIZE = 2
"""Connections per shard: few enough for httpcore's walk to stay cheap (a plain loop of GETs 8
at a time spends about a quarter less CPU per request with shards of 2 than with shards of 8,
see bench.http_backend); more requests at once to one origin open more shards."""

TransportFactory = Callable[[httpx.Limits], httpx.AsyncBaseTransport]
Origin = tuple[bytes, bytes, int | None]


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
        self._shards: dict[Origin, list[_Shard]] = {}
        self._opened = 0
        """The connections every shard together may open."""

    @property
    def shards(self) -> int:
        """How many shards are open."""
        return sum(len(shards) for shards in self._shards.values())

    @property
    def in_flight(self) -> int:
        """How many requests were sent whose response is not closed yet."""
        return sum(shard.busy for shards in self._shards.values() for shard in shards)

    async def _pick(self, origin: Origin) -> _Shard:
        best = min(self._shards.get(origin, ()), key=_busy, default=None)
        if best is not None and best.busy < best.size:
            return best
        if self._room() <= 0:
            await self._close_an_idle_shard(origin)
        room = self._room()
        if room <= 0:
            # Every connection allowed is open and busy: wait in the least busy shard (of
            # another origin when this one has none: it closes an idle connection for ours).
            every = (shard for shards in self._shards.values() for shard in shards)
            return best if best is not None else min(every, key=_busy)
        limits = httpx.Limits(
            max_connections=room, max_keepalive_connections=room, keepalive_expiry=self._expiry
        )
        shard = _Shard(self._make(limits), room)
        self._shards.setdefault(origin, []).append(shard)
        self._opened += room
        return shard

    def _room(self) -> int:
        """How many connections a new shard may open."""
        return self._size if self._total is None else min(self._size, self._total - self._opened)

    async def _close_an_idle_shard(self, keep: Origin) -> None:
        """Close a shard of an origin other than `keep` with no request in flight, if any."""
        for origin, shards in self._shards.items():
            idle = None if origin == keep else next((s for s in shards if s.busy == 0), None)
            if idle is not None:
                shards.remove(idle)
                if not shards:
                    del self._shards[origin]
                self._opened -= idle.size
                # Shielded: a request cancelled meanwhile must not leave the shard half closed,
                # its connections open and no longer counted.
                await asyncio.shield(idle.transport.aclose())
                return

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        shard = await self._pick((url.raw_scheme, url.raw_host, url.port))
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
        shards, self._shards, self._opened = self._shards, {}, 0
        for shard in (shard for every in shards.values() for shard in every):
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
        try:
            await self._stream.aclose()
        finally:
            # Once the connection is back in its pool: a shard with nothing in flight may be
            # closed to make room.
            if shard is not None:
                shard.busy -= 1


def _busy(shard: _Shard) -> int:
    return shard.busy
