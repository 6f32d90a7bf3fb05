"""The Request task against local servers (spec http-tasks.md, cases R*, C*, K1 and the seed)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from lanner.exceptions import HttpRequestError, HttpResponseError
from lanner.executions import Level
from lanner.flows import Flow
from lanner.httpclient import ClientPool
from lanner.states import State
from lanner.storage import storage_at
from lanner.tasks.http import Request, check_unicode
from lanner.tasks.registry import lookup
from tests import s3
from tests.httpservers import (
    HELLO,
    PRODUCTS_CSV,
    REQUEST,
    SAMPLE_CSV,
    ExternalServer,
    MockApp,
    Server,
    TaskHarness,
)

SEED = Path(__file__).resolve().parents[4] / "shared" / "seed"

pytestmark = pytest.mark.timeout(60)


def closed_port() -> int:
    """Return a port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def body_json(outputs: dict[str, Any]) -> Any:
    return json.loads(outputs["body"])


# -- properties --------------------------------------------------------------------------------


def validate(**properties: Any) -> Request:
    return Request.model_validate(
        {"id": "request", "type": REQUEST, "uri": "http://x"} | properties
    )


def test_legacy_type_name_resolves_to_request() -> None:
    assert lookup("io.kestra.plugin.fs.http.Request") is Request


@pytest.mark.parametrize(
    ("properties", "where"),
    [
        pytest.param({"maxEvents": 3}, "maxEvents", id="unknown-property"),
        pytest.param({"options": {"folowRedirects": False}}, "folowRedirects", id="options-typo"),
        pytest.param({"options": {"timeout": {"read": "PT1S"}}}, "read", id="timeout-typo"),
        pytest.param({"options": {"auth": {"type": "NTLM"}}}, "auth", id="auth-type"),
        pytest.param(
            {"options": {"auth": {"type": "BASIC", "user": "x"}}}, "user", id="auth-property"
        ),
        pytest.param({"options": {"logs": ["EVERYTHING"]}}, "logs", id="log-type"),
        pytest.param({"options": {"maxContentLength": 3 * 1024**3}}, "maxContentLength", id="cap"),
    ],
)
def test_invalid_properties_are_rejected(properties: dict[str, Any], where: str) -> None:
    with pytest.raises(ValidationError, match=where):
        validate(**properties)


def test_deprecated_flat_options_are_accepted() -> None:
    task = validate(
        allowFailed=True,
        sslOptions={"insecureTrustAllCertificates": True},
        options={
            "connectTimeout": "PT1M",
            "readTimeout": "PT30S",
            "readIdleTimeout": "PT10M",
            "connectionPoolIdleTimeout": "PT10S",
            "maxContentLength": 1024,
            "basicAuthUser": "John",
            "basicAuthPassword": "p4ss",
            "proxyType": "HTTP",
            "proxyAddress": "127.0.0.1",
            "proxyPort": 3128,
            "logLevel": "TRACE",
        },
    )
    assert task.options is not None
    assert task.options.basic_auth_user == "John"


# -- R1-R26 ------------------------------------------------------------------------------------


async def test_r1_get(harness: TaskHarness, mock_server: Server) -> None:
    result = await harness.request(f"{mock_server.url}/hello")
    assert result.state is State.SUCCESS
    assert result.outputs["body"] == HELLO
    assert result.outputs["code"] == 200
    assert result.outputs["uri"] == f"{mock_server.url}/hello"
    assert result.outputs["headers"]["content-type"] == ["application/json"]
    assert "encryptedBody" not in result.outputs


async def test_r2_head_has_no_body(harness: TaskHarness, mock_server: Server) -> None:
    result = await harness.request(f"{mock_server.url}/headonly", method="HEAD")
    assert result.state is State.SUCCESS
    assert result.outputs["code"] == 200
    assert result.outputs["uri"] == f"{mock_server.url}/headonly"
    assert result.outputs.get("body") is None


async def test_r3_head_missing_object(harness: TaskHarness, httpbin_server: ExternalServer) -> None:
    result = await harness.request(f"{httpbin_server.url}/status/404", method="HEAD")
    assert result.state is State.FAILED
    assert result.error == "Failed http request with response code '404'"


async def test_r4_redirect_is_followed(harness: TaskHarness, mock_server: Server) -> None:
    result = await harness.request(f"{mock_server.url}/redirect")
    assert (result.outputs["code"], result.outputs["body"]) == (200, HELLO)
    # The request URI, not where the redirect led.
    assert result.outputs["uri"] == f"{mock_server.url}/redirect"


async def test_r5_redirect_not_followed(harness: TaskHarness, mock_server: Server) -> None:
    result = await harness.request(
        f"{mock_server.url}/redirect", options={"followRedirects": False}
    )
    assert result.state is State.SUCCESS
    assert result.outputs["code"] == 301
    assert result.outputs["headers"]["location"] == ["/hello"]


