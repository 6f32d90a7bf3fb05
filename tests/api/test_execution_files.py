"""Files of an execution: FILE inputs uploaded in the create request, download, size, preview."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from lanner.expressions.ion import write_ion
from lanner.services import Services
from lanner.storage import execution_prefix
from tests.api.conftest import API
from tests.api.executions_support import FAMILIES, HELLO, run, save_flows
from tests.httpservers import png_image


@pytest.fixture
async def execution(client: httpx.AsyncClient, services: Services) -> dict[str, Any]:
    """An ended execution of `hello` with the FILE input `doc` uploaded as notes.txt."""
    await save_flows(services, HELLO)
    return await run(client, "hello", files={"doc": ("notes.txt", b"first\nsecond\n")})


def put(services: Services, execution: dict[str, Any], name: str, data: bytes) -> str:
    """Store a file in the execution's folder and return its URI."""
    folder = execution_prefix(execution["namespace"], execution["flowId"], execution["id"])
    return services.storage.put(f"{folder}/outputs", name, data)


def error_of(response: httpx.Response) -> str:
    message: str = response.json()["message"]
    return message


async def test_a_file_input_is_stored_under_the_execution(execution: dict[str, Any]) -> None:
    expected = f"kestra:///company/team/hello/executions/{execution['id']}/inputs/doc/notes.txt"
    assert execution["inputs"]["doc"] == expected


@pytest.mark.parametrize(
    ("files", "stored_name"),
    [
        ({"files": ("doc", b"old style")}, "doc"),
        ([("doc", ("doc", b"old style"))], "doc"),
        ({"doc": ("report.csv", b"old style")}, "report.csv"),
    ],
    ids=["files-part-keyed-by-filename", "kestrapy-bytes", "part-keyed-by-input"],
)
async def test_every_client_style_of_file_part_reaches_the_input(
    client: httpx.AsyncClient, services: Services, files: Any, stored_name: str
) -> None:
    await save_flows(services, HELLO)
    execution = await run(client, "hello", files=files)
    uri = execution["inputs"]["doc"]
    assert uri.endswith(f"/executions/{execution['id']}/inputs/doc/{stored_name}")
    assert services.storage.read(uri) == b"old style"


@pytest.mark.parametrize("prefix", FAMILIES)
async def test_download_returns_the_bytes_as_an_attachment(
    client: httpx.AsyncClient, execution: dict[str, Any], prefix: str
) -> None:
    url = f"{prefix}/executions/{execution['id']}/file"
    response = await client.get(url, params={"path": execution["inputs"]["doc"]})
    assert response.status_code == 200
    assert response.content == b"first\nsecond\n"
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"] == 'attachment; filename="notes.txt"'


async def test_metas_give_the_size(client: httpx.AsyncClient, execution: dict[str, Any]) -> None:
    url = f"{API}/executions/{execution['id']}/file/metas"
    response = await client.get(url, params={"path": execution["inputs"]["doc"]})
    assert response.status_code == 200
    assert response.json() == {"size": 13}


@pytest.mark.parametrize("route", ["file", "file/metas", "file/preview"])
@pytest.mark.parametrize(
    "path",
    [
        "kestra:///company/team/hello/executions/other/inputs/doc/notes.txt",
        "kestra:///company/team/hello/executions/{id}/../other/notes.txt",
        "kestra:///company/team/hello/executions/{id}",
        "file:///etc/passwd",
        "/etc/passwd",
    ],
    ids=["other-execution", "dot-dot", "the-folder-itself", "file-scheme", "plain-path"],
)
async def test_paths_outside_the_execution_are_refused(
    client: httpx.AsyncClient, execution: dict[str, Any], route: str, path: str
) -> None:
    url = f"{API}/executions/{execution['id']}/{route}"
    response = await client.get(url, params={"path": path.format(id=execution["id"])})
    assert response.status_code == 422
    assert error_of(response) == "Illegal argument: Invalid prefix path"


async def test_a_missing_file_or_execution_is_not_found(
    client: httpx.AsyncClient, execution: dict[str, Any]
) -> None:
    missing = execution["inputs"]["doc"].replace("notes.txt", "gone.txt")
    response = await client.get(
        f"{API}/executions/{execution['id']}/file", params={"path": missing}
    )
    assert response.status_code == 404
    assert error_of(response) == f"Not Found: Unable to find file '{missing}'"
    unknown = await client.get(f"{API}/executions/nope/file", params={"path": missing})
    assert unknown.status_code == 404
    assert error_of(unknown) == "Not Found: Unable to find execution 'nope'"


async def test_preview_of_text_is_the_first_lines(
    client: httpx.AsyncClient, services: Services, execution: dict[str, Any]
) -> None:
    uri = put(services, execution, "data.csv", b"".join(b"%d,x\n" % i for i in range(150)))
    url = f"{API}/executions/{execution['id']}/file/preview"
    default = (await client.get(url, params={"path": uri})).json()
    assert default["extension"] == "csv"
    assert default["type"] == "TEXT"
    assert default["truncated"] is True
    assert default["content"].splitlines() == [f"{i},x" for i in range(100)]
    short = (await client.get(url, params={"path": uri, "maxRows": 3})).json()
    assert short == {
        "extension": "csv",
        "type": "TEXT",
        "content": "0,x\n1,x\n2,x",
        "truncated": True,
    }
    whole = (await client.get(url, params={"path": uri, "maxRows": 150})).json()
    assert whole["truncated"] is False
    assert len(whole["content"].splitlines()) == 150


async def test_preview_reads_the_asked_encoding(
    client: httpx.AsyncClient, services: Services, execution: dict[str, Any]
) -> None:
    uri = put(services, execution, "latin.txt", "café".encode("latin-1"))
    url = f"{API}/executions/{execution['id']}/file/preview"
    response = await client.get(url, params={"path": uri, "encoding": "ISO-8859-1"})
    assert response.json()["content"] == "café"
    refused = await client.get(url, params={"path": uri, "encoding": "klingon"})
    assert refused.status_code == 422
    assert error_of(refused) == "Illegal argument: Unable to preview using encoding 'klingon'"


async def test_preview_of_ion_rows_images_and_markdown(
    client: httpx.AsyncClient, services: Services, execution: dict[str, Any]
) -> None:
    rows = [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}, {"id": 3, "name": "c"}]
    ion = put(services, execution, "rows.ion", "\n".join(write_ion(row) for row in rows).encode())
    image = put(services, execution, "chart.png", png_image())
    markdown = put(services, execution, "README.md", b"# Title\n")
    url = f"{API}/executions/{execution['id']}/file/preview"
    listed = (await client.get(url, params={"path": ion, "maxRows": 2})).json()
    assert listed == {"extension": "ion", "type": "LIST", "content": rows[:2], "truncated": True}
    shown = (await client.get(url, params={"path": image})).json()
    assert shown["type"] == "IMAGE"
    assert base64.b64decode(shown["content"]) == png_image()
    text = (await client.get(url, params={"path": markdown})).json()
    assert (text["type"], text["content"]) == ("MARKDOWN", "# Title")


async def test_ion_that_does_not_parse_is_previewed_as_text(
    client: httpx.AsyncClient, services: Services, execution: dict[str, Any]
) -> None:
    uri = put(services, execution, "broken.ion", b"{id: \n")
    url = f"{API}/executions/{execution['id']}/file/preview"
    response = (await client.get(url, params={"path": uri})).json()
    assert (response["type"], response["content"]) == ("TEXT", "{id: ")
