"""End to end on S3: a flow downloads files into an S3 bucket (moto's server on 127.0.0.1),
reads them back in an expression, and the API serves them.

The settings name the storage as a deployment does (`LANNER_STORAGE`,
`LANNER_STORAGE_OPTIONS`); the bucket is then read directly, to show the files are there and
not on the local disk.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lanner.services import Services
from lanner.settings import Settings
from lanner.storage import FsspecStorage
from tests import s3
from tests.api.conftest import API
from tests.api.executions_support import run, save_flows, task_run
from tests.httpservers import LARGE_SIZE, SAMPLE_CSV, MockApp, Server, serve

FLOW = """
id: s3_download
namespace: company.team
inputs:
  - id: server
    type: STRING
tasks:
  - id: dl
    type: io.kestra.plugin.core.http.Download
    uri: "{{ inputs.server }}/sample.csv"
  - id: show
    type: io.kestra.plugin.core.log.Log
    message: "{{ read(outputs.dl.uri) }} / {{ read('greeting.txt') }}"
  - id: big
    type: io.kestra.plugin.core.http.Download
    uri: "{{ inputs.server }}/large"
"""


@pytest.fixture
def bucket(s3_endpoint: str) -> str:
    return s3.new_bucket(s3_endpoint)


@pytest.fixture
def settings(tmp_path: Path, database_url: str, s3_endpoint: str, bucket: str) -> Settings:
    """The API tests' settings, with the storage in an S3 bucket."""
    environ = {
        "LANNER_STORAGE": f"s3://{bucket}/lanner",
        "LANNER_STORAGE_OPTIONS": json.dumps(s3.s3_options(s3_endpoint)),
    }
    return Settings.load(home=tmp_path / "home", database_url=database_url, environ=environ)


@pytest.fixture
def http_server() -> Iterator[Server]:
    server = serve(MockApp())
    yield server
    server.close()


def stored(endpoint: str, bucket: str, uri: str) -> bytes | None:
    """The object of a `kestra://` file in the bucket, read by another client."""
    return s3.object_content(endpoint, bucket, "lanner/" + uri.removeprefix("kestra:///"))


async def test_a_flow_downloads_to_s3_and_the_api_serves_the_files(
    client: httpx.AsyncClient,
    services: Services,
    http_server: Server,
    s3_endpoint: str,
    bucket: str,
    tmp_path: Path,
) -> None:
    assert isinstance(services.storage, FsspecStorage)
    upload = await client.post(
        f"{API}/namespaces/company.team/files",
        params={"path": "/greeting.txt"},
        files={"fileContent": ("greeting.txt", b"hello from S3")},
    )
    assert upload.status_code == 200, upload.text
    await save_flows(services, FLOW)

    execution = await run(client, "s3_download", data={"server": http_server.url})

    assert execution["state"]["current"] == "SUCCESS", execution
    small: str = task_run(execution, "dl")["outputs"]["uri"]
    big: str = task_run(execution, "big")["outputs"]["uri"]
    logs = await services.store.get_logs(execution["id"])
    assert f"{SAMPLE_CSV} / hello from S3" in [log.message for log in logs]
    # The bytes are objects of the bucket; nothing went to the local disk.
    assert stored(s3_endpoint, bucket, small) == SAMPLE_CSV.encode()
    assert not (tmp_path / "home" / "storage").exists()

    await check_file_routes(client, execution, small, big)

    deleted = await client.delete(f"{API}/executions/{execution['id']}")
    assert deleted.status_code == 204
    assert stored(s3_endpoint, bucket, small) is None
    assert not services.storage.exists(big)


async def check_file_routes(
    client: httpx.AsyncClient, execution: dict[str, Any], small: str, big: str
) -> None:
    url = f"{API}/executions/{execution['id']}/file"

    downloaded = await client.get(url, params={"path": small})
    assert downloaded.status_code == 200
    assert downloaded.content == SAMPLE_CSV.encode()
    name = small.rsplit("/", 1)[1]
    assert downloaded.headers["content-disposition"] == f'attachment; filename="{name}"'
    # Larger than one upload part: S3 took it in several, the API streams it back.
    large = await client.get(url, params={"path": big})
    assert large.status_code == 200
    assert large.headers["content-length"] == str(LARGE_SIZE)
    assert large.content == b"x" * LARGE_SIZE

    metas = await client.get(f"{url}/metas", params={"path": big})
    assert metas.json() == {"size": LARGE_SIZE}
    preview = await client.get(f"{url}/preview", params={"path": small, "maxRows": 2})
    assert preview.json() == {
        "extension": "csv",
        "type": "TEXT",
        "content": "id,name,value\n1,foo,100",
        "truncated": True,
    }
    missing = small.replace(name, "gone.csv")
    absent = await client.get(url, params={"path": missing})
    assert absent.status_code == 404
    assert absent.json()["message"] == f"Not Found: Unable to find file '{missing}'"