async def test_r6_params_are_added_to_the_query(harness: TaskHarness, mock_server: Server) -> None:
    params = {"hello": "world", "foo": "bar", "bar": ["foo1", "foo2"]}
    result = await harness.request(f"{mock_server.url}/params?foo=baz", params=params)
    query = result.outputs["body"].split("&")
    assert sorted(query) == sorted(["foo=baz", "hello=world", "foo=bar", "bar=foo1", "bar=foo2"])


@pytest.mark.parametrize(
    ("params", "query"),
    [
        pytest.param({"q": "a b&c=d"}, "q=a%20b%26c%3Dd", id="reserved-characters"),
        pytest.param({"name": "café"}, "name=caf%C3%A9", id="utf8"),
        pytest.param({"n": 1, "ok": True, "x": 1.5}, "n=1&ok=true&x=1.5", id="scalars"),
        pytest.param({"key with space": "v"}, "key%20with%20space=v", id="key"),
    ],
)
async def test_params_are_percent_encoded(
    harness: TaskHarness, mock_server: Server, params: dict[str, Any], query: str
) -> None:
    result = await harness.request(f"{mock_server.url}/params", params=params)
    assert result.outputs["body"] == query


async def test_r7_allow_failed_keeps_the_response(
    harness: TaskHarness, mock_server: Server
) -> None:
    result = await harness.request(f"{mock_server.url}/hello417", options={"allowFailed": True})
    assert result.state is State.SUCCESS
    assert (result.outputs["code"], result.outputs["body"]) == (417, HELLO)
    assert result.outputs["headers"]["content-type"] == ["application/json"]


async def test_r8_failed_status(harness: TaskHarness, mock_server: Server) -> None:
    result = await harness.request(f"{mock_server.url}/hello417")
    assert result.state is State.FAILED
    assert result.error == f"Failed http request with response code '417' and body:\n{HELLO}"


async def test_r9_failed_post_shows_the_body(
    harness: TaskHarness, mock_server: Server, mock_app: MockApp
) -> None:
    result = await harness.request(
        f"{mock_server.url}/markdown",
        method="POST",
        body="# hello web!",
        contentType="text/markdown",
        options={"defaultCharset": None},
    )
    assert result.state is State.FAILED
    assert result.error == "Failed http request with response code '417' and body:\n# hello world"
    assert mock_app.last().headers["Content-Type"] == "text/markdown"
    assert mock_app.last().body == b"# hello web!"


async def test_r10_trust_all_certificates(harness: TaskHarness, tls_server: Server) -> None:
    result = await harness.request(
        f"{tls_server.url}/hello", options={"ssl": {"insecureTrustAllCertificates": True}}
    )
    assert result.state is State.SUCCESS
    assert result.outputs["body"] == HELLO


@pytest.mark.parametrize(
    "properties",
    [
        pytest.param({"options": {"allowFailed": True}}, id="no-ssl-option"),
        pytest.param(
            {"options": {"ssl": {"insecureTrustAllCertificates": False}}}, id="explicit-false"
        ),
    ],
)
async def test_r11_self_signed_certificate_is_refused(
    harness: TaskHarness, tls_server: Server, properties: dict[str, Any]
) -> None:
    result = await harness.request(f"{tls_server.url}/hello", **properties)
    assert result.state is State.FAILED
    assert result.error.startswith(f"Failed http request to '{tls_server.url}/hello': ")
    assert "certificate verify failed" in result.error


async def test_deprecated_ssl_options(harness: TaskHarness, tls_server: Server) -> None:
    result = await harness.request(
        f"{tls_server.url}/hello", sslOptions={"insecureTrustAllCertificates": True}
    )
    assert result.state is State.SUCCESS


async def test_r12_post_json(harness: TaskHarness, mock_server: Server, mock_app: MockApp) -> None:
    result = await harness.request(
        f"{mock_server.url}/post/json", method="POST", body='{"hello":"world"}'
    )
    assert result.outputs["body"] == '{"hello":"world"}'
    assert mock_app.last().headers["Content-Type"] == "application/json; charset=UTF-8"


async def test_r13_url_encoded_form(harness: TaskHarness, mock_server: Server) -> None:
    result = await harness.run_task(
        {
            "id": "request",
            "type": REQUEST,
            "uri": f"{mock_server.url}/post/url-encoded",
            "method": "POST",
            "formData": {"hello": "world"},
            "headers": {"test": "{{ inputs.test }}"},
        },
        inputs=[{"id": "test", "type": "STRING", "defaults": "value"}],
    )
    assert result.outputs["body"] == "world > value"


