"""What route handlers receive: the process's services, and the tenant check."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from lanner.exceptions import NotFoundError
from lanner.services import Services

TENANT = "main"


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def check_tenant(request: Request) -> None:
    """Refuse any tenant but `main`, the only tenant of an open-source server."""
    tenant = request.path_params.get("tenant")
    if tenant is not None and tenant != TENANT:
        raise NotFoundError(f"Unknown tenant '{tenant}'")
