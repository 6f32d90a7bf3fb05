"""The UI routes: `/` redirects, deep links get index.html, hashed assets are cached for long."""

from __future__ import annotations

import httpx
import pytest

from lanner.ui import static_dir


def asset_name() -> str:
    return next(path.name for path in (static_dir() / "assets").iterdir() if path.suffix == ".js")


async def test_root_redirects_to_the_ui(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 307
    assert response.headers["location"] == "/ui/"


@pytest.mark.parametrize(
    "path",
    [
        "/ui/",
        "/ui/flows",
        "/ui/flows/edit/example/http_post_request_example/edit",
        "/ui/executions/example/flow/4wjtkzwVGBM9yKnjm3yv8r/outputs",
        "/ui/main/executions",
    ],
    ids=["root", "flows", "flow-editor", "execution-outputs", "tenant-path"],
)
async def test_every_deep_link_serves_the_app(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    assert '<div id="app">' in response.text


async def test_hashed_assets_are_cached_for_a_year(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/ui/assets/{asset_name()}")
    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]
    assert "immutable" in response.headers["cache-control"]


async def test_an_unknown_asset_is_not_the_app(client: httpx.AsyncClient) -> None:
    response = await client.get("/ui/assets/nope.js")
    assert response.status_code == 404


async def test_paths_cannot_leave_the_static_directory(client: httpx.AsyncClient) -> None:
    response = await client.get("/ui/..%2F__init__.py")
    assert "__future__" not in response.text
    response = await client.get("/ui/assets/..%2F..%2F__init__.py")
    assert "__future__" not in response.text


async def test_the_api_still_answers_under_its_prefix(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/configs")
    assert response.status_code == 200
