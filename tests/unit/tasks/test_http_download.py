"""The Download task against the local mock server (spec http-tasks.md §3, cases D1-D8)."""

from __future__ import annotations

import tracemalloc
from pathlib import Path
from typing import Any

import httpx
import pytest

from lanner.exceptions import TaskError
from lanner.executions import Level
from lanner.httpclient import ClientPool
from lanner.states import State
from lanner.storage import storage_at
from lanner.tasks.http_download import Download, _check_length, disposition_name
from lanner.tasks.registry import lookup
from tests import s3
from tests.httpservers import HELLO, SAMPLE_CSV, Server, TaskHarness, png_image

pytestmark = pytest.mark.timeout(120)

DOWNLOAD = "io.kestra.plugin.core.http.Download"


async def download(harness: TaskHarness, uri: str, **properties: Any) -> Any:
    return await harness.run_task({"id": "download", "type": DOWNLOAD, "uri": uri, **properties})


def test_both_type_names_resolve_to_download() -> None:
    assert lookup(DOWNLOAD) is Download
    assert lookup("io.kestra.plugin.fs.http.Download") is Download


async def test_d1_sample_csv(harness: TaskHarness, mock_server: Server) -> None:
    result = await download(harness, f"{mock_server.url}/sample.csv")
    assert result.state is State.SUCCESS, result.error
    uri = result.outputs["uri"]
    assert uri.startswith("kestra:///io/kestra/tests/test/executions/")
    assert "/tasks/download/" in uri
    assert uri.endswith(".csv")
    assert harness.storage.read(uri) == SAMPLE_CSV.encode()
    assert result.outputs["length"] == 44
    assert result.outputs["code"] == 200
    assert result.outputs["headers"]["content-type"] == ["text/csv"]


async def test_d2_empty_response_fails(harness: TaskHarness, mock_server: Server) -> None:
    result = await download(harness, f"{mock_server.url}/204")
    assert result.state is State.FAILED
    assert result.error == "No response from server"


async def test_d3_empty_response_allowed(harness: TaskHarness, mock_server: Server) -> None:
    url = f"{mock_server.url}/204"
    result = await download(harness, url, failOnEmptyResponse=False)
    assert result.state is State.SUCCESS, result.error
    assert result.outputs["length"] == 0
    assert result.outputs["code"] == 204
    assert harness.storage.read(result.outputs["uri"]) == b""
    assert f"File '{url}' is empty" in result.messages(Level.WARN)


async def test_empty_response_with_allow_failed_is_stored(
    harness: TaskHarness, mock_server: Server
) -> None:
    result = await download(harness, f"{mock_server.url}/204", options={"allowFailed": True})
    assert result.state is State.SUCCESS, result.error
    assert result.outputs["length"] == 0


async def test_d4_server_error_fails(harness: TaskHarness, mock_server: Server) -> None:
    result = await download(harness, f"{mock_server.url}/500")
    assert result.state is State.FAILED
    assert "Failed http request with response code '500'" in result.error


async def test_allowed_response_codes_accept_an_error(
    harness: TaskHarness, mock_server: Server
) -> None:
    url = f"{mock_server.url}/500"
    result = await download(harness, url, options={"allowedResponseCodes": [500]})
    assert result.state is State.SUCCESS, result.error
    assert harness.storage.read(result.outputs["uri"]) == b"Internal Server Error"


async def test_d5_chunked_body(harness: TaskHarness, mock_server: Server) -> None:
    result = await download(harness, f"{mock_server.url}/chunked")
    assert result.state is State.SUCCESS, result.error
    assert "content-length" not in result.outputs["headers"]
    assert result.outputs["length"] == 120_000
    assert len(harness.storage.read(result.outputs["uri"])) == 120_000


@pytest.mark.parametrize("path", ["/content-disposition", "/content-disposition-path"])
async def test_d6_content_disposition_name(
    harness: TaskHarness, mock_server: Server, path: str
) -> None:
    result = await download(harness, mock_server.url + path)
    assert result.state is State.SUCCESS, result.error
    uri = result.outputs["uri"]
    assert uri.endswith("/filename.jpg")
    assert "/secure-path/" not in uri
    assert harness.storage.read(uri) == png_image()


