"""What route handlers receive: the process's services, and the tenant check."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from lanner.exceptions import NotFoundError
from lanner.services import Services

TENANT = "main"


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def check_tenant(
    tenant: Annotated[
        str,
        Path(
            description="The tenant: always `main` on an open-source server",
            json_schema_extra={"enum": [TENANT]},
        ),
    ],
) -> None:
    """Refuse any tenant but `main`, the only tenant of an open-source server (404)."""
    if tenant != TENANT:
        raise NotFoundError(f"Unknown tenant '{tenant}'")
