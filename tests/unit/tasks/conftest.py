"""Fixtures for the task tests: local HTTP servers and a harness that runs tasks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from lanner.httpclient import ClientPool
from tests.httpservers import (
    ExternalServer,
    MockApp,
    Server,
    TaskHarness,
    self_signed_context,
    serve,
    serve_httpbin,
)


@pytest.fixture(scope="session")
def httpbin_server() -> Iterator[ExternalServer]:
    server = serve_httpbin()
    yield server
    server.close()


@pytest.fixture(scope="session")
def mock_app() -> MockApp:
    return MockApp()


@pytest.fixture(scope="session")
def mock_server(mock_app: MockApp) -> Iterator[Server]:
    server = serve(mock_app)
    yield server
    server.close()


@pytest.fixture(scope="session")
def tls_server(mock_app: MockApp, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = serve(mock_app, self_signed_context(tmp_path_factory.mktemp("tls")))
    yield server
    server.close()


@pytest.fixture
async def pool() -> AsyncIterator[ClientPool]:
    async with ClientPool() as clients:
        yield clients


@pytest.fixture
def harness(tmp_path: Path, pool: ClientPool) -> TaskHarness:
    return TaskHarness(tmp_path, pool)
