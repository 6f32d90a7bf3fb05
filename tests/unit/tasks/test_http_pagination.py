"""`pagination` on the Request task, against a paginated API the test starts."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError
from werkzeug.wrappers import Request, Response

from lanner.executions import Level
from lanner.states import State
from lanner.tasks.http import Request as RequestTask
from lanner.tasks.http_pagination import is_empty
from tests.httpservers import REQUEST, Server, TaskHarness, serve

pytestmark = pytest.mark.timeout(60)

ITEMS = [f"item-{number}" for number in range(7)]


class PagedApi:
    """Seven items served three ways: numbered pages with a `next` link in the body and in a
    `Link` header (`/pages?page=N`), offsets (`/offset?offset=O&limit=L`), and a page that
    always points at itself (`/loop`)."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        with self.lock:
            self.requests.append(request.full_path)
        handler = getattr(self, "route_" + request.path.strip("/"), None)
        response = handler(request) if handler else Response("not found", status=404)
        return response(environ, start_response)

    def route_pages(self, request: Request) -> Response:
        page, size = int(request.args.get("page", "1")), 3
        items = ITEMS[(page - 1) * size : page * size]
        more = page * size < len(ITEMS)
        next_path = f"/pages?page={page + 1}" if more else None
        headers = {"Link": f'<{next_path}>; rel="next"'} if next_path else {}
        body = {"items": items, "next": next_path}
        return Response(json.dumps(body), content_type="application/json", headers=headers)

    def route_offset(self, request: Request) -> Response:
        offset, limit = int(request.args["offset"]), int(request.args["limit"])
        return Response(json.dumps(ITEMS[offset : offset + limit]))

    def route_loop(self, request: Request) -> Response:
        return Response(json.dumps({"next": "/loop"}))


@pytest.fixture(scope="module")
def api() -> Iterator[tuple[PagedApi, Server]]:
    app = PagedApi()
    server = serve(app)
    yield app, server
    server.close()


def bodies(outputs: dict[str, Any]) -> list[Any]:
    return [json.loads(page["body"]) for page in outputs["pages"]]


async def test_next_uri_from_the_body(harness: TaskHarness, api: tuple[PagedApi, Server]) -> None:
    _, server = api
    result = await harness.request(
        f"{server.url}/pages",
        pagination={"nextUri": "{{ fromJson(response.body).next }}"},
    )
    assert result.state is State.SUCCESS, result.error
    outputs = result.outputs
    assert outputs["pageCount"] == 3
    assert [page["items"] for page in bodies(outputs)] == [ITEMS[0:3], ITEMS[3:6], ITEMS[6:]]
    # The task's own outputs are those of the last page.
    assert outputs["uri"] == f"{server.url}/pages?page=3"
    assert json.loads(outputs["body"])["items"] == ITEMS[6:]
    assert [page["uri"] for page in outputs["pages"]] == [
        f"{server.url}/pages",
        f"{server.url}/pages?page=2",
        f"{server.url}/pages?page=3",
    ]
    assert all(page["code"] == 200 for page in outputs["pages"])
    assert outputs["pages"][0]["headers"]["link"] == ['</pages?page=2>; rel="next"']


async def test_next_uri_from_the_link_header(
    harness: TaskHarness, api: tuple[PagedApi, Server]
) -> None:
    _, server = api
    result = await harness.request(
        f"{server.url}/pages",
        pagination={"nextUri": "{{ response.links.next ?? '' }}"},
    )
    assert result.state is State.SUCCESS, result.error
    assert result.outputs["pageCount"] == 3


async def test_offset_parameter_stops_on_the_empty_page(
    harness: TaskHarness, api: tuple[PagedApi, Server]
) -> None:
    app, server = api
    before = len(app.requests)
    result = await harness.request(
        f"{server.url}/offset",
        params={"limit": 2, "offset": 99},
        pagination={"parameter": "offset", "start": 0, "step": 2},
    )
    assert result.state is State.SUCCESS, result.error
    assert bodies(result.outputs) == [ITEMS[0:2], ITEMS[2:4], ITEMS[4:6], ITEMS[6:], []]
    assert app.requests[before:] == [
        f"/offset?limit=2&offset={offset}" for offset in (0, 2, 4, 6, 8)
    ]


async def test_stop_when_condition(harness: TaskHarness, api: tuple[PagedApi, Server]) -> None:
    _, server = api
    result = await harness.request(
        f"{server.url}/offset?limit=1",
        pagination={
            "parameter": "offset",
            "start": 0,
            "stopWhen": "{{ fromJson(response.body)[0] == 'item-2' or page > 5 }}",
        },
    )
    assert bodies(result.outputs) == [["item-0"], ["item-1"], ["item-2"]]


