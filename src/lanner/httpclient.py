"""Shared HTTP clients: one `httpx.AsyncClient` per distinct client configuration.

A client owns a connection pool, so sharing one across task runs lets thousands of requests to
the same API reuse their TCP and TLS connections. The worker owns one `ClientPool` and hands it
to every RunContext; HTTP tasks ask it for the client matching their options.

The shared clients never keep cookies: a cookie set by one flow's server must not reach another
flow's request (Kestra builds a fresh client for each task run, so its cookies never outlive one).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import metadata
from types import TracebackType

import httpx

from lanner.http_network import NetworkTransport
from lanner.http_transport import ShardedTransport


def _user_agent() -> str:
    try:
        return f"lanner/{metadata.version('lanner')}"
    except metadata.PackageNotFoundError:
        return "lanner"


USER_AGENT = _user_agent()

# Sized for a worker running hundreds of task runs at once: a ForEach of 200 requests with a
# concurrency of 20 must never wait for a free connection. (The shards keep up to
# `max_connections` alive, each until `keepalive_expiry`; see lanner.http_transport.)
DEFAULT_LIMITS = httpx.Limits(
    max_connections=1024,
    max_keepalive_connections=256,
    keepalive_expiry=30.0,
)


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """What makes two clients different; equal configurations share one client."""

    verify: bool = True
    follow_redirects: bool = True
    proxy: str | None = None
    connect_timeout: float | None = 30.0
    read_timeout: float | None = 300.0


class ClientPool:
    """Lazily creates and keeps one `httpx.AsyncClient` per `ClientConfig`.

    Use it from one event loop: the clients' connections belong to the loop that opened them.
    """

    def __init__(self, limits: httpx.Limits = DEFAULT_LIMITS, user_agent: str = USER_AGENT) -> None:
        self._limits = limits
        self._user_agent = user_agent
        self._clients: dict[ClientConfig, httpx.AsyncClient] = {}

    def get(
        self,
        *,
        verify: bool = True,
        follow_redirects: bool = True,
        proxy: str | None = None,
        connect_timeout: float | None = 30.0,
        read_timeout: float | None = 300.0,
    ) -> httpx.AsyncClient:
        """Return the shared client for this configuration, creating it on first use.

        Timeouts are in seconds (None waits forever); `read_timeout` is the longest wait for the
        next bytes of a response (an idle timeout, not a limit on the whole transfer), and also
        bounds each write. `verify=False` trusts any certificate and any host name.
        """
        config = ClientConfig(verify, follow_redirects, proxy, connect_timeout, read_timeout)
        client = self._clients.get(config)
        if client is None:
            client = self._clients[config] = self._create(config)
        return client

    def _create(self, config: ClientConfig) -> httpx.AsyncClient:
        timeout = httpx.Timeout(
            connect=config.connect_timeout,
            read=config.read_timeout,
            write=config.read_timeout,
            # Waiting for a pooled connection is bounded by the generous limits instead.
            pool=None,
        )
        # Loading the trusted certificates takes milliseconds: once per client, not per shard.
        tls = httpx.create_ssl_context(verify=config.verify, trust_env=False)

        def shard(limits: httpx.Limits) -> httpx.AsyncBaseTransport:
            # httpx's transport on lanner's asyncio network backend (see lanner.http_network);
            # as for the client, certificates and proxies come from the flow, not the env.
            return NetworkTransport(ssl_context=tls, limits=limits, proxy=config.proxy)

        return _CookielessClient(
            follow_redirects=config.follow_redirects,
            timeout=timeout,
            # Small pools side by side: see lanner.http_transport. The proxy is theirs too.
            transport=ShardedTransport(shard, self._limits),
            headers={"User-Agent": self._user_agent},
            # Proxies come from the flow's options only, as in Kestra, not from the environment.
            trust_env=False,
            event_hooks={"request": [_check_request]},
        )

    def __len__(self) -> int:
        return len(self._clients)

    async def aclose(self) -> None:
        """Close every client and its connections; later `get` calls start afresh."""
        clients = list(self._clients.values())
        self._clients.clear()
        for client in clients:
            await client.aclose()

    async def __aenter__(self) -> ClientPool:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


GUARD = "lanner.guard"
"""The request extension holding a check to await before each request, redirects included."""

RequestCheck = Callable[[httpx.URL], Awaitable[None]]


async def _check_request(request: httpx.Request) -> None:
    # httpx runs request hooks again for every redirect it follows, with the extensions kept.
    check: RequestCheck | None = request.extensions.get(GUARD)
    if check is not None:
        await check(request.url)


class _NoCookies(httpx.Cookies):
    """Cookies that are never kept: a response's `Set-Cookie` headers are not even parsed
    (httpx would build urllib request and response adapters for every response)."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None

    def set(self, name: str, value: str, domain: str = "", path: str = "/") -> None:
        return None


class _CookielessClient(httpx.AsyncClient):
    """A client whose cookies stay empty, whatever its responses set."""

    _no_cookies = _NoCookies()

    @property
    def cookies(self) -> httpx.Cookies:
        return self._no_cookies

    @cookies.setter
    def cookies(self, cookies: object) -> None:
        raise TypeError("lanner's shared HTTP clients keep no cookies")
