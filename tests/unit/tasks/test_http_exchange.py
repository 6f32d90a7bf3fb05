"""The HAR file each Request task run records, against local servers."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from lanner.context import Masker
from lanner.states import State
from lanner.storage import task_prefix
from lanner.tasks.exchange_timings import Event, har_timings, split_hops, total_time
from lanner.tasks.http_exchange import (
    HAR_NAME,
    HAR_OUTPUT,
    PREVIEW_BYTES,
    mask_document,
    masked_header,
    masked_url,
)
from tests.httpservers import HELLO, REQUEST, ExternalServer, Server, TaskHarness, TaskResult
from tests.unit.tasks.test_http import closed_port

pytestmark = pytest.mark.timeout(60)


def har_text(harness: TaskHarness, result: TaskResult) -> str:
    """Return the HAR file of the run, found where it is kept even when the run failed."""
    entry = result.logs[-1] if result.logs else None
    if HAR_OUTPUT in result.outputs:
        uri = result.outputs[HAR_OUTPUT]
    else:
        assert entry is not None
        assert entry.task_run_id is not None
        folder = task_prefix(
            entry.namespace,
            entry.flow_id,
            entry.execution_id,
            entry.task_id or "",
            entry.task_run_id,
        )
        uri = f"kestra://{folder}/{HAR_NAME}"
    return harness.storage.read(uri).decode("utf-8")


def har_log(harness: TaskHarness, result: TaskResult) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(har_text(harness, result))["log"]
    return log


def header(record: dict[str, Any], name: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [
        item for item in record["headers"] if item["name"].lower() == name.lower()
    ]
    assert len(found) == 1, record["headers"]
    return found[0]


# -- what is recorded ------------------------------------------------------------------------


async def test_get_is_recorded_with_its_timings(harness: TaskHarness, mock_server: Server) -> None:
    result = await harness.request(f"{mock_server.url}/hello", headers={"X-Trace": "abc"})
    assert result.state is State.SUCCESS
    assert result.outputs[HAR_OUTPUT].endswith(
        f"/tasks/request/{result.logs[0].task_run_id}/exchange.har"
    )
    assert set(result.outputs) == {"uri", "code", "headers", "body", HAR_OUTPUT}
    log = har_log(harness, result)
    assert log["version"] == "1.2"
    assert log["creator"]["name"] == "lanner"
    (entry,) = log["entries"]
    request, response, timings = entry["request"], entry["response"], entry["timings"]
    assert (request["method"], request["url"]) == ("GET", f"{mock_server.url}/hello")
    assert header(request, "X-Trace")["value"] == "abc"
    assert "_generated" not in header(request, "X-Trace")
    assert header(request, "User-Agent")["_generated"] is True
    assert header(request, "Host")["_generated"] is True
    assert "postData" not in request
    assert (response["status"], response["statusText"]) == (200, "OK")
    assert response["content"] == {"size": len(HELLO), "mimeType": "application/json"}
    assert response["bodySize"] == len(HELLO)
    assert header(response, "Content-Type")["value"] == "application/json"
    # A fresh pool opens a connection: TCP is timed, TLS does not apply to http://.
    assert timings["connect"] >= 0
    assert timings["ssl"] == -1
    assert timings["send"] >= 0
    assert timings["wait"] >= 0
    assert timings["receive"] >= 0
    assert entry["time"] == total_time(timings)
    assert entry["time"] > 0
    datetime.fromisoformat(entry["startedDateTime"].replace("Z", "+00:00"))
    assert log["_options"]["followRedirects"] is True
    assert log["_options"]["insecure"] is False


async def test_header_names_keep_their_case(harness: TaskHarness, mock_server: Server) -> None:
    result = await harness.request(
        f"{mock_server.url}/hello", headers={"x-TRACE-id": ["a", "b"], "X-Other": "c"}
    )
    request = har_log(harness, result)["entries"][0]["request"]
    written = [(item["name"], item["value"]) for item in request["headers"]]
    assert [pair for pair in written if pair[0].lower().startswith("x-")] == [
        ("x-TRACE-id", "a"),
        ("x-TRACE-id", "b"),
        ("X-Other", "c"),
    ]
    generated = {item["name"] for item in request["headers"] if item.get("_generated")}
    assert {"Host", "User-Agent", "Accept"} <= generated
    assert not generated & {"x-TRACE-id", "X-Other"}


async def test_tls_handshake_is_timed(harness: TaskHarness, tls_server: Server) -> None:
    options = {"ssl": {"insecureTrustAllCertificates": True}}
    result = await harness.request(f"{tls_server.url}/hello", options=options)
    assert result.state is State.SUCCESS
    log = har_log(harness, result)
    timings = log["entries"][0]["timings"]
    assert timings["ssl"] > 0
    assert timings["connect"] >= timings["ssl"]
    assert log["_options"]["insecure"] is True


async def test_each_redirect_is_an_entry(harness: TaskHarness, mock_server: Server) -> None:
    result = await harness.request(f"{mock_server.url}/redirect")
    first, second = har_log(harness, result)["entries"]
    assert first["response"]["status"] == 301
    assert first["response"]["redirectURL"] == f"{mock_server.url}/hello"
    assert second["request"]["url"] == f"{mock_server.url}/hello"
    assert second["response"]["status"] == 200
    # The test server closes every connection: each request opened its own.
    assert first["timings"]["connect"] >= 0
    assert second["timings"]["connect"] >= 0
    assert first["startedDateTime"] <= second["startedDateTime"]


async def test_json_body_preview(harness: TaskHarness, mock_server: Server) -> None:
    result = await harness.request(
        f"{mock_server.url}/post/json?x=1&x=2", method="POST", body='{"hello":"world"}'
    )
    request = har_log(harness, result)["entries"][0]["request"]
    assert request["postData"] == {
        "mimeType": "application/json; charset=UTF-8",
        "text": '{"hello":"world"}',
    }
    assert request["bodySize"] == len('{"hello":"world"}')
    assert request["queryString"] == [{"name": "x", "value": "1"}, {"name": "x", "value": "2"}]


async def test_large_body_keeps_a_preview(harness: TaskHarness, mock_server: Server) -> None:
    body = "a" * (PREVIEW_BYTES + 10)
    result = await harness.request(f"{mock_server.url}/echo", method="POST", body=body)
    post = har_log(harness, result)["entries"][0]["request"]["postData"]
    assert post["text"] == "a" * PREVIEW_BYTES
    assert post["_truncated"] is True
    assert post["comment"] == f"the first {PREVIEW_BYTES} of {len(body)} bytes"


async def test_form_parameters(harness: TaskHarness, mock_server: Server) -> None:
    uri = harness.put_file("data.csv", b"a,b\n")
    urlencoded = await harness.request(
        f"{mock_server.url}/echo", method="POST", formData={"q": "a b", "n": 1},
        contentType="application/x-www-form-urlencoded",
    )  # fmt: skip
    post = har_log(harness, urlencoded)["entries"][0]["request"]["postData"]
    assert post["params"] == [{"name": "q", "value": "a b"}, {"name": "n", "value": "1"}]
    assert post["text"] == "q=a+b&n=1"
    multipart = await harness.request(
        f"{mock_server.url}/echo", method="POST", formData={"hello": "world", "file": uri},
        contentType="multipart/form-data",
    )  # fmt: skip
    post = har_log(harness, multipart)["entries"][0]["request"]["postData"]
    assert post["mimeType"].startswith("multipart/form-data; boundary=")
    assert post["params"] == [
        {"name": "hello", "value": "world"},
        {"name": "file", "fileName": "data.csv", "contentType": "application/octet-stream"},
    ]


async def test_cookies_are_listed(harness: TaskHarness, httpbin_server: ExternalServer) -> None:
    result = await harness.request(
        f"{httpbin_server.url}/cookies/set?session=abc",
        headers={"Cookie": "a=1; b=2"},
        options={"followRedirects": False},
    )
    entry = har_log(harness, result)["entries"][0]
    assert entry["request"]["cookies"] == [{"name": "a", "value": "1"}, {"name": "b", "value": "2"}]
    assert entry["response"]["cookies"] == [{"name": "session", "value": "abc"}]


# -- failures are recorded too ---------------------------------------------------------------


async def test_refused_connection_is_recorded(harness: TaskHarness) -> None:
    url = f"http://127.0.0.1:{closed_port()}/nothing"
    result = await harness.request(url)
    assert result.state is State.FAILED
    (entry,) = har_log(harness, result)["entries"]
    assert entry["request"]["url"] == url
    assert entry["response"]["status"] == 0
    assert "Connection refused" in entry["_error"]
    assert entry["timings"]["connect"] >= 0


async def test_refused_status_is_recorded(harness: TaskHarness, mock_server: Server) -> None:
    result = await harness.request(f"{mock_server.url}/hello417")
    assert result.state is State.FAILED
    (entry,) = har_log(harness, result)["entries"]
    assert entry["response"]["status"] == 417
    assert entry["response"]["content"]["size"] == len(HELLO)


async def test_too_large_body_is_recorded(harness: TaskHarness, mock_server: Server) -> None:
    result = await harness.request(
        f"{mock_server.url}/large_chunked", options={"maxContentLength": 1000}
    )
    assert result.state is State.FAILED
    (entry,) = har_log(harness, result)["entries"]
    assert entry["response"]["status"] == 200
    assert entry["response"]["content"]["size"] == -1
    assert entry["_error"].startswith("Response body is too large")


# -- secrets ---------------------------------------------------------------------------------


async def test_basic_auth_is_masked(harness: TaskHarness, mock_server: Server) -> None:
    auth = {"type": "BASIC", "username": "John", "password": "p4ss-w0rd"}
    result = await harness.request(f"{mock_server.url}/auth/basic", options={"auth": auth})
    text = har_text(harness, result)
    assert "p4ss-w0rd" not in text
    assert base64.b64encode(b"John:p4ss-w0rd").decode() not in text
    log = json.loads(text)["log"]
    assert header(log["entries"][0]["request"], "Authorization")["value"] == "Basic ********"
    assert log["_options"]["auth"] == {"type": "BASIC", "username": "John"}


async def test_bearer_token_is_masked_everywhere(harness: TaskHarness, mock_server: Server) -> None:
    auth = {"type": "BEARER", "token": "tok-123456"}
    result = await harness.request(
        f"{mock_server.url}/echo?token=tok-123456", method="POST", body="tok-123456",
        options={"auth": auth},
    )  # fmt: skip
    text = har_text(harness, result)
    assert "tok-123456" not in text
    request = json.loads(text)["log"]["entries"][0]["request"]
    assert header(request, "Authorization")["value"] == "Bearer ********"
    assert request["url"].endswith("/echo?token=********")
    assert request["postData"]["text"] == "********"


async def test_digest_challenge_and_answer_are_masked(
    harness: TaskHarness, httpbin_server: ExternalServer
) -> None:
    auth = {"type": "DIGEST", "username": "John", "password": "p4ss"}
    result = await harness.request(
        f"{httpbin_server.url}/digest-auth/auth/John/p4ss/MD5", options={"auth": auth}
    )
    assert result.state is State.SUCCESS
    challenge, answer = har_log(harness, result)["entries"]
    assert challenge["response"]["status"] == 401
    assert header(answer["request"], "Authorization")["value"] == "Digest ********"
    assert answer["response"]["status"] == 200


async def test_secret_function_and_secret_inputs_are_masked(
    harness: TaskHarness, mock_server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECRET_API_KEY", base64.b64encode(b"key-from-secret").decode())
    flow = {
        "id": "test",
        "namespace": "io.kestra.tests",
        "inputs": [{"id": "password", "type": "SECRET"}],
        "tasks": [
            {
                "id": "request",
                "type": REQUEST,
                "uri": f"{mock_server.url}/echo?key={{{{ secret('API_KEY') }}}}",
                "method": "POST",
                "headers": {"X-Api-Key": "{{ secret('API_KEY') }}"},
                "body": "{{ inputs.password }}",
            }
        ],
    }
    (result,) = await harness.run_flow(flow, {"password": "input-pw-987"})
    assert result.state is State.SUCCESS
    text = har_text(harness, result)
    assert "key-from-secret" not in text
    assert "input-pw-987" not in text
    request = json.loads(text)["log"]["entries"][0]["request"]
    assert header(request, "X-Api-Key")["value"] == "********"
    assert request["postData"]["text"] == "********"


async def test_proxy_credentials_are_masked(harness: TaskHarness, mock_server: Server) -> None:
    proxy = {
        "type": "HTTP",
        "address": "127.0.0.1",
        "port": mock_server.port,
        "username": "proxy-user",
        "password": "proxy-pass",
    }
    result = await harness.request("http://api.example.invalid/hello", options={"proxy": proxy})
    assert result.state is State.SUCCESS
    text = har_text(harness, result)
    assert "proxy-pass" not in text
    proxy_url = json.loads(text)["log"]["_options"]["proxy"]
    assert proxy_url == f"http://proxy-user:********@127.0.0.1:{mock_server.port}"


async def test_header_like_pairs_are_masked_without_any_secret(
    harness: TaskHarness, mock_server: Server
) -> None:
    # No secret and no credentials: strings are left as they are, but a pair named like a
    # credentials header keeps only its scheme wherever it is, and URL passwords go.
    result = await harness.request(
        f"http://user:pw-in-url@127.0.0.1:{mock_server.port}/echo?Authorization=Token+abc"
    )
    text = har_text(harness, result)
    assert "pw-in-url" not in text
    request = json.loads(text)["log"]["entries"][0]["request"]
    assert request["queryString"] == [{"name": "Authorization", "value": "Token ********"}]
    assert request["url"].startswith("http://user:********@")


def masked_by_rebuilding(value: Any, mask: Callable[[str], str]) -> Any:
    """The masking rule, written as a copy of the document: what mask_document must give."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, list):
        return [masked_by_rebuilding(item, mask) for item in value]
    if isinstance(value, dict):
        masked = {key: masked_by_rebuilding(item, mask) for key, item in value.items()}
        if "name" in masked and isinstance(masked.get("value"), str):
            masked["value"] = masked_header(str(masked["name"]), masked["value"])
        if isinstance(masked.get("url"), str):
            masked["url"] = masked_url(masked["url"])
        return masked
    return value


