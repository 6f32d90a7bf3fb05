"""The FastAPI application: Kestra's REST API under its three path families.

Every resource router is written once, without prefix, and mounted under:
* `/api/v1/...` (Kestra up to 0.22, the `kestra` Python client),
* `/api/v1/{tenant}/...` with the tenant `main` (Kestra 0.23 to 1.x, the UI, `kestrapy`);
  this family is the one the OpenAPI document describes.
The 2.0 forms (`/executions/{id}/actions/<verb>`) are routes of the executions router.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from lanner import __version__
from lanner.api import errors, ui
from lanner.api.deps import check_tenant
from lanner.api.models import ErrorModel
from lanner.api.security import BasicAuthMiddleware, BodySizeLimitMiddleware
from lanner.services import Services
from lanner.settings import Settings

# Error answers any route may give, with Kestra's error body.
COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorModel, "description": "Credentials are required"},
    404: {"model": ErrorModel, "description": "Unknown tenant, or no such resource"},
    413: {"model": ErrorModel, "description": "The request body is too large"},
    422: {"model": ErrorModel, "description": "Invalid request"},
}

LEGACY_PREFIX = "/api/v1"
TENANT_PREFIX = "/api/v1/{tenant}"


def resource_routers() -> Sequence[APIRouter]:
    """Return the routers of every API resource (imported here so each stays independent)."""
    from lanner.api import system

    routers: list[APIRouter] = [system.router]
    # execution_bulk before executions: its routes (`POST /executions/restart/by-ids`) must win
    # over `POST /executions/{namespace}/{flowId}`, as literal segments do in Kestra.
    for module_name in (
        "flows",
        "execution_bulk",
        "execution_actions",
        "executions",
        "logs",
        "metrics",
        "kv",
        "namespace_files",
        "plugins",
        "webhooks",
        "triggers",
    ):
        module = _optional_module(module_name)
        router = getattr(module, "router", None)
        if isinstance(router, APIRouter):
            routers.append(router)
    return routers


def _optional_module(name: str) -> object | None:
    import importlib

    try:
        return importlib.import_module(f"lanner.api.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"lanner.api.{name}":
            return None
        raise


def create_app(
    settings: Settings,
    services: Services | None = None,
    start: Callable[[Settings], Awaitable[Services]] = Services.start,
) -> FastAPI:
    """Build the API application.

    With `services`, the app uses them as they are (tests, embedding); without, it starts its
    own with `start` on startup (the engine in this process by default) and closes them on
    shutdown.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if services is not None:
            app.state.services = services
            yield
            return
        started = await start(settings)
        app.state.services = started
        try:
            yield
        finally:
            await started.close()

    app = FastAPI(
        responses=COMMON_RESPONSES,
        title="lanner",
        version=__version__,
        description="Kestra-compatible REST API of lanner.",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    if services is not None:
        app.state.services = services
    errors.install(app)

    @app.get("/health", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "UP"}

    for router in resource_routers():
        app.include_router(router, prefix=LEGACY_PREFIX, include_in_schema=False)
        app.include_router(router, prefix=TENANT_PREFIX, dependencies=[Depends(check_tenant)])
    app.include_router(ui.router)
    _install_middleware(app, settings)
    return app


def _install_middleware(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(BodySizeLimitMiddleware, limit=settings.max_request_bytes)
    if settings.users:
        app.add_middleware(BasicAuthMiddleware, users=settings.users)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["*"],
            allow_headers=["*"],
            allow_credentials=True,
        )
