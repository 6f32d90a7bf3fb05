"""HTTP basic authentication and the request size limit, as plain ASGI middleware.

Plain ASGI (not Starlette's BaseHTTPMiddleware) keeps streaming responses such as
server-sent events untouched and adds almost nothing to each request.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Mapping

from starlette.types import ASGIApp, Receive, Scope, Send

# Paths that answer without credentials, as Kestra's do: health and the UI's bootstrap config.
OPEN_PATHS = frozenset({"/health", "/api/v1/configs", "/api/v1/main/configs"})
# Webhooks are called by other systems: their key, part of the path, is their credential.
OPEN_PREFIXES = ("/api/v1/executions/webhook/", "/api/v1/main/executions/webhook/")


def is_open(path: str) -> bool:
    """Say whether a path answers without credentials."""
    return path in OPEN_PATHS or path.startswith(OPEN_PREFIXES)


def credentials_match(header: str | None, users: Mapping[str, str]) -> bool:
    """Check an `Authorization: Basic ...` header against the configured users."""
    if not header or not header.startswith("Basic "):
        return False
    try:
        decoded = base64.b64decode(header[6:], validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    name, _, password = decoded.partition(":")
    expected = users.get(name)
    # Compare in constant time so the answer's timing tells nothing about the password.
    return expected is not None and hmac.compare_digest(expected.encode(), password.encode())


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def _reply(
    send: Send, path: str, status: int, message: str, extra: list[tuple[bytes, bytes]]
) -> None:
    body = json.dumps(
        {
            "message": message,
            "_links": {"self": {"href": path}},
            "_embedded": {"errors": [{"message": message}]},
        }
    ).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers + extra})
    await send({"type": "http.response.body", "body": body})


class BasicAuthMiddleware:
    """Require HTTP basic credentials of a configured user on every path but the open ones."""

    def __init__(self, app: ASGIApp, users: Mapping[str, str]) -> None:
        self.app = app
        self.users = users

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_open(scope["path"]) or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        if credentials_match(_header(scope, b"authorization"), self.users):
            await self.app(scope, receive, send)
            return
        challenge = [(b"www-authenticate", b'Basic realm="lanner"')]
        await _reply(
            send, scope["path"], 401, "Unauthorized: valid credentials are required", challenge
        )


class BodySizeLimitMiddleware:
    """Refuse request bodies over the limit: by Content-Length at once, else while reading."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = _header(scope, b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            message = f"Request body too large: {length} bytes, the limit is {self.limit} bytes"
            await _reply(send, scope["path"], 413, message, [])
            return
        received = 0

        async def limited_receive() -> dict[str, object]:
            nonlocal received
            message = dict(await receive())
            if message.get("type") == "http.request":
                body = message.get("body") or b""
                received += len(body) if isinstance(body, bytes) else 0
                if received > self.limit:
                    raise ValueError(f"Request body too large: the limit is {self.limit} bytes")
            return message

        await self.app(scope, limited_receive, send)