async def test_url_encoded_values_are_text(
    harness: TaskHarness, mock_server: Server, mock_app: MockApp
) -> None:
    form = {"flag": True, "ratio": 1.5, "name": "José Müller", "tags": ["a", "b"]}
    await harness.request(f"{mock_server.url}/echo", method="POST", formData=form, body="ignored")
    received = mock_app.last()
    assert received.body == b"flag=true&ratio=1.5&name=Jos%C3%A9+M%C3%BCller&tags=a&tags=b"
    content_type = "application/x-www-form-urlencoded; charset=UTF-8"
    assert received.headers["Content-Type"] == content_type


async def test_r14_multipart_with_a_storage_file(
    harness: TaskHarness, mock_server: Server, mock_app: MockApp
) -> None:
    uri = harness.put_file("upload.txt", b"file content")
    result = await harness.request(
        f"{mock_server.url}/post/multipart",
        method="POST",
        contentType="multipart/form-data",
        formData={"hello": "world", "file": uri},
    )
    assert result.outputs["body"] == "world > file content"
    assert result.outputs["headers"]["x-name"] == ["upload.txt"]
    received = mock_app.last().body
    assert b'Content-Disposition: form-data; name="hello"\r\n' in received
    assert b"Content-Type: text/plain; charset=UTF-8\r\n\r\nworld\r\n" in received
    assert b"Content-Type: application/octet-stream\r\n" in received


async def test_multipart_streams_a_file_from_s3(
    tmp_path: Path, pool: ClientPool, mock_server: Server, s3_endpoint: str
) -> None:
    storage = storage_at(f"s3://{s3.new_bucket(s3_endpoint)}/lanner", s3.s3_options(s3_endpoint))
    harness = TaskHarness(tmp_path, pool, storage)
    uri = harness.put_file("upload.txt", b"file content from S3")
    result = await harness.request(
        f"{mock_server.url}/post/multipart",
        method="POST",
        contentType="multipart/form-data",
        formData={"hello": "world", "file": uri},
    )
    assert result.state is State.SUCCESS, result.error
    assert result.outputs["body"] == "world > file content from S3"


async def test_r15_multipart_file_with_a_name(harness: TaskHarness, mock_server: Server) -> None:
    uri = harness.put_file("upload.txt", b"file content")
    result = await harness.request(
        f"{mock_server.url}/post/multipart",
        method="POST",
        contentType="multipart/form-data",
        formData={"hello": "world", "file": {"name": "test.yml", "content": uri}},
    )
    assert result.outputs["body"] == "world > file content"
    assert result.outputs["headers"]["x-name"] == ["test.yml"]


async def test_multipart_json_parts(
    harness: TaskHarness, mock_server: Server, mock_app: MockApp
) -> None:
    # The docs' {file, url, metadata} shape is not a file: it is sent as JSON text.
    shape = {"file": "my-image.jpeg", "url": "kestra:///x", "metadata": {"a": 1}}
    await harness.request(
        f"{mock_server.url}/echo",
        method="POST",
        contentType="multipart/form-data",
        formData={"user": shape, "count": 3},
    )
    received = mock_app.last().body
    assert b'{"file":"my-image.jpeg","url":"kestra:///x","metadata":{"a":1}}' in received
    assert b"\r\n\r\n3\r\n" in received


async def test_multipart_missing_file(harness: TaskHarness, mock_server: Server) -> None:
    result = await harness.request(
        f"{mock_server.url}/echo",
        method="POST",
        contentType="multipart/form-data",
        formData={"file": "kestra:///nowhere/missing.txt"},
    )
    assert result.state is State.FAILED
    assert (
        result.error == "Unable to read file 'kestra:///nowhere/missing.txt': there is no such file"
    )


async def test_r16_large_upload_answered_413(harness: TaskHarness, mock_server: Server) -> None:
    uri = harness.put_file("big.bin", b"x" * 5 * 1024 * 1024)
    result = await harness.request(
        f"{mock_server.url}/too_large",
        method="POST",
        contentType="multipart/form-data",
        formData={"file": uri},
    )
    assert result.state is State.FAILED
    assert "response code '413'" in result.error


async def test_r18_binary_body_is_refused(harness: TaskHarness, mock_server: Server) -> None:
    result = await harness.request(f"{mock_server.url}/image.png")
    assert result.state is State.FAILED
    assert result.error.startswith("Illegal unicode code point in request body: ")
    assert result.error.endswith(
        ", the Request task only support valid Unicode strings as body.\n"
        "You can try using the Download task instead."
    )


def test_unassigned_code_point_is_reported_first_in_text_order() -> None:
    with pytest.raises(Exception, match=r"request body: 888,"):
        check_unicode("ok \u0378 then \u0379")
    check_unicode("emoji \U0001f600 and accents é")


