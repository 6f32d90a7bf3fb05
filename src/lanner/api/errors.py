"""Errors as Kestra's API returns them: a JSON body with a message, a link and details."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from lanner.exceptions import (
    AuthenticationError,
    FlowError,
    IllegalStateError,
    InputError,
    LannerError,
    NotFoundError,
)


def error_body(
    request: Request, message: str, errors: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Build Kestra's error JSON: `message`, `_links.self`, `_embedded.errors`."""
    body: dict[str, Any] = {"message": message, "_links": {"self": {"href": str(request.url.path)}}}
    body["_embedded"] = {"errors": errors or [{"message": message}]}
    return body


def error_response(
    request: Request, status: int, message: str, errors: list[dict[str, Any]] | None = None
) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Basic realm="lanner"'} if status == 401 else None
    return JSONResponse(error_body(request, message, errors), status_code=status, headers=headers)


def _lanner_error(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, NotFoundError):
        return error_response(request, 404, f"Not Found: {exc}")
    if isinstance(exc, FlowError):
        errors = [
            {"message": problem.message, "path": problem.path, "location": problem.location()}
            for problem in exc.problems
        ]
        text = ", ".join(str(problem) for problem in exc.problems)
        return error_response(request, 422, f"Invalid entity: {text}", errors)
    if isinstance(exc, InputError):
        errors = [{"message": problem} for problem in exc.problems]
        return error_response(request, 422, f"Invalid entity: {', '.join(exc.problems)}", errors)
    if isinstance(exc, IllegalStateError):
        return error_response(request, 409, f"Illegal state: {exc}")
    if isinstance(exc, AuthenticationError):
        return error_response(request, 401, f"Unauthorized: {exc}")
    return error_response(request, 422, f"Illegal argument: {exc}")


def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    if any(error.get("type") == "json_invalid" for error in exc.errors()):
        details = "; ".join(str(error.get("ctx", {}).get("error", "")) for error in exc.errors())
        return error_response(request, 422, f"Invalid json: {details}".rstrip(": "))
    errors = []
    for error in exc.errors():
        path = ".".join(str(part) for part in error.get("loc", ()))
        errors.append({"message": f"{path}: {error.get('msg')}", "path": path})
    text = ", ".join(item["message"] for item in errors)
    return error_response(request, 422, f"Invalid entity: {text}", errors)


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    message = str(exc.detail) if exc.detail else "Error"
    if exc.status_code == 400 and "json" in request.headers.get("content-type", ""):
        return error_response(request, 422, f"Invalid json: {message}")
    if exc.status_code == 404:
        message = f"Not Found: {message}"
    response = error_response(request, exc.status_code, message)
    response.headers.update(exc.headers or {})  # e.g. `Allow` on a 405
    return response


def install(app: FastAPI) -> None:
    """Register the handlers that turn errors into Kestra's JSON error bodies."""
    app.add_exception_handler(LannerError, _lanner_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