async def test_d7_double_dot_name(harness: TaskHarness, mock_server: Server) -> None:
    result = await download(harness, f"{mock_server.url}/content-disposition-double-dot")
    assert result.state is State.SUCCESS, result.error
    assert result.outputs["uri"].endswith("/filename..jpg")


async def test_rfc5987_name_wins(harness: TaskHarness, mock_server: Server) -> None:
    result = await download(harness, f"{mock_server.url}/content-disposition-utf8")
    assert result.state is State.SUCCESS, result.error
    assert result.outputs["uri"].endswith("/café menu.jpg")


async def test_file_name_overrides_content_disposition(
    harness: TaskHarness, mock_server: Server
) -> None:
    url = f"{mock_server.url}/content-disposition"
    result = await download(harness, url, fileName="{{ 'picture' }}.png")
    assert result.state is State.SUCCESS, result.error
    assert result.outputs["uri"].endswith("/picture.png")


async def test_d8_allow_failed_keeps_code_and_headers(
    harness: TaskHarness, mock_server: Server
) -> None:
    url = f"{mock_server.url}/hello417"
    result = await download(harness, url, options={"allowFailed": True})
    assert result.state is State.SUCCESS, result.error
    assert result.outputs["code"] == 417
    assert result.outputs["headers"]["content-type"] == ["application/json"]
    assert harness.storage.read(result.outputs["uri"]) == HELLO.encode()


async def test_large_download_is_streamed(harness: TaskHarness, mock_server: Server) -> None:
    size = 50 * 1024 * 1024
    tracemalloc.start()
    try:
        result = await download(harness, f"{mock_server.url}/stream?size={size}")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.state is State.SUCCESS, result.error
    assert result.outputs["length"] == size
    assert harness.storage.size(result.outputs["uri"]) == size
    # Far below the 50 MiB body: it went to storage as it came. What is counted includes the
    # test server's own 1 MiB chunks (it runs in this process) and whatever else runs meanwhile.
    assert peak < 16 * 1024 * 1024


async def test_large_download_to_s3_is_streamed(
    tmp_path: Path, pool: ClientPool, mock_server: Server, s3_endpoint: str
) -> None:
    bucket = s3.new_bucket(s3_endpoint)
    storage = storage_at(f"s3://{bucket}/lanner", s3.s3_options(s3_endpoint))
    harness = TaskHarness(tmp_path, pool, storage)
    size = 128 * 1024 * 1024
    tracemalloc.start()
    try:
        result = await download(harness, f"{mock_server.url}/stream?size={size}")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.state is State.SUCCESS, result.error
    assert result.outputs["length"] == size
    assert storage.size(result.outputs["uri"]) == size
    # S3 takes a part of BLOCK bytes at a time, which the client copies a few times (about 45
    # MB in all, measured the same for 32 MiB and 128 MiB files): far from the file's size.
    assert peak < size // 2


async def test_a_failed_download_to_s3_leaves_no_file(
    tmp_path: Path, pool: ClientPool, mock_server: Server, s3_endpoint: str
) -> None:
    bucket = s3.new_bucket(s3_endpoint)
    storage = storage_at(f"s3://{bucket}/lanner", s3.s3_options(s3_endpoint))
    harness = TaskHarness(tmp_path, pool, storage)
    result = await download(harness, f"{mock_server.url}/stream?size=0")
    assert result.state is State.FAILED
    assert result.error == "No response from server"
    assert storage.files_under("") == []


def test_announced_length_must_match() -> None:
    response = httpx.Response(200, headers={"content-length": "10"}, content=b"12345")
    with pytest.raises(TaskError, match=r"^Invalid size, got 5, expected 10$"):
        _check_length(response, 5)
    _check_length(response, 10)


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ('attachment; filename="report.pdf"', "report.pdf"),
        ("attachment; filename=report.pdf", "report.pdf"),
        ('attachment; filename="a;b.txt"', "a;b.txt"),
        ("attachment; filename*=UTF-8''na%C3%AFve.txt; filename=\"plain.txt\"", "naïve.txt"),
        ('attachment; filename="/a/b/../c.txt"', "c.txt"),
        ('attachment; filename=".."', ""),
        ("inline", ""),
        (None, ""),
    ],
)
def test_disposition_name(header: str | None, name: str) -> None:
    assert disposition_name(header) == name