@pytest.mark.parametrize(
    "options",
    [
        pytest.param(
            {"auth": {"type": "BASIC", "username": "John", "password": "p4ss"}}, id="auth"
        ),
        pytest.param({"basicAuthUser": "John", "basicAuthPassword": "p4ss"}, id="deprecated"),
    ],
)
async def test_r19_basic_auth(
    harness: TaskHarness, mock_server: Server, options: dict[str, Any]
) -> None:
    result = await harness.request(f"{mock_server.url}/auth/basic", options=options)
    assert result.outputs["body"] == '{"hello":"John"}'


async def test_r20_bearer_auth(harness: TaskHarness, mock_server: Server) -> None:
    token = "d6e4f5a8-90b1-4c2d-8e3f-a1b2c3d4e5f6"
    result = await harness.request(
        f"{mock_server.url}/auth/bearer", options={"auth": {"type": "BEARER", "token": token}}
    )
    assert result.outputs["body"] == f'{{"hello":"{token}"}}'


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256"])
async def test_r21_digest_auth(
    harness: TaskHarness, httpbin_server: ExternalServer, algorithm: str
) -> None:
    auth = {"type": "DIGEST", "username": "John", "password": "p4ss"}
    result = await harness.request(
        f"{httpbin_server.url}/digest-auth/auth/John/p4ss/{algorithm}", options={"auth": auth}
    )
    assert result.state is State.SUCCESS
    assert body_json(result.outputs) == {"authenticated": True, "user": "John"}


async def test_digest_auth_wrong_password(
    harness: TaskHarness, httpbin_server: ExternalServer
) -> None:
    auth = {"type": "DIGEST", "username": "John", "password": "wrong"}
    result = await harness.request(
        f"{httpbin_server.url}/digest-auth/auth/John/p4ss/MD5", options={"auth": auth}
    )
    assert result.state is State.FAILED
    assert result.error == "Failed http request with response code '401'"


async def test_r22_allowed_response_codes_override(
    harness: TaskHarness, mock_server: Server
) -> None:
    result = await harness.request(
        f"{mock_server.url}/hello", options={"allowedResponseCodes": [201]}
    )
    assert result.state is State.FAILED
    assert result.error.startswith("Failed http request with response code '200' and body:")


async def test_r23_vendor_content_type_with_all_logs(
    harness: TaskHarness, mock_server: Server
) -> None:
    content_type = "application/vnd.campaignsexport.v1+json"
    result = await harness.request(
        f"{mock_server.url}/content-type",
        method="POST",
        body="{}",
        contentType=content_type,
        options={"logs": list(LOGS), "defaultCharset": None},
    )
    assert result.outputs["body"] == content_type


async def test_r24_uri_with_spaces(harness: TaskHarness, mock_server: Server) -> None:
    result = await harness.request(f"{mock_server.url}/uri with space")
    assert result.outputs["body"] == "Hello World"
    assert result.outputs["uri"] == f"{mock_server.url}/uri%20with%20space"


@pytest.mark.parametrize("route", ["large", "large_chunked"])
async def test_r25_large_body_is_refused(
    harness: TaskHarness, mock_server: Server, route: str
) -> None:
    result = await harness.request(f"{mock_server.url}/{route}")
    assert result.state is State.FAILED
    assert "Response body is too large to store in task outputs" in result.error
    assert "Download" in result.error


@pytest.mark.parametrize(("size", "state"), [(100, State.SUCCESS), (101, State.FAILED)])
async def test_max_content_length(
    harness: TaskHarness, mock_server: Server, size: int, state: State
) -> None:
    result = await harness.request(
        f"{mock_server.url}/bytes?size={size}", options={"maxContentLength": 100}
    )
    assert result.state is state


# -- R26: the user's seed flows ------------------------------------------------------------------


def seed_flow(name: str, uri: str) -> dict[str, Any]:
    path = SEED / name
    if not path.is_file():
        pytest.skip(f"{path} is not available")
    flow: dict[str, Any] = yaml.safe_load(path.read_text())
    flow["tasks"][0]["uri"] = uri
    return flow


async def test_r26_seed_get_logs_the_csv(harness: TaskHarness, mock_server: Server) -> None:
    flow = seed_flow("flows_http_get.yml", f"{mock_server.url}/products.csv")
    request, log = await harness.run_flow(flow)
    assert request.state is State.SUCCESS
    assert request.outputs["body"] == PRODUCTS_CSV
    assert log.state is State.SUCCESS
    assert log.messages(Level.INFO) == [PRODUCTS_CSV]


async def test_r26_seed_post_sends_the_json_input(
    harness: TaskHarness, mock_server: Server, mock_app: MockApp
) -> None:
    flow = seed_flow("flows_http_post.yml", f"{mock_server.url}/api/users")
    request, log = await harness.run_flow(flow)
    assert request.state is State.SUCCESS
    received = mock_app.last()
    assert received.body == b'{"name":"Bob","job":"Developer"}'
    assert received.headers["Content-Type"] == "application/json; charset=UTF-8"
    assert request.outputs["code"] == 201
    assert json.loads(log.messages(Level.INFO)[0])["name"] == "Bob"


