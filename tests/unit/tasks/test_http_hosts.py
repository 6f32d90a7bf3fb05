"""Operator allow/deny rules of HTTP hosts and networks (LANNER_HTTP_ALLOW, LANNER_HTTP_DENY),
checked on the first request and on every redirect hop."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from werkzeug.wrappers import Request, Response

from lanner.http_hosts import HostPolicy, parse_rules
from lanner.httpclient import ClientPool
from lanner.settings import Settings
from lanner.states import State
from tests.httpservers import HELLO, Server, TaskHarness, serve

pytestmark = pytest.mark.timeout(60)

DOWNLOAD = "io.kestra.plugin.core.http.Download"


class RedirectApp:
    """`/to?url=<target>` redirects there; `/hello` answers; remembers every path asked for."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        self.paths.append(request.path)
        if request.path == "/to":
            response = Response(status=302, headers={"Location": request.args["url"]})
        else:
            response = Response(HELLO)
        return response(environ, start_response)


@pytest.fixture(scope="module")
def redirects() -> Iterator[tuple[RedirectApp, Server]]:
    app = RedirectApp()
    server = serve(app)
    yield app, server
    server.close()


def guarded(home: Path, pool: ClientPool, allow: str = "", deny: str = "") -> TaskHarness:
    harness = TaskHarness(home, pool)
    environ = {"LANNER_HTTP_ALLOW": allow, "LANNER_HTTP_DENY": deny}
    policy = Settings.load(home=home, environ=environ).http_hosts
    harness.worker.settings = replace(harness.settings, http_hosts=policy)
    return harness


@pytest.mark.parametrize(
    ("allow", "deny"),
    [
        pytest.param("127.0.0.1", "", id="allowed-address"),
        pytest.param("127.0.0.0/8", "", id="allowed-network"),
        pytest.param("", "10.0.0.0/8, *.example.com", id="not-denied"),
        pytest.param("example.com, 127.0.0.1", "192.0.2.1", id="one-allow-rule-matches"),
    ],
)
async def test_allowed_requests_go_through(
    tmp_path: Path,
    pool: ClientPool,
    redirects: tuple[RedirectApp, Server],
    allow: str,
    deny: str,
) -> None:
    _, server = redirects
    harness = guarded(tmp_path, pool, allow, deny)
    result = await harness.request(f"{server.url}/hello")
    assert result.state is State.SUCCESS, result.error
    assert result.outputs["body"] == HELLO


async def test_denied_network_names_the_host_and_the_rule(
    tmp_path: Path, pool: ClientPool, redirects: tuple[RedirectApp, Server]
) -> None:
    app, server = redirects
    harness = guarded(tmp_path, pool, deny="10.0.0.0/8, 127.0.0.0/8")
    before = len(app.paths)
    result = await harness.request(f"{server.url}/hello?x=1")
    assert result.state is State.FAILED
    assert result.error == (
        f"The URI '{server.url}/hello?x=1' is not allowed: its host '127.0.0.1' matches "
        "'127.0.0.0/8' of LANNER_HTTP_DENY"
    )
    assert len(app.paths) == before


async def test_host_outside_the_allowed_list(
    tmp_path: Path, pool: ClientPool, redirects: tuple[RedirectApp, Server]
) -> None:
    _, server = redirects
    harness = guarded(tmp_path, pool, allow="*.example.com, 10.0.0.0/8")
    result = await harness.request(f"{server.url}/hello")
    assert result.state is State.FAILED
    assert result.error == (
        f"The URI '{server.url}/hello' is not in the configured allowed list "
        "(LANNER_HTTP_ALLOW: *.example.com, 10.0.0.0/8): no rule matches its host '127.0.0.1'"
    )


async def test_names_are_resolved_for_network_rules(
    tmp_path: Path, pool: ClientPool, redirects: tuple[RedirectApp, Server]
) -> None:
    _, server = redirects
    harness = guarded(tmp_path, pool, deny="127.0.0.0/8")
    result = await harness.request(f"http://localhost:{server.port}/hello")
    assert result.state is State.FAILED
    assert "its host 'localhost' matches '127.0.0.0/8' of LANNER_HTTP_DENY" in result.error


async def test_every_redirect_hop_is_checked(
    tmp_path: Path, pool: ClientPool, redirects: tuple[RedirectApp, Server]
) -> None:
    app, server = redirects
    harness = guarded(tmp_path, pool, allow="127.0.0.1")
    first = f"{server.url}/to?url=http://127.0.0.2:{server.port}/hello"
    before = len(app.paths)
    result = await harness.request(first)
    assert result.state is State.FAILED
    assert result.error == (
        f"The URI 'http://127.0.0.2:{server.port}/hello' (redirected from '{first}') is not in "
        "the configured allowed list (LANNER_HTTP_ALLOW: 127.0.0.1): no rule matches its host "
        "'127.0.0.2'"
    )
    # The first hop was sent, the refused one never.
    assert app.paths[before:] == ["/to"]


async def test_denied_name_on_a_redirect_hop(
    tmp_path: Path, pool: ClientPool, redirects: tuple[RedirectApp, Server]
) -> None:
    _, server = redirects
    harness = guarded(tmp_path, pool, deny="localhost")
    result = await harness.request(f"{server.url}/to?url=http://localhost:{server.port}/hello")
    assert result.state is State.FAILED
    assert "its host 'localhost' matches 'localhost' of LANNER_HTTP_DENY" in result.error


async def test_redirect_within_the_rules_is_followed(
    tmp_path: Path, pool: ClientPool, redirects: tuple[RedirectApp, Server]
) -> None:
    _, server = redirects
    harness = guarded(tmp_path, pool, allow="127.0.0.1, localhost")
    first = f"{server.url}/to?url=http://localhost:{server.port}/hello"
    result = await harness.request(first)
    assert result.state is State.SUCCESS, result.error


async def test_download_is_checked_too(
    tmp_path: Path, pool: ClientPool, redirects: tuple[RedirectApp, Server]
) -> None:
    _, server = redirects
    harness = guarded(tmp_path, pool, deny="127.0.0.1")
    result = await harness.run_task({"id": "d", "type": DOWNLOAD, "uri": f"{server.url}/hello"})
    assert result.state is State.FAILED
    assert "matches '127.0.0.1' of LANNER_HTTP_DENY" in result.error


async def test_no_rules_means_no_check(
    harness: TaskHarness, redirects: tuple[RedirectApp, Server]
) -> None:
    _, server = redirects
    assert not harness.settings.http_hosts.active
    result = await harness.request(f"{server.url}/to?url=http://localhost:{server.port}/hello")
    assert result.state is State.SUCCESS


@pytest.mark.parametrize(
    ("rule", "host", "matches"),
    [
        pytest.param("api.example.com", "api.example.com", True, id="exact"),
        pytest.param("API.Example.com", "api.example.com", True, id="any-case"),
        pytest.param("example.com", "api.example.com", False, id="no-implicit-subdomains"),
        pytest.param("*.example.com", "api.example.com", True, id="wildcard"),
        pytest.param("*.example.com", "example.com", False, id="wildcard-not-apex"),
        pytest.param("*.example.com", "badexample.com", False, id="wildcard-label-boundary"),
    ],
)
def test_name_rules(rule: str, host: str, matches: bool) -> None:
    (parsed,) = parse_rules(rule, "LANNER_HTTP_ALLOW")
    assert parsed.matches_name(host) is matches


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("10.0.0.0/33", "LANNER_HTTP_DENY: '10.0.0.0/33' is not a valid network"),
        pytest.param("a..b", "LANNER_HTTP_DENY: 'a..b' is not a host name"),
        pytest.param("ex*mple.com", "LANNER_HTTP_DENY: 'ex*mple.com' is not a host name"),
    ],
)
def test_malformed_rules_fail_when_settings_load(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("*", r"\*").replace(".", r"\.")):
        Settings.load(home=tmp_path, environ={"LANNER_HTTP_DENY": text})


def test_empty_policy_is_inactive() -> None:
    assert not HostPolicy().active
    assert HostPolicy(deny=parse_rules("::1", "LANNER_HTTP_DENY")).active
