"""Namespace files API: what Kestra's UI and clients call to manage a namespace's files."""

from __future__ import annotations

import io
import zipfile

import httpx
import pytest

from lanner.services import Services
from tests.api.conftest import API

NS = "company.team"
FILES = f"{API}/namespaces/{NS}/files"
FLOW = """
id: hello
namespace: somewhere.else
tasks:
  - id: t
    type: io.kestra.plugin.core.log.Log
    message: hi
"""


async def upload(
    client: httpx.AsyncClient, path: str, content: bytes, filename: str = "blob", url: str = FILES
) -> httpx.Response:
    files = {"fileContent": (filename, content, "application/octet-stream")}
    return await client.post(url, params={"path": path}, files=files)


async def test_upload_then_read(client: httpx.AsyncClient) -> None:
    created = await upload(client, "/scripts/etl.py", b"print('hi')\n")
    replaced = await upload(client, "/scripts/etl.py", b"print('bye')\n")

    assert created.status_code == 200
    assert created.content == b""
    assert replaced.status_code == 200
    response = await client.get(FILES, params={"path": "/scripts/etl.py"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.content == b"print('bye')\n"


async def test_an_upload_without_content_creates_an_empty_file(client: httpx.AsyncClient) -> None:
    response = await client.post(FILES, params={"path": "/empty.txt"})

    assert response.status_code == 200
    assert (await client.get(FILES, params={"path": "/empty.txt"})).content == b""


async def test_a_file_has_one_revision(client: httpx.AsyncClient) -> None:
    await upload(client, "/a.txt", b"a")
    await client.post(f"{FILES}/directory", params={"path": "/dir"})

    found = await client.get(f"{FILES}/revisions", params={"path": "/a.txt"})
    folder = await client.get(f"{FILES}/revisions", params={"path": "/dir"})

    assert found.json() == [{"revision": 1}]
    assert folder.status_code == 404


async def test_listing_and_stats_have_kestras_shape(client: httpx.AsyncClient) -> None:
    await upload(client, "/dir/data.csv", b"a,b\n")
    await upload(client, "/top.txt", b"top")

    root = (await client.get(f"{FILES}/directory")).json()
    inside = (await client.get(f"{FILES}/directory", params={"path": "/dir"})).json()
    stats = (await client.get(f"{FILES}/stats", params={"path": "/dir/data.csv"})).json()
    root_stats = (await client.get(f"{FILES}/stats")).json()

    assert [(item["fileName"], item["type"]) for item in root] == [
        ("dir", "Directory"),
        ("top.txt", "File"),
    ]
    assert [item["fileName"] for item in inside] == ["data.csv"]
    assert set(stats) == {"fileName", "type", "size", "lastModifiedTime", "creationTime"}
    assert (stats["fileName"], stats["type"], stats["size"]) == ("data.csv", "File", 4)
    assert isinstance(stats["lastModifiedTime"], int)
    assert (root_stats["fileName"], root_stats["type"]) == ("_files", "Directory")


async def test_an_empty_namespace_lists_nothing(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/namespaces/brand.new/files/directory")

    assert response.status_code == 200
    assert response.json() == []


async def test_search(client: httpx.AsyncClient) -> None:
    for path in ("/file.txt", "/folder/file.txt", "/folder/some.yaml"):
        await upload(client, path, b"")

    response = await client.get(f"{FILES}/search", params={"q": "file"})

    assert response.json() == ["/file.txt", "/folder/file.txt"]


async def test_create_a_folder_move_and_delete(client: httpx.AsyncClient) -> None:
    assert (await client.post(f"{FILES}/directory", params={"path": "/test"})).status_code == 200
    await upload(client, "/test/a.txt", b"a")

    moved = await client.put(FILES, params={"from": "/test", "to": "/foo"})
    assert moved.status_code == 200
    assert (await client.get(FILES, params={"path": "/foo/a.txt"})).content == b"a"

    deleted = await client.delete(FILES, params={"path": "/foo/a.txt"})
    assert deleted.status_code == 200
    # The folder the file left empty goes with it; the root stays.
    assert (await client.get(f"{FILES}/directory")).json() == []


async def test_export_and_import_a_zip(client: httpx.AsyncClient) -> None:
    await upload(client, "/a.txt", b"a")
    await upload(client, "/dir/b.txt", b"b")

    exported = await client.get(f"{FILES}/export")
    imported = await upload(
        client,
        "/files.zip",
        exported.content,
        filename="files.zip",
        url=f"{API}/namespaces/other/files",
    )

    assert exported.status_code == 200
    assert exported.headers["content-type"] == "application/octet-stream"
    assert exported.headers["content-disposition"] == f'attachment; filename="{NS}_files.zip"'
    assert zipfile.ZipFile(io.BytesIO(exported.content)).namelist() == ["a.txt", "dir/b.txt"]
    assert imported.status_code == 200
    other = f"{API}/namespaces/other/files"
    assert (await client.get(other, params={"path": "/dir/b.txt"})).content == b"b"
    assert (await client.get(f"{other}/search", params={"q": "zip"})).json() == []


async def test_a_zip_with_a_flow_imports_it_into_the_namespace(
    client: httpx.AsyncClient, services: Services
) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("_flows/hello.yml", FLOW)
        archive.writestr("notes.md", "# notes")

    response = await upload(client, "/", buffer.getvalue(), filename="bundle.ZIP")

    assert response.status_code == 200
    stored = await services.flows.get(NS, "hello")
    assert "namespace: company.team" in stored.record.source
    assert (await client.get(FILES, params={"path": "/notes.md"})).content == b"# notes"


async def test_an_invalid_flow_upload_is_refused(client: httpx.AsyncClient) -> None:
    response = await upload(client, "/_flows/broken.yml", b"id: broken\ntasks: nope\n")

    assert response.status_code == 422
    assert response.json()["message"].startswith("Invalid entity")


REFUSED = [
    ("read-parent", "GET", "", {"path": "/../secret"}, "Invalid path"),
    ("list-parent", "GET", "/directory", {"path": "../.."}, "Invalid path"),
    ("stats-parent", "GET", "/stats", {"path": "/a/../../b"}, "Invalid path"),
    ("delete-parent", "DELETE", "", {"path": "/.."}, "Invalid path"),
    ("mkdir-parent", "POST", "/directory", {"path": "/x/../../y"}, "Invalid path"),
    ("move-from-parent", "PUT", "", {"from": "/../x", "to": "/y"}, "Invalid path"),
    ("move-to-parent", "PUT", "", {"from": "/x", "to": "/../y"}, "Invalid path"),
    ("reserved", "GET", "", {"path": "/_flows/x.yml"}, "Forbidden path"),
]


@pytest.mark.parametrize(
    ("method", "suffix", "params", "message"),
    [case[1:] for case in REFUSED],
    ids=[case[0] for case in REFUSED],
)
async def test_escapes_are_refused_with_kestras_error_body(
    client: httpx.AsyncClient, method: str, suffix: str, params: dict[str, str], message: str
) -> None:
    await upload(client, "/x", b"x")

    response = await client.request(method, f"{FILES}{suffix}", params=params)

    assert response.status_code == 422
    body = response.json()
    assert body["message"].startswith(f"Illegal argument: {message}")
    assert body["_embedded"]["errors"][0]["message"] == body["message"]


async def test_what_the_files_in_place_forbid_is_a_conflict(client: httpx.AsyncClient) -> None:
    await upload(client, "/a.txt", b"a")
    await upload(client, "/b.txt", b"b")

    moved = await client.put(FILES, params={"from": "/a.txt", "to": "/b.txt"})
    nested = await upload(client, "/a.txt/inner.txt", b"x")

    assert moved.status_code == 409
    assert moved.json()["message"] == (
        "Illegal state: File '/b.txt' already exists in namespace 'company.team'"
    )
    assert nested.status_code == 409
    assert nested.json()["message"] == "Illegal state: '/a.txt' is a file, not a directory"


async def test_an_upload_that_escapes_is_refused(client: httpx.AsyncClient) -> None:
    response = await upload(client, "/../../evil.txt", b"evil")

    assert response.status_code == 422
    assert "'..' is not allowed" in response.json()["message"]


async def test_an_invalid_namespace_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/namespaces/BAD NS/files/directory")

    assert response.status_code == 422
    assert response.json()["message"] == "Illegal argument: Invalid namespace 'BAD NS'"


@pytest.mark.parametrize(
    ("method", "suffix", "params"),
    [
        ("GET", "", {"path": "/nope.txt"}),
        ("GET", "/stats", {"path": "/nope.txt"}),
        ("GET", "/directory", {"path": "/nope"}),
        ("DELETE", "", {"path": "/nope.txt"}),
        ("PUT", "", {"from": "/nope.txt", "to": "/there.txt"}),
    ],
    ids=["read", "stats", "list", "delete", "move"],
)
async def test_what_does_not_exist_is_not_found(
    client: httpx.AsyncClient, method: str, suffix: str, params: dict[str, str]
) -> None:
    response = await client.request(method, f"{FILES}{suffix}", params=params)

    assert response.status_code == 404
    assert "was not found in namespace 'company.team'" in response.json()["message"]


async def test_the_legacy_path_family_serves_files_too(client: httpx.AsyncClient) -> None:
    await upload(client, "/a.txt", b"a", url=f"/api/v1/namespaces/{NS}/files")

    assert (await client.get(FILES, params={"path": "/a.txt"})).content == b"a"