async def test_seed_post_with_other_inputs(
    harness: TaskHarness, mock_server: Server, mock_app: MockApp
) -> None:
    flow = seed_flow("flows_http_post.yml", f"{mock_server.url}/api/users")
    await harness.run_flow(flow, inputs={"payload": '{"name": "Ann", "job": "Tester"}'})
    assert mock_app.last().body == b'{"name":"Ann","job":"Tester"}'


# -- C1-C7 and K1 --------------------------------------------------------------------------------


async def test_c1_no_content(harness: TaskHarness, httpbin_server: ExternalServer) -> None:
    result = await harness.request(f"{httpbin_server.url}/status/204")
    assert result.state is State.SUCCESS
    assert result.outputs["code"] == 204
    assert result.outputs.get("body") is None


async def test_c2_failure_message_includes_the_body(
    harness: TaskHarness, mock_server: Server
) -> None:
    result = await harness.request(f"{mock_server.url}/status?code=400&body=missing+field")
    assert result.error == "Failed http request with response code '400' and body:\nmissing field"


async def test_c3_connection_refused(harness: TaskHarness) -> None:
    uri = f"http://127.0.0.1:{closed_port()}/hello"
    result = await harness.request(uri)
    assert result.state is State.FAILED
    assert result.error.startswith(f"Failed http request to '{uri}': ")
    assert "Connection refused" in result.error


@pytest.mark.parametrize(
    ("path", "error"),
    [
        pytest.param(None, HttpRequestError, id="transport"),
        pytest.param("/hello417", HttpResponseError, id="status"),
    ],
)
async def test_error_types(
    harness: TaskHarness, mock_server: Server, path: str | None, error: type[Exception]
) -> None:
    uri = f"{mock_server.url}{path}" if path else f"http://127.0.0.1:{closed_port()}/"
    task, ctx = harness.context({"id": "request", "type": REQUEST, "uri": uri})
    with pytest.raises(error) as raised:
        await task.run(ctx)
    if isinstance(raised.value, HttpResponseError):
        assert raised.value.status_code == 417


async def test_c4_use_proxy_status_is_not_an_error(
    harness: TaskHarness, mock_server: Server
) -> None:
    result = await harness.request(f"{mock_server.url}/status?code=305")
    assert result.state is State.SUCCESS
    assert result.outputs["code"] == 305


@pytest.mark.parametrize(("code", "state"), [(404, State.SUCCESS), (405, State.FAILED)])
async def test_c5_allowed_response_codes(
    harness: TaskHarness, httpbin_server: ExternalServer, code: int, state: State
) -> None:
    result = await harness.request(
        f"{httpbin_server.url}/status/{code}", options={"allowedResponseCodes": [404]}
    )
    assert result.state is state


async def test_c6_http_proxy_with_credentials(
    harness: TaskHarness, mock_server: Server, mock_app: MockApp
) -> None:
    proxy = {
        "type": "HTTP",
        "address": "127.0.0.1",
        "port": mock_server.port,
        "username": "proxy-user",
        "password": "proxy-pass",
    }
    result = await harness.request("http://api.example.invalid/hello", options={"proxy": proxy})
    assert result.outputs["body"] == HELLO
    assert mock_app.proxied[-1] == "http://api.example.invalid/hello"


async def test_proxy_address_without_a_type_is_an_http_proxy(
    harness: TaskHarness, mock_server: Server
) -> None:
    proxy = {"address": "127.0.0.1", "port": mock_server.port}
    result = await harness.request("http://api.example.invalid/hello", options={"proxy": proxy})
    assert result.error == "Failed http request with response code '407'"


async def test_deprecated_proxy_options(harness: TaskHarness, mock_server: Server) -> None:
    options = {
        "proxyType": "HTTP",
        "proxyAddress": "127.0.0.1",
        "proxyPort": mock_server.port,
        "proxyUsername": "proxy-user",
        "proxyPassword": "wrong",
    }
    result = await harness.request("http://api.example.invalid/hello", options=options)
    assert result.error == "Failed http request with response code '407'"


@pytest.mark.parametrize(
    ("proxy", "message"),
    [
        pytest.param(
            {"type": "HTTP", "address": "127.0.0.1"},
            "options.proxy.port is required with options.proxy.address",
            id="no-port",
        ),
    ],
)
async def test_proxy_problems(
    harness: TaskHarness, mock_server: Server, proxy: dict[str, Any], message: str
) -> None:
    result = await harness.request(f"{mock_server.url}/hello", options={"proxy": proxy})
    assert result.error.startswith(message)


async def test_direct_proxy_type_ignores_the_address(
    harness: TaskHarness, mock_server: Server
) -> None:
    proxy = {"type": "DIRECT", "address": "127.0.0.1", "port": closed_port()}
    result = await harness.request(f"{mock_server.url}/hello", options={"proxy": proxy})
    assert result.state is State.SUCCESS