SAMPLE_DOCUMENT: dict[str, Any] = {
    "log": {
        "comment": "task 'get', run with s3cret-token inside",
        "_options": {"proxy": "http://u:proxy-pw@h:3128", "auth": None, "maxTime": 1.5},
        "entries": [
            {
                "request": {
                    "url": "http://john:s3cret-token@h/x?k=s3cret",
                    "headers": [
                        {"name": "Authorization", "value": "Bearer s3cret-token"},
                        {"name": "X-Key", "value": "s3cret", "_generated": True},
                    ],
                    "queryString": [{"name": "proxy-authorization", "value": "Basic abc"}],
                    "postData": {"params": [{"name": "a", "value": 1}], "text": "s3cret"},
                },
                "timings": {"blocked": 1.0, "dns": -1.0},
                "notes": ["s3cret", ["nested s3cret"], ("a tuple", "s3cret"), None, True],
            }
        ],
    }
}


@pytest.mark.parametrize("secrets", [(), ("s3cret",), ("s3cret", "s3cret-token", "proxy-pw")])
def test_mask_document_in_place_is_the_masking_rule(secrets: tuple[str, ...]) -> None:
    masker = Masker(secrets)
    expected = masked_by_rebuilding(SAMPLE_DOCUMENT, masker.mask)
    document = copy.deepcopy(SAMPLE_DOCUMENT)
    mask_document(document, None if masker.empty else masker.mask)
    assert json.dumps(document) == json.dumps(expected)
    if not secrets:
        # Nothing to mask in strings: only credentials headers and URL passwords change.
        assert "Bearer ********" in json.dumps(document)
        assert "s3cret" in json.dumps(document)


