"""Client-level retries of the HTTP tasks (`options.retry`), against local servers that fail
a given number of times before they answer."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from werkzeug.wrappers import Request, Response

from lanner.executions import Level
from lanner.states import State
from tests.httpservers import Server, TaskHarness, serve

pytestmark = pytest.mark.timeout(60)

FAST = {"type": "constant", "interval": "PT0.01S", "maxAttempt": 3}


class FlakyApp:
    """Answers `/<key>?fails=N&code=C` with code C for the first N requests of each key."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        key = request.path.strip("/")
        with self.lock:
            self.calls[key] += 1
            count = self.calls[key]
        fails = int(request.args.get("fails", "0"))
        code = int(request.args.get("code", "503"))
        if count <= fails:
            response = Response(f"failure {count}", status=code)
        else:
            response = Response(f"success after {count - 1} failures")
        return response(environ, start_response)


@pytest.fixture(scope="module")
def flaky() -> Iterator[tuple[FlakyApp, Server]]:
    app = FlakyApp()
    server = serve(app)
    yield app, server
    server.close()


def dropping_server(drops: int) -> tuple[int, threading.Thread, list[int]]:
    """Start a server that closes its first `drops` connections without a word, then answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    port: int = listener.getsockname()[1]
    accepted: list[int] = []

    def run() -> None:
        with listener:
            for number in range(drops + 1):
                connection, _ = listener.accept()
                accepted.append(number)
                with connection:
                    if number < drops:
                        continue
                    connection.recv(65536)
                    connection.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                    )

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return port, thread, accepted


async def test_retries_a_failing_status_until_success(
    harness: TaskHarness, flaky: tuple[FlakyApp, Server]
) -> None:
    app, server = flaky
    result = await harness.request(
        f"{server.url}/status-ok?fails=2&code=503", options={"retry": FAST}
    )
    assert result.state is State.SUCCESS, result.error
    assert result.outputs["body"] == "success after 2 failures"
    assert app.calls["status-ok"] == 3
    retries = [m for m in result.messages(Level.INFO) if m.startswith("Retrying")]
    assert len(retries) == 2
    assert "attempt 1 failed" in retries[0]
    assert "(response code '503')" in retries[0]


async def test_gives_up_after_max_attempts(
    harness: TaskHarness, flaky: tuple[FlakyApp, Server]
) -> None:
    app, server = flaky
    result = await harness.request(
        f"{server.url}/give-up?fails=5&code=502", options={"retry": FAST}
    )
    assert result.state is State.FAILED
    assert "Failed http request with response code '502' and body:\nfailure 3" in result.error
    assert app.calls["give-up"] == 3


async def test_retry_without_max_attempt_stops_after_three(
    harness: TaskHarness, flaky: tuple[FlakyApp, Server]
) -> None:
    app, server = flaky
    policy = {"type": "constant", "interval": "PT0.01S"}
    result = await harness.request(f"{server.url}/three?fails=9", options={"retry": policy})
    assert result.state is State.FAILED
    assert app.calls["three"] == 3


async def test_no_retry_by_default(harness: TaskHarness, flaky: tuple[FlakyApp, Server]) -> None:
    app, server = flaky
    result = await harness.request(f"{server.url}/default?fails=1")
    assert result.state is State.FAILED
    assert app.calls["default"] == 1


@pytest.mark.parametrize(
    ("name", "method", "options", "calls"),
    [
        pytest.param("post", "POST", {}, 1, id="post-not-retried-on-status"),
        pytest.param("unlisted", "GET", {"retryOnStatusCodes": [500]}, 1, id="code-not-listed"),
        pytest.param("listed", "GET", {"retryOnStatusCodes": [503]}, 2, id="code-listed"),
        pytest.param(
            "by-method",
            "POST",
            {"retryOnStatusCodesByMethod": {"post": [503]}},
            2,
            id="post-listed-by-method",
        ),
        pytest.param(
            "by-method-get",
            "GET",
            {"retryOnStatusCodesByMethod": {"GET": [429]}},
            1,
            id="by-method-replaces-the-default-codes",
        ),
        pytest.param("allowed", "GET", {"allowFailed": True}, 1, id="accepted-code-is-a-result"),
    ],
)
async def test_which_responses_are_retried(
    harness: TaskHarness,
    flaky: tuple[FlakyApp, Server],
    name: str,
    method: str,
    options: dict[str, Any],
    calls: int,
) -> None:
    app, server = flaky
    await harness.request(
        f"{server.url}/{name}?fails=1&code=503",
        method=method,
        body="{}",
        options={"retry": FAST, **options},
    )
    assert app.calls[name] == calls


async def test_exponential_backoff_waits_longer_each_time(
    harness: TaskHarness, flaky: tuple[FlakyApp, Server]
) -> None:
    _, server = flaky
    policy = {"type": "exponential", "interval": "PT0.1S", "maxInterval": "PT1S", "maxAttempt": 3}
    started = time.monotonic()
    result = await harness.request(f"{server.url}/backoff?fails=2", options={"retry": policy})
    elapsed = time.monotonic() - started
    assert result.state is State.SUCCESS
    # 0.1 s, then 0.2 s.
    assert 0.3 <= elapsed < 2
    waits = [m.split(" in ")[1].split(":")[0] for m in result.messages() if "Retrying" in m]
    assert waits == ["PT0.1S", "PT0.2S"]


async def test_max_duration_stops_the_retries(
    harness: TaskHarness, flaky: tuple[FlakyApp, Server]
) -> None:
    app, server = flaky
    policy = {"type": "constant", "interval": "PT0.2S", "maxAttempt": 10, "maxDuration": "PT0.5S"}
    result = await harness.request(f"{server.url}/duration?fails=9", options={"retry": policy})
    assert result.state is State.FAILED
    assert app.calls["duration"] == 3


async def test_retries_dropped_connections(harness: TaskHarness) -> None:
    port, thread, accepted = dropping_server(drops=2)
    result = await harness.request(f"http://127.0.0.1:{port}/", options={"retry": FAST})
    thread.join(5)
    assert result.state is State.SUCCESS, result.error
    assert result.outputs["body"] == "ok"
    assert accepted == [0, 1, 2]
    retries = [m for m in result.messages(Level.INFO) if m.startswith("Retrying")]
    # The drop reads as a closed connection or a reset, depending on which the OS reports first.
    assert re.search(r"\((RemoteProtocolError|ReadError)\b", retries[0]), retries[0]


async def test_post_is_not_retried_after_a_dropped_connection(harness: TaskHarness) -> None:
    port, thread, accepted = dropping_server(drops=1)
    result = await harness.request(
        f"http://127.0.0.1:{port}/", method="POST", body="x", options={"retry": FAST}
    )
    assert result.state is State.FAILED
    assert "Failed http request to" in result.error
    assert accepted == [0]
    # The server still expects the connection it answers.
    drain = await harness.request(f"http://127.0.0.1:{port}/")
    thread.join(5)
    assert drain.state is State.SUCCESS


async def test_transport_methods_can_include_post(harness: TaskHarness) -> None:
    port, thread, accepted = dropping_server(drops=1)
    result = await harness.request(
        f"http://127.0.0.1:{port}/",
        method="POST",
        body="x",
        options={"retry": FAST, "retryableTransportFailureMethods": ["GET", "POST"]},
    )
    thread.join(5)
    assert result.state is State.SUCCESS, result.error
    assert accepted == [0, 1]


async def test_multipart_upload_is_sent_whole_again(
    harness: TaskHarness, flaky: tuple[FlakyApp, Server]
) -> None:
    app, server = flaky
    uri = harness.put_file("upload.txt", b"file content")
    result = await harness.request(
        f"{server.url}/upload?fails=1",
        method="PUT",
        contentType="multipart/form-data",
        formData={"file": uri},
        options={"retry": FAST, "retryOnStatusCodesByMethod": {"PUT": [503]}},
    )
    assert result.state is State.SUCCESS, result.error
    assert app.calls["upload"] == 2


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param({"retryOnStatusCodes": "{{ 'x' }}"}, "options.retryOnStatusCodes", id="codes"),
        pytest.param(
            {"retryableTransportFailureMethods": "{{ 5 }}"},
            "options.retryableTransportFailureMethods",
            id="methods",
        ),
    ],
)
async def test_invalid_rendered_retry_options(
    harness: TaskHarness, flaky: tuple[FlakyApp, Server], options: dict[str, Any], message: str
) -> None:
    _, server = flaky
    result = await harness.request(f"{server.url}/x", options=options)
    assert result.state is State.FAILED
    assert f"Invalid value for '{message}'" in result.error


def test_unknown_retry_type_is_refused_when_the_flow_loads() -> None:
    from pydantic import ValidationError

    from lanner.tasks.http import Request

    with pytest.raises(ValidationError, match="retry"):
        Request.model_validate(
            {
                "id": "r",
                "type": "io.kestra.plugin.core.http.Request",
                "uri": "http://x",
                "options": {"retry": {"type": "linear", "interval": "PT1S"}},
            }
        )


def test_kestra_tcp_keep_alive_option_is_accepted() -> None:
    from lanner.tasks.http import Request

    task = Request.model_validate(
        {
            "id": "r",
            "type": "io.kestra.plugin.core.http.Request",
            "uri": "http://x",
            "options": {"enabledTcpExtendedKeepAlive": False},
        }
    )
    assert task.options is not None


DOC = Path(__file__).resolve().parents[3] / "docs" / "http.md"


async def test_documented_retry_example_runs(
    harness: TaskHarness, flaky: tuple[FlakyApp, Server]
) -> None:
    app, server = flaky
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    flow = next(f for f in map(yaml.safe_load, blocks) if f["id"] == "flaky_api")
    flow["tasks"][0]["uri"] = f"{server.url}/documented?fails=1&code=429"
    (report,) = await harness.run_flow(flow)
    assert report.state is State.SUCCESS, report.error
    assert app.calls["documented"] == 2