LOGS = ("REQUEST_HEADERS", "REQUEST_BODY", "RESPONSE_HEADERS", "RESPONSE_BODY")


async def test_c7_all_logs(harness: TaskHarness, mock_server: Server) -> None:
    result = await harness.request(
        f"{mock_server.url}/post/json",
        method="POST",
        body='{"a":1}',
        headers={"Authorization": "Token s3cr3t-value"},
        options={"logs": list(LOGS)},
    )
    messages = result.messages()
    requests = [m for m in messages if m.startswith("request")]
    responses = [m for m in messages if m.startswith("response")]
    assert len(requests) == 3
    assert len(responses) == 3
    assert requests[0] == f"request:\n    method: POST\n    uri: {mock_server.url}/post/json"
    assert "\n    Content-Type: application/json; charset=UTF-8" in requests[1]
    assert "Authorization: Token ********" in requests[1]
    assert "s3cr3t-value" not in "".join(messages)
    assert requests[2] == 'request payload:\n    {"a":1}'
    assert responses[0] == "response:\n    status: 200 OK"
    assert "\n    Content-Type: application/json" in responses[1]
    assert responses[2] == 'response payload:\n    {"a":1}'


@pytest.mark.parametrize(
    ("level", "count"),
    [("TRACE", 6), ("DEBUG", 4), ("INFO", 2), ("ERROR", 0)],
)
async def test_deprecated_log_level(
    harness: TaskHarness, mock_server: Server, level: str, count: int
) -> None:
    result = await harness.request(f"{mock_server.url}/hello", options={"logLevel": level})
    lines = [m for m in result.messages() if m.startswith(("request", "response"))]
    assert len(lines) == count


async def test_k1_ignored_deprecated_option(harness: TaskHarness, mock_server: Server) -> None:
    results = await harness.run_flow(
        {
            "id": "k1",
            "namespace": "io.kestra.tests",
            "tasks": [
                {
                    "id": "request",
                    "type": "io.kestra.plugin.fs.http.Request",
                    "uri": f"{mock_server.url}/hello",
                    "options": {"connectionPoolIdleTimeout": "PT1M"},
                },
                {
                    "id": "check",
                    "type": "io.kestra.plugin.core.debug.Return",
                    "format": "{{ outputs.request.code == 200 }}",
                },
            ],
        }
    )
    assert results[1].outputs == {"value": "true"}


# -- headers, bodies, methods ----------------------------------------------------------------------


async def test_no_content_type_without_a_body(
    harness: TaskHarness, mock_server: Server, mock_app: MockApp
) -> None:
    result = await harness.request(f"{mock_server.url}/echo", contentType="application/json")
    assert result.state is State.SUCCESS
    assert "Content-Type" not in mock_app.last().headers
    assert mock_app.last().headers["User-Agent"].startswith("lanner")


async def test_user_headers_win_case_insensitively(
    harness: TaskHarness, mock_server: Server, mock_app: MockApp
) -> None:
    await harness.request(
        f"{mock_server.url}/echo",
        method="PUT",
        body="<a/>",
        headers={"content-type": "application/xml", "user-agent": "kestra-io", "X-Count": 3},
        options={"auth": {"type": "BEARER", "token": "t"}},
    )
    headers = mock_app.last().headers
    assert headers["Content-Type"] == "application/xml"
    assert headers["User-Agent"] == "kestra-io"
    assert headers["X-Count"] == "3"
    assert headers["Authorization"] == "Bearer t"


async def test_non_ascii_header_values_are_sent_as_utf8(
    harness: TaskHarness, mock_server: Server, mock_app: MockApp
) -> None:
    result = await harness.request(f"{mock_server.url}/echo", headers={"X-Name": "José"})
    assert result.state is State.SUCCESS
    # The server reads header bytes as ISO-8859-1, as HTTP/1.1 servers do.
    assert mock_app.last().headers["X-Name"] == "José".encode().decode("latin-1")


async def test_user_authorization_header_wins_over_auth(
    harness: TaskHarness, mock_server: Server, mock_app: MockApp
) -> None:
    auth = {"type": "BASIC", "username": "a", "password": "b"}
    await harness.request(
        f"{mock_server.url}/echo", headers={"Authorization": "Custom x"}, options={"auth": auth}
    )
    assert mock_app.last().headers["Authorization"] == "Custom x"


async def test_headers_from_an_expression(
    harness: TaskHarness, mock_server: Server, mock_app: MockApp
) -> None:
    await harness.run_task(
        {
            "id": "request",
            "type": REQUEST,
            "uri": f"{mock_server.url}/echo",
            "headers": "{{ inputs.headers }}",
        },
        inputs=[{"id": "headers", "type": "JSON", "defaults": '{"X-Api-Key": "k1"}'}],
    )
    assert mock_app.last().headers["X-Api-Key"] == "k1"