def test_masker_replaces_the_longest_secret_first() -> None:
    masker = Masker(["abc"])
    assert not masker.empty
    masker.add("abcdef")
    masker.add("abc")
    assert masker.mask("xx abcdef abc") == "xx ******** ********"
    assert Masker().empty
    assert Masker(["", ""]).empty


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("http://u:p@h:1/x", "http://u:********@h:1/x"),
        ("http://u@h/x", "http://u@h/x"),
        ("http://h/x?a=b", "http://h/x?a=b"),
    ],
)
def test_masked_url(url: str, masked: str) -> None:
    assert masked_url(url) == masked


# -- timings from events ---------------------------------------------------------------------


def events(*pairs: tuple[str, float]) -> list[Event]:
    return [Event(name, at) for name, at in pairs]


def test_hops_take_the_connection_steps_before_them() -> None:
    hops = split_hops(
        events(
            ("connect_tcp.started", 1.0), ("connect_tcp.complete", 1.010),
            ("send_request_headers.started", 1.011), ("send_request_body.complete", 1.012),
            ("receive_response_headers.complete", 1.050),
            ("receive_response_body.complete", 1.060),
            ("send_request_headers.started", 1.100), ("send_request_body.complete", 1.101),
            ("receive_response_headers.complete", 1.200),
        )
    )  # fmt: skip
    assert len(hops) == 2
    first = har_timings(hops[0], since=0.999, until=2.0)
    assert first == {
        "blocked": 1.0, "dns": -1.0, "connect": 10.0, "ssl": -1, "send": 1.0, "wait": 38.0,
        "receive": 10.0,
    }  # fmt: skip
    second = har_timings(hops[1], since=1.060, until=1.250)
    # The body was not read to its end: `receive` runs until the exchange ended.
    assert (second["connect"], second["wait"], second["receive"]) == (-1, 99.0, 50.0)
    assert total_time(first) == 60.0


def test_a_failed_connection_is_a_hop_of_its_own() -> None:
    (hop,) = split_hops(events(("connect_tcp.started", 1.0), ("connect_tcp.failed", 1.5)))
    timings = har_timings(hop, since=1.0, until=1.5)
    assert timings["connect"] == 500.0
    assert (timings["send"], timings["wait"], timings["receive"]) == (-1, -1, -1)