async def test_max_pages(harness: TaskHarness, api: tuple[PagedApi, Server]) -> None:
    _, server = api
    result = await harness.request(
        f"{server.url}/offset?limit=1",
        pagination={"parameter": "offset", "start": 0, "maxPages": "{{ 2 }}"},
    )
    assert result.outputs["pageCount"] == 2
    assert any("pagination.maxPages (2) reached" in m for m in result.messages())


async def test_interval_between_pages(harness: TaskHarness, api: tuple[PagedApi, Server]) -> None:
    _, server = api
    started = time.monotonic()
    result = await harness.request(
        f"{server.url}/pages",
        pagination={"nextUri": "{{ fromJson(response.body).next }}", "interval": "PT0.2S"},
    )
    assert result.outputs["pageCount"] == 3
    assert time.monotonic() - started >= 0.4


async def test_a_next_uri_already_fetched_stops(
    harness: TaskHarness, api: tuple[PagedApi, Server]
) -> None:
    _, server = api
    result = await harness.request(
        f"{server.url}/loop", pagination={"nextUri": "{{ fromJson(response.body).next }}"}
    )
    assert result.state is State.SUCCESS
    assert result.outputs["pageCount"] == 1
    assert any(f"'{server.url}/loop' was already fetched" in m for m in result.messages())


async def test_a_failing_page_fails_the_task(
    harness: TaskHarness, api: tuple[PagedApi, Server]
) -> None:
    _, server = api
    result = await harness.request(f"{server.url}/pages?page=3", pagination={"nextUri": "/missing"})
    assert result.state is State.FAILED
    assert result.error.startswith("Failed http request with response code '404'")


@pytest.mark.parametrize(
    ("pagination", "message"),
    [
        pytest.param(
            {"nextUri": "{{ response.nope }}"},
            "Unable to render pagination.nextUri on page 1: ",
            id="bad-next-uri",
        ),
        pytest.param(
            {"nextUri": "/x", "stopWhen": "{{ page + }}"},
            "Unable to render pagination.stopWhen on page 1: ",
            id="bad-stop-when",
        ),
        pytest.param(
            {"parameter": "page", "maxPages": 0},
            "pagination.maxPages must be at least 1, got 0",
            id="no-pages",
        ),
        pytest.param(
            {"parameter": "page", "interval": "{{ 'soon' }}"},
            "Invalid duration for 'pagination.interval'",
            id="bad-interval",
        ),
    ],
)
async def test_pagination_errors_name_the_property(
    harness: TaskHarness, api: tuple[PagedApi, Server], pagination: dict[str, Any], message: str
) -> None:
    _, server = api
    result = await harness.request(f"{server.url}/pages", pagination=pagination)
    assert result.state is State.FAILED
    assert result.error.startswith(message), result.error


@pytest.mark.parametrize(
    "pagination",
    [
        pytest.param({"nextUri": "/x", "parameter": "page"}, id="both"),
        pytest.param({"maxPages": 3}, id="neither"),
    ],
)
def test_exactly_one_way_to_the_next_page(pagination: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="exactly one of 'nextUri' and 'parameter'"):
        RequestTask.model_validate(
            {"id": "r", "type": REQUEST, "uri": "http://x", "pagination": pagination}
        )


def test_unknown_pagination_key_is_refused() -> None:
    with pytest.raises(ValidationError, match="maxPage"):
        RequestTask.model_validate(
            {
                "id": "r",
                "type": REQUEST,
                "uri": "http://x",
                "pagination": {"parameter": "page", "maxPage": 3},
            }
        )


@pytest.mark.parametrize(
    ("body", "empty"),
    [
        (None, True),
        ("  ", True),
        ("[]", True),
        (" {} ", True),
        ("[1]", False),
        ('{"items": []}', False),
        ("[not json", False),
        ("0", False),
    ],
)
def test_empty_pages(body: str | None, empty: bool) -> None:
    assert is_empty(body) is empty


DOC = Path(__file__).resolve().parents[3] / "docs" / "http.md"


async def test_documented_pagination_example_runs(
    harness: TaskHarness, api: tuple[PagedApi, Server]
) -> None:
    _, server = api
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    flow = next(f for f in map(yaml.safe_load, blocks) if f["id"] == "all_items")
    flow["tasks"][0]["uri"] = f"{server.url}/pages"
    items, count = await harness.run_flow(flow)
    assert items.state is State.SUCCESS, items.error
    assert count.messages(Level.INFO) == ["3 pages"]