async def test_default_charset_encodes_the_body(
    harness: TaskHarness, mock_server: Server, mock_app: MockApp
) -> None:
    await harness.request(
        f"{mock_server.url}/echo",
        method="POST",
        body="café",
        contentType="text/plain",
        options={"defaultCharset": "ISO-8859-1"},
    )
    received = mock_app.last()
    assert received.body == "café".encode("latin-1")
    assert received.headers["Content-Type"] == "text/plain; charset=ISO-8859-1"


async def test_content_type_with_its_own_charset_is_kept(
    harness: TaskHarness, mock_server: Server, mock_app: MockApp
) -> None:
    await harness.request(
        f"{mock_server.url}/echo", method="POST", body="{}", contentType="text/json; charset=utf-8"
    )
    assert mock_app.last().headers["Content-Type"] == "text/json; charset=utf-8"


async def test_body_not_encodable_in_the_charset(harness: TaskHarness, mock_server: Server) -> None:
    result = await harness.request(
        f"{mock_server.url}/echo", body="€", options={"defaultCharset": "ISO-8859-1"}
    )
    assert result.error.startswith("The body cannot be encoded in ISO-8859-1: ")


async def test_unknown_charset(harness: TaskHarness, mock_server: Server) -> None:
    result = await harness.request(
        f"{mock_server.url}/echo", body="x", options={"defaultCharset": "NOPE-1"}
    )
    assert result.error == "Unknown charset 'NOPE-1' in options.defaultCharset"


async def test_response_is_decoded_as_utf8_whatever_its_charset(
    harness: TaskHarness, mock_server: Server
) -> None:
    result = await harness.request(f"{mock_server.url}/latin1")
    assert result.outputs["body"] == "caf\ufffd"


async def test_body_is_never_parsed(harness: TaskHarness, httpbin_server: ExternalServer) -> None:
    result = await harness.request(f"{httpbin_server.url}/json")
    assert isinstance(result.outputs["body"], str)


@pytest.mark.parametrize("method", ["DELETE", "PATCH", "OPTIONS", "post"])
async def test_any_method(
    harness: TaskHarness, mock_server: Server, mock_app: MockApp, method: str
) -> None:
    result = await harness.request(f"{mock_server.url}/echo", method=method)
    assert result.state is State.SUCCESS
    assert mock_app.last().method == method.upper()


async def test_rendered_properties(
    harness: TaskHarness, mock_server: Server, mock_app: MockApp
) -> None:
    result = await harness.run_task(
        {
            "id": "request",
            "type": REQUEST,
            "uri": "{{ inputs.base }}/{{ inputs.path }}",
            "method": "{{ inputs.method }}",
            "body": "{{ {'title': inputs.title} }}",
            "params": {"page": "{{ inputs.page }}"},
            "options": {
                "followRedirects": "{{ inputs.follow }}",
                "allowedResponseCodes": "{{ [200, 201] }}",
            },
        },
        inputs=[
            {"id": "base", "type": "STRING", "defaults": mock_server.url},
            {"id": "path", "type": "STRING", "defaults": "echo"},
            {"id": "method", "type": "STRING", "defaults": "POST"},
            {"id": "title", "type": "STRING", "defaults": 'Kestra "Pen"'},
            {"id": "page", "type": "INT", "defaults": 2},
            {"id": "follow", "type": "BOOLEAN", "defaults": False},
        ],
    )
    assert result.state is State.SUCCESS
    received = mock_app.last()
    assert (received.method, received.query) == ("POST", "page=2")
    assert received.body == b'{"title":"Kestra \\"Pen\\""}'


async def test_invalid_rendered_option(harness: TaskHarness, mock_server: Server) -> None:
    result = await harness.request(
        f"{mock_server.url}/hello", options={"followRedirects": "{{ 'maybe' }}"}
    )
    assert result.state is State.FAILED
    assert result.error.startswith("Invalid value for 'options.followRedirects': 'maybe'")


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        pytest.param("ftp://127.0.0.1/x", "Failed http request to 'ftp://127.0.0.1/x': ", id="ftp"),
        pytest.param("127.0.0.1/x", "Failed http request to '127.0.0.1/x': ", id="no-scheme"),
        pytest.param("http://[::1/x", "Invalid URI 'http://[::1/x': ", id="malformed"),
    ],
)
async def test_bad_uris(harness: TaskHarness, uri: str, message: str) -> None:
    result = await harness.request(uri)
    assert result.state is State.FAILED
    assert result.error.startswith(message)


async def test_debug_log_names_the_remote_address(
    harness: TaskHarness, mock_server: Server
) -> None:
    result = await harness.request(f"{mock_server.url}/hello")
    expected = (
        f"Request '{mock_server.url}/hello' from '127.0.0.1:{mock_server.port}' "
        "with the response code '200'"
    )
    assert expected in result.messages(Level.DEBUG)


