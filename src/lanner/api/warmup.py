"""Prepare the application's routes before the server takes its first request.

FastAPI builds what it needs to match and run each route (the parameters' validation models,
the dependencies) on the first request that looks at the route, which is a third of a second
for lanner's API on a small machine: the first flow saved, the first execution started or
the first page of the UI after a start waited for it. A request that no route matches looks
at every route, so one such request at start-up builds them all.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Scope

__all__ = ["route_nowhere", "warm_routes"]

# No route, API or UI, answers this path.
_NOWHERE = "/.lanner-warm-up"


def warm_routes(app: ASGIApp) -> int:
    """Route one request for a path nothing serves through `app`'s router; return its status.

    The router is called directly, without the middleware (authentication answers before
    routing) and without starting the application's services.
    """
    return asyncio.run(route_nowhere(app))


async def route_nowhere(app: ASGIApp) -> int:
    """`warm_routes` on a running event loop."""
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": _NOWHERE,
        "raw_path": _NOWHERE.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [],
        "server": ("127.0.0.1", 0),
        "client": ("127.0.0.1", 0),
        "app": app,
    }
    router: Any = getattr(app, "router", app)
    try:
        await router(scope, receive, send)
    except HTTPException as exc:  # the router's 404, which the middleware would answer
        return exc.status_code
    starts = [message for message in sent if message["type"] == "http.response.start"]
    return int(starts[0]["status"]) if starts else 500
