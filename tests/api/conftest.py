"""Fixtures for API tests: the app in-process over ASGI, and a real server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from lanner.api import create_app
from lanner.services import Services
from lanner.settings import Settings

API = "/api/v1/main"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Settings on SQLite under the home directory, or the backend a module parametrizes."""
    return Settings.load(home=tmp_path / "home", database_url=database_url, environ={})


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    started = await Services.start(settings)
    try:
        yield started
    finally:
        await started.close()


@pytest.fixture(scope="session")
def shared_app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    """One application for the in-process tests: building the routes costs a good half second.

    Routes do not depend on settings; only the middleware does, so tests that need special
    settings (users, size limits) build their own app.
    """
    home = tmp_path_factory.mktemp("shared-app")
    return create_app(Settings.load(home=home, environ={}))


@pytest.fixture
async def client(shared_app: FastAPI, services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in-process (no socket), on this test's services."""
    shared_app.state.services = services
    transport = httpx.ASGITransport(app=shared_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://lanner.test") as http:
        yield http


@dataclass
class LiveServer:
    """A real lanner server (API + engine) running on 127.0.0.1 in a background thread."""

    url: str
    settings: Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def live_server(settings: Settings) -> Iterator[LiveServer]:
    """Start `create_app(settings)` on uvicorn in a thread; stop it after the test."""
    port = free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the lanner server did not start")
        time.sleep(0.02)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", settings)
    finally:
        server.should_exit = True
        thread.join(30)
