"""One request that no route serves prepares every route before the server's first request."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from fastapi import FastAPI

from lanner.api import create_app
from lanner.api.warmup import route_nowhere
from lanner.services import Services
from lanner.settings import Settings
from tests.api.conftest import API


async def _first_search(app: FastAPI, services: Services) -> float:
    """Return the seconds the app takes to answer its first flow search."""
    app.state.services = services
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://lanner.test") as http:
        started = time.perf_counter()
        response = await http.get(f"{API}/flows/search")
        elapsed = time.perf_counter() - started
    assert response.status_code == 200
    return elapsed


async def test_a_warmed_app_answers_its_first_request_without_preparing_routes(
    tmp_path: Path, services: Services
) -> None:
    cold = create_app(Settings.load(home=tmp_path / "cold", environ={}))
    warm = create_app(Settings.load(home=tmp_path / "warm", environ={}))

    assert await route_nowhere(warm) == 404

    cold_seconds = await _first_search(cold, services)
    warm_seconds = await _first_search(warm, services)
    # Preparing the routes takes a good tenth of a second or more; a search, milliseconds.
    assert warm_seconds < cold_seconds / 3, (warm_seconds, cold_seconds)
