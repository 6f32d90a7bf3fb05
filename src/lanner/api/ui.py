"""Serve the web UI: `/ui/` and every deep link below it, the built assets, `/` -> `/ui/`.

Mounted at the application's root (not under the API prefixes). Files under `assets/` carry a
content hash in their names, so they are cached for a year; index.html is revalidated on each
load so a new build is picked up at once.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from lanner.ui import static_dir

router = APIRouter(include_in_schema=False)

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
MISSING_BUILD = (
    "<!doctype html><title>lanner</title><h1>The web UI is not built</h1>"
    "<p>Run <code>scripts/build-ui</code>; the API is available under <code>/api/v1</code>.</p>"
)


@router.get("/")
async def root() -> RedirectResponse:
    return RedirectResponse("/ui/", status_code=307)


@router.get("/ui")
async def ui_without_slash() -> RedirectResponse:
    return RedirectResponse("/ui/", status_code=307)


@router.get("/ui/{path:path}")
async def ui(path: str) -> Response:
    """Return the asset at `path`, or index.html for any route of the single-page app."""
    root = static_dir().resolve()
    asset = _asset(root, path)
    if asset is not None:
        cache = IMMUTABLE if path.startswith("assets/") else REVALIDATE
        return FileResponse(asset, headers={"Cache-Control": cache})
    if path.startswith("assets/"):
        return Response("Not Found", status_code=404, media_type="text/plain")
    index = root / "index.html"
    if not index.is_file():
        return HTMLResponse(MISSING_BUILD, status_code=503)
    return FileResponse(index, media_type="text/html", headers={"Cache-Control": REVALIDATE})


def _asset(root: Path, path: str) -> Path | None:
    """Return the file `path` names inside `root`, refusing anything that escapes it."""
    if not path or path.endswith("/"):
        return None
    candidate = (root / path).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate
