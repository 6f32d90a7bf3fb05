"""Health and the configuration the UI and clients read first."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from lanner import __version__
from lanner.api.deps import ServicesDep

router = APIRouter(tags=["System"])


@router.get("/configs", summary="Server configuration")
async def configs(services: ServicesDep) -> dict[str, Any]:
    """Return the configuration Kestra's UI reads at start-up (versions, features)."""
    return {
        "uuid": "lanner",
        "version": __version__,
        "edition": "OSS",
        "isTaskRunEnabled": False,
        "isAnonymousUsageEnabled": False,
        "isBasicAuthEnabled": bool(services.settings.users),
        "url": services.settings.url,
    }
