"""Run the API server (with the engine in the same process) on uvicorn."""

from __future__ import annotations

import contextlib
import ipaddress
import signal
from collections.abc import Awaitable, Callable, Iterator
from urllib.parse import urlsplit

import uvicorn

from lanner.api import create_app
from lanner.api.warmup import warm_routes
from lanner.exceptions import LannerError
from lanner.services import Services
from lanner.settings import Settings
from lanner.startup import settle
from lanner.storage import storage_location


def is_loopback(host: str) -> bool:
    """Say whether binding `host` only listens on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_exposure(settings: Settings, host: str) -> None:
    """Refuse to listen beyond this machine without authentication."""
    if not is_loopback(host) and not settings.users:
        raise LannerError(
            f"Refusing to listen on {host} without authentication: set LANNER_USERS to "
            "name:password pairs (or bind 127.0.0.1)."
        )


class _Server(uvicorn.Server):
    """uvicorn's server, except that a stop signal ends `run()` normally (exit status 0)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        stops = (signal.SIGINT, signal.SIGTERM)
        previous = {stop: signal.signal(stop, self.handle_exit) for stop in stops}
        try:
            yield
        finally:
            for stop, handler in previous.items():
                signal.signal(stop, handler)


def where_data_is(settings: Settings) -> str:
    """Say where the server keeps its data, the database password hidden."""
    if settings.database_url.startswith(("postgresql://", "postgres://")):
        parts = urlsplit(settings.database_url)
        host = parts.hostname or "localhost"
        port = f":{parts.port}" if parts.port else ""
        return (
            f"data in PostgreSQL at {host}{port}{parts.path}, files in {storage_location(settings)}"
        )
    if settings.storage_url:
        return f"data in {settings.home}, files in {storage_location(settings)}"
    return f"data in {settings.home}"


def serve(
    settings: Settings,
    host: str,
    port: int,
    start: Callable[[Settings], Awaitable[Services]] = Services.start,
) -> None:
    """Serve the API (and the engine, by default) until SIGINT/SIGTERM, then stop gracefully.

    `start` opens the process's services: `Services.webserver` serves the API alone.
    """
    check_exposure(settings, host)
    app = create_app(settings, start=start)
    warm_routes(app)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        lifespan="on",
        access_log=False,
        timeout_graceful_shutdown=10,
    )
    server = _Server(config)
    settle()
    print(f"lanner is listening on http://{host}:{port}/ ({where_data_is(settings)})", flush=True)
    server.run()
