"""HTTP tasks through a SOCKS5 proxy that the test starts on 127.0.0.1."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from lanner.states import State
from tests.httpservers import HELLO, SAMPLE_CSV, Server, TaskHarness
from tests.socks5 import Socks5Proxy

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def socks() -> Iterator[Socks5Proxy]:
    proxy = Socks5Proxy(username="socks-user", password="s3cret").start()
    yield proxy
    proxy.close()


@pytest.fixture
def collect_refused_sockets() -> Iterator[None]:
    """Close, inside the test, the socket httpcore leaves behind when a SOCKS login fails.

    httpcore (1.0.9) drops the proxy connection without closing it when the SOCKS handshake
    fails; the garbage collector closes it later with a ResourceWarning.
    """
    yield
    gc.collect()


def socks_options(proxy: Socks5Proxy, **credentials: Any) -> dict[str, Any]:
    return {"proxy": {"type": "SOCKS", "address": "127.0.0.1", "port": proxy.port, **credentials}}


async def test_request_through_a_socks5_proxy_with_credentials(
    harness: TaskHarness, mock_server: Server, socks: Socks5Proxy
) -> None:
    options = socks_options(socks, username="socks-user", password="s3cret")
    result = await harness.request(f"{mock_server.url}/hello", options=options)
    assert result.state is State.SUCCESS, result.error
    assert result.outputs["body"] == HELLO
    assert ("127.0.0.1", mock_server.port) in socks.connects


async def test_deprecated_flat_socks_options(
    harness: TaskHarness, mock_server: Server, socks: Socks5Proxy
) -> None:
    before = len(socks.connects)
    options = {
        "proxyType": "SOCKS",
        "proxyAddress": "127.0.0.1",
        "proxyPort": socks.port,
        "proxyUsername": "socks-user",
        "proxyPassword": "s3cret",
    }
    result = await harness.request(f"{mock_server.url}/hello", options=options)
    assert result.state is State.SUCCESS, result.error
    assert len(socks.connects) == before + 1


async def test_download_through_a_socks5_proxy(
    harness: TaskHarness, mock_server: Server, socks: Socks5Proxy
) -> None:
    task = {
        "id": "download",
        "type": "io.kestra.plugin.core.http.Download",
        "uri": f"{mock_server.url}/sample.csv",
        "options": socks_options(socks, username="socks-user", password="s3cret"),
    }
    result = await harness.run_task(task)
    assert result.state is State.SUCCESS, result.error
    assert harness.storage.read(result.outputs["uri"]) == SAMPLE_CSV.encode()


@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.usefixtures("collect_refused_sockets")
async def test_wrong_socks_password_fails(
    harness: TaskHarness, mock_server: Server, socks: Socks5Proxy
) -> None:
    options = socks_options(socks, username="socks-user", password="wrong")
    result = await harness.request(f"{mock_server.url}/hello", options=options)
    assert result.state is State.FAILED
    assert result.error == (
        f"Failed http request to '{mock_server.url}/hello': Invalid username/password"
    )
    assert "socks-user" in socks.refused_logins


@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.usefixtures("collect_refused_sockets")
async def test_socks_proxy_without_credentials_when_they_are_required(
    harness: TaskHarness, mock_server: Server, socks: Socks5Proxy
) -> None:
    result = await harness.request(f"{mock_server.url}/hello", options=socks_options(socks))
    assert result.state is State.FAILED
    assert "but got NO ACCEPTABLE METHODS" in result.error