# -- timeouts and the client pool ------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"timeout": {"readIdleTimeout": "PT0.2S"}}, id="timeout"),
        pytest.param({"readTimeout": "PT0.2S"}, id="deprecated"),
    ],
)
async def test_read_idle_timeout(
    harness: TaskHarness, mock_server: Server, options: dict[str, Any]
) -> None:
    result = await harness.request(f"{mock_server.url}/slow?seconds=1", options=options)
    assert result.state is State.FAILED
    assert result.error == (
        f"Failed http request to '{mock_server.url}/slow?seconds=1': "
        "no data for PT0.2S (options.timeout.readIdleTimeout)"
    )


@pytest.fixture
def full_backlog() -> Iterator[int]:
    """Yield a port whose listen queue is full, so a new connection is never accepted."""
    with contextlib.ExitStack() as stack:
        listener = stack.enter_context(socket.socket())
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port: int = listener.getsockname()[1]
        for _ in range(3):
            filler = stack.enter_context(socket.socket())
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
        yield port


async def test_connect_timeout(harness: TaskHarness, full_backlog: int) -> None:
    uri = f"http://127.0.0.1:{full_backlog}/"
    result = await harness.request(uri, options={"timeout": {"connectTimeout": "PT0.3S"}})
    assert result.error == (
        f"Failed http request to '{uri}': no connection within PT0.3S "
        "(options.timeout.connectTimeout)"
    )


async def test_default_timeouts_have_no_short_read_limit(
    harness: TaskHarness, mock_server: Server, pool: ClientPool
) -> None:
    await harness.request(f"{mock_server.url}/hello")
    client = pool.get(verify=True, follow_redirects=True, connect_timeout=30.0, read_timeout=300.0)
    assert len(pool) == 1
    assert client.timeout.read == 300.0
    assert client.timeout.connect == 30.0


async def test_pool_shares_one_client_per_configuration(pool: ClientPool) -> None:
    first = pool.get()
    assert pool.get() is first
    assert pool.get(verify=False) is not first
    assert pool.get(read_timeout=1.0) is not first
    assert len(pool) == 3
    await pool.aclose()
    assert len(pool) == 0
    assert pool.get() is not first


async def test_pool_does_not_queue_concurrent_requests(
    pool: ClientPool, mock_server: Server, mock_app: MockApp
) -> None:
    # httpx's default limit of 100 connections would hold half of these back.
    mock_app.slow_peak = 0
    client = pool.get()
    responses = await asyncio.gather(
        *(client.get(f"{mock_server.url}/slow?seconds=2") for _ in range(200))
    )
    assert all(response.status_code == 200 for response in responses)
    assert mock_app.slow_peak >= 200


async def test_cookies_do_not_leak_between_requests(
    harness: TaskHarness, httpbin_server: ExternalServer
) -> None:
    await harness.request(f"{httpbin_server.url}/cookies/set?session=secret")
    result = await harness.request(f"{httpbin_server.url}/cookies")
    assert body_json(result.outputs) == {"cookies": {}}


async def test_basic_auth_header_is_preemptive(
    harness: TaskHarness, mock_server: Server, mock_app: MockApp
) -> None:
    auth = {"type": "BASIC", "username": "Jöhn", "password": 1234}
    await harness.request(f"{mock_server.url}/echo", options={"auth": auth})
    expected = base64.b64encode("Jöhn:1234".encode()).decode()
    assert mock_app.last().headers["Authorization"] == f"Basic {expected}"


async def test_sample_csv(harness: TaskHarness, mock_server: Server) -> None:
    result = await harness.request(f"{mock_server.url}/sample.csv")
    assert result.outputs["body"] == SAMPLE_CSV


# -- the user page -------------------------------------------------------------------------------

DOC = Path(__file__).resolve().parents[3] / "docs" / "http.md"


def documented_flows() -> list[Any]:
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    return [
        pytest.param(yaml.safe_load(block), id=f"example-{i}") for i, block in enumerate(blocks)
    ]


@pytest.mark.parametrize("flow", documented_flows())
def test_documented_flows_are_valid(flow: dict[str, Any]) -> None:
    Flow.model_validate(flow)


async def test_documented_json_example_runs(harness: TaskHarness, mock_server: Server) -> None:
    flows = [p.values[0] for p in documented_flows()]
    flow = next(f for f in flows if isinstance(f, dict) and f["id"] == "parse_json_response")
    flow["tasks"][0]["uri"] = f"{mock_server.url}/api/users"
    create_user, show_id = await harness.run_flow(flow)
    assert create_user.outputs["code"] == 201
    assert show_id.messages(Level.INFO) == ["User 1 has code 201"]
