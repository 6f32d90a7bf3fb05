"""The SseRequest task against a local event-stream server (spec http-tasks.md §5, S1-S6)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from werkzeug.wrappers import Request, Response

from lanner.executions import Level
from lanner.sse import LineSplitter, SseEvent, SseParser
from lanner.states import State
from lanner.tasks.http_sse import SseRequest
from lanner.tasks.registry import lookup
from tests.httpservers import Server, TaskHarness, serve

pytestmark = pytest.mark.timeout(60)

SSE = "io.kestra.plugin.core.http.SseRequest"


def _json_events(*items: Any) -> list[bytes]:
    return [f"data: {json.dumps(item)}\n\n".encode() for item in items]


# Each route streams these chunks, one write each, so events cross chunk boundaries as they may.
STREAMS: dict[str, list[bytes]] = {
    "/text": [f"data: event {n}\n\n".encode() for n in range(1, 6)],
    "/json": _json_events(*({"message": word} for word in ("Hello", "World", "Test"))),
    "/nested": _json_events({"data": {"value": 1}}, {"data": {"value": "2"}}),
    "/mixed": [
        *_json_events({"data": {"value": 1}}),
        b"data: not json\n\n",
        *_json_events({"data": {"value": 2}}),
        b"data: plain again\n\n",
    ],
    "/multiline": [b"data: first line\ndata: second line\n\n"],
    "/fields": [
        b": opening comment\r\n\r\n",
        b'id: 7\r\nevent: update\r\nretry: 1500\r\n: a comment\r\ndata: {"n"',
        b": 1}\r",
        b"\n\r\n",
        b"id\ndata\n\n",
        b"retry: 10s\ndata:no space\n\n",
        b"data: never dispatched",
    ],
    "/numbers": _json_events({"v": 12}, {"v": True}, {"v": 1.5}),
    "/objects": _json_events({"v": {"a": 1}}),
}


def sse_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    request = Request(environ)
    chunks: Iterable[bytes]
    if request.path == "/auth":
        if request.headers.get("X-API-Key") != "secret-key":
            return Response("missing key", status=401)(environ, start_response)
        chunks = _json_events({"status": "authorized"})
    elif request.path == "/endless":
        chunks = _endless()
    elif request.path in STREAMS:
        chunks = STREAMS[request.path]
    else:
        return Response("not found", status=404)(environ, start_response)
    response = Response(_flushed(chunks), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    return response(environ, start_response)


def _flushed(chunks: Iterable[bytes]) -> Iterator[bytes]:
    for chunk in chunks:
        yield chunk
        time.sleep(0.005)


def _endless() -> Iterator[bytes]:
    yield b"data: first\n\n"
    # Keep the connection busy until the client goes away (bounded, should it not).
    for _ in range(200):
        time.sleep(0.05)
        yield b": still here\n\n"


@pytest.fixture(scope="module")
def sse_server() -> Iterator[Server]:
    server = serve(sse_app)
    yield server
    server.close()


async def sse(harness: TaskHarness, server: Server, path: str, **properties: Any) -> Any:
    task = {"id": "sse", "type": SSE, "uri": f"{server.url}{path}", **properties}
    return await harness.run_task(task)


def test_the_type_resolves() -> None:
    assert lookup(SSE) is SseRequest


async def test_s1_text_events(harness: TaskHarness, sse_server: Server) -> None:
    result = await sse(harness, sse_server, "/text")
    assert result.state is State.SUCCESS, result.error
    assert result.outputs["size"] == 5
    assert result.outputs["events"] == [{"data": f"event {n}"} for n in range(1, 6)]
    assert "result" not in result.outputs
    assert result.outputs["uri"] == f"{sse_server.url}/text"


async def test_s2_jq_concatenates_each_events_text(
    harness: TaskHarness, sse_server: Server
) -> None:
    result = await sse(harness, sse_server, "/json", concatJqExpression=".data.message")
    assert result.state is State.SUCCESS, result.error
    assert result.outputs["result"] == "HelloWorldTest"
    assert result.outputs["size"] == 3
    assert "events" not in result.outputs


async def test_s3_nested_values_and_numbers_become_text(
    harness: TaskHarness, sse_server: Server
) -> None:
    result = await sse(harness, sse_server, "/nested", concatJqExpression=".data.data.value")
    assert result.outputs["result"] == "12"
    numbers = await sse(harness, sse_server, "/numbers", concatJqExpression=".data.v")
    assert numbers.outputs["result"] == "12true1.5"


async def test_s4_headers_are_sent(harness: TaskHarness, sse_server: Server) -> None:
    refused = await sse(harness, sse_server, "/auth")
    assert refused.state is State.FAILED
    assert "Failed http request with response code '401' and body:\nmissing key" in refused.error
    result = await sse(harness, sse_server, "/auth", headers={"X-API-Key": "secret-key"})
    assert result.state is State.SUCCESS, result.error
    assert result.outputs["events"][0]["data"]["status"] == "authorized"


async def test_s5_jq_error_fails_the_task(harness: TaskHarness, sse_server: Server) -> None:
    result = await sse(harness, sse_server, "/mixed", concatJqExpression=".data.data.value")
    assert result.state is State.FAILED
    assert result.error.startswith(
        "Failed to resolve JQ expression '.data.data.value' and value '{\"data\":\"not json\"}'"
    )


async def test_s5_missing_jq_skips_the_event_when_asked(
    harness: TaskHarness, sse_server: Server
) -> None:
    result = await sse(
        harness,
        sse_server,
        "/mixed",
        concatJqExpression=".data.data.value",
        failedOnMissingJq=False,
    )
    assert result.state is State.SUCCESS, result.error
    assert result.outputs["size"] == 4
    assert result.outputs["result"] == "12"
    skipped = [m for m in result.messages(Level.DEBUG) if m.endswith("Skipping this event.")]
    assert len(skipped) == 2


async def test_a_jq_result_that_is_not_text_fails(harness: TaskHarness, sse_server: Server) -> None:
    result = await sse(harness, sse_server, "/objects", concatJqExpression=".data.v")
    assert result.state is State.FAILED
    assert "Expected text value from JQ expression but got: OBJECT" in result.error
    missing = await sse(harness, sse_server, "/json", concatJqExpression=".data.nothing")
    assert "Expected text value from JQ expression but got: NULL" in missing.error


async def test_an_invalid_jq_expression_fails_before_the_request(
    harness: TaskHarness, sse_server: Server
) -> None:
    result = await sse(harness, sse_server, "/json", concatJqExpression=".data[")
    assert result.state is State.FAILED
    assert result.error == "Invalid jq expression '.data[' (concatJqExpression)"


async def test_s6_multi_line_data_is_one_event(harness: TaskHarness, sse_server: Server) -> None:
    result = await sse(harness, sse_server, "/multiline")
    assert result.outputs["events"] == [{"data": "first line\nsecond line"}]


async def test_ids_names_retry_and_comments(harness: TaskHarness, sse_server: Server) -> None:
    result = await sse(harness, sse_server, "/fields")
    assert result.state is State.SUCCESS, result.error
    assert result.outputs["events"] == [
        {"data": {"n": 1}, "id": "7", "name": "update", "comment": "a comment", "retry": "PT1.5S"},
        {"id": ""},
        {"data": "no space"},
    ]
    assert result.outputs["size"] == 3


async def test_the_task_timeout_stops_an_endless_stream(
    harness: TaskHarness, sse_server: Server
) -> None:
    result = await sse(harness, sse_server, "/endless", timeout="PT0.5S")
    assert result.state is State.FAILED
    assert result.error == "Timeout after PT0.5S"


async def test_maxevents_is_not_a_property(harness: TaskHarness, sse_server: Server) -> None:
    with pytest.raises(ValidationError, match="maxEvents"):
        await sse(harness, sse_server, "/text", maxEvents=10)


# -- the stream format ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("chunks", "lines"),
    [
        ([b"a\nb\n"], ["a", "b"]),
        ([b"a\r\nb\rc\n"], ["a", "b", "c"]),
        ([b"a\r", b"\nb\n"], ["a", "b"]),
        ([b"a\r", b"", b"\nb\n"], ["a", "b"]),
        ([b"a\r", b"\r\n"], ["a", ""]),
        ([b"caf\xc3", b"\xa9\n"], ["caf\u00e9"]),
        (["x\u2028y\n".encode()], ["x\u2028y"]),
        ([b"tail without end"], []),
    ],
    ids=["lf", "mixed", "crlf-split", "empty-chunk", "cr-then-crlf", "utf8-split", "u2028", "tail"],
)
def test_line_splitting(chunks: list[bytes], lines: list[str]) -> None:
    splitter = LineSplitter()
    assert [line for chunk in chunks for line in splitter.feed(chunk)] == lines


def test_the_parser_resets_after_each_blank_line() -> None:
    parser = SseParser()
    found = [parser.line(line) for line in ["id: 1", "data: a", "", "data: b", ""]]
    assert found == [None, None, SseEvent("a", id="1"), None, SseEvent("b")]
    assert [parser.line(line) for line in ["retry: 2000", "data: c", ""]][-1] == SseEvent(
        "c", retry=timedelta(seconds=2)
    )
