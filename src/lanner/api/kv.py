"""The KV store of a namespace: list its keys, read, write and delete typed values.

A value is written as JSON text (`"hello"`, `42`, `{"a": 1}`); text that is not JSON is kept
as a string, except an ISO date or date-time, which keeps its type as Kestra's Ion reader does.
The store's methods are synchronous and short, so handlers call them directly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict

from lanner.api.deps import ServicesDep
from lanner.api.models import ErrorModel
from lanner.clock import format_instant
from lanner.durations import parse_duration
from lanner.exceptions import LannerError, NotFoundError, StoreError
from lanner.flows import NAMESPACE_PATTERN
from lanner.store.kv import KVEntry, KVType, json_value, validate_key

router = APIRouter(tags=["KV"])

KV = "/namespaces/{namespace}/kv"
KEY_PATTERN = r"^[a-zA-Z0-9][a-zA-Z0-9._-]*$"

_LAST_YEAR = 9998  # an expiry must stay a valid date wherever the store adds to it
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})")


def _error(description: str) -> dict[str, Any]:
    # Spelled out: FastAPI would list an error `model` under the route's own media type.
    schema = ErrorModel.model_json_schema()
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_INVALID = _error("Invalid namespace, key, value or ttl")
_ERRORS: dict[int | str, dict[str, Any]] = {422: _INVALID}
_KEY_ERRORS: dict[int | str, dict[str, Any]] = {404: _error("No such key"), 422: _INVALID}

_VALUE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": 'The value as JSON text (a string is quoted: `"hello"`); other text is a'
        " string",
        "content": {
            "application/json": {"schema": {}},
            "text/plain": {"schema": {"type": "string"}},
        },
    }
}

# The patterns document what the store checks (with Kestra's messages): they are schema only.
NamespacePath = Annotated[
    str,
    Path(
        description="The namespace",
        json_schema_extra={"pattern": NAMESPACE_PATTERN, "maxLength": 150},
    ),
]
KeyPath = Annotated[str, Path(description="The key", json_schema_extra={"pattern": KEY_PATTERN})]
TtlHeader = Annotated[
    str | None,
    Header(description="How long the value lives, an ISO-8601 duration such as `PT1H`"),
]


class KVEntryModel(BaseModel):
    model_config = ConfigDict(extra="allow")

    key: str
    creationDate: str
    updateDate: str
    expirationDate: str | None = None


class KVValueModel(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: KVType
    value: Any


class KVKeysModel(BaseModel):
    keys: list[str]


def _entry_json(entry: KVEntry) -> dict[str, Any]:
    body: dict[str, Any] = {
        "key": entry.key,
        "creationDate": format_instant(entry.creation_date),
        "updateDate": format_instant(entry.update_date),
    }
    if entry.expiration_date is not None:
        body["expirationDate"] = format_instant(entry.expiration_date)
    return body


def parse_value(text: str) -> Any:
    """Read a request body: JSON, else an ISO date or date-time, else the text itself."""
    text = text.strip()
    try:
        return json.loads(text)
    except ValueError:
        pass
    if _DATE.fullmatch(text):
        return _or_text(text, date.fromisoformat)
    if _DATETIME.fullmatch(text):
        return _or_text(text, lambda value: datetime.fromisoformat(value).astimezone(UTC))
    return text


def _or_text(text: str, read: Callable[[str], Any]) -> Any:
    try:
        return read(text)
    except ValueError:
        return text


def parse_ttl(text: str | None) -> timedelta | None:
    """Read the `ttl` header; 422 when it is not a positive ISO-8601 duration."""
    if text is None:
        return None
    try:
        ttl = parse_duration(text)
    except (ValueError, OverflowError) as exc:
        raise LannerError(
            f"Invalid ttl '{text}': an ISO-8601 duration such as PT1H is expected"
        ) from exc
    if ttl <= timedelta(0):
        raise LannerError(f"Invalid ttl '{text}': the duration must be positive")
    if not _expires_in_range(ttl):
        raise LannerError(f"Invalid ttl '{text}': the value would expire after the year 9999")
    return ttl


def _expires_in_range(ttl: timedelta) -> bool:
    try:
        return (datetime.now(UTC) + ttl).year <= _LAST_YEAR
    except OverflowError:
        return False


async def _body_text(request: Request) -> str:
    try:
        return (await request.body()).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StoreError(f"The value is not UTF-8 text: {exc}") from exc


@router.get(
    KV,
    summary="List the keys of a namespace, with their dates",
    response_model=list[KVEntryModel],
    response_model_exclude_none=True,
    responses=_ERRORS,
)
async def list_keys(namespace: NamespacePath, services: ServicesDep) -> list[dict[str, Any]]:
    return [_entry_json(entry) for entry in services.store.kv.list(namespace)]


@router.get(
    f"{KV}/{{key}}",
    summary="Get a value with its type",
    response_model=KVValueModel,
    responses=_KEY_ERRORS,
)
async def get_value(
    namespace: NamespacePath, key: KeyPath, services: ServicesDep
) -> dict[str, Any]:
    entry = services.store.kv.get(namespace, key)
    if entry is None:
        raise NotFoundError(f"No value found for key '{key}' in namespace '{namespace}'")
    return {"type": entry.type, "value": json_value(entry.value)}


@router.put(
    f"{KV}/{{key}}",
    summary="Create or replace a value",
    response_class=Response,
    responses={200: {"description": "Stored (no body)"}, **_ERRORS},
    openapi_extra=_VALUE_BODY,
)
async def put_value(
    request: Request,
    namespace: NamespacePath,
    key: KeyPath,
    services: ServicesDep,
    ttl: TtlHeader = None,
) -> Response:
    value = parse_value(await _body_text(request))
    services.store.kv.put(namespace, key, value, ttl=parse_ttl(ttl))
    return Response()


@router.delete(
    f"{KV}/{{key}}",
    summary="Delete a value; tell whether it existed",
    response_model=bool,
    responses=_ERRORS,
)
async def delete_value(namespace: NamespacePath, key: KeyPath, services: ServicesDep) -> bool:
    return services.store.kv.delete(namespace, key)


@router.delete(
    KV,
    summary="Delete several values; return the keys that existed",
    response_model=KVKeysModel,
    responses=_ERRORS,
)
async def delete_values(
    namespace: NamespacePath, body: KVKeysModel, services: ServicesDep
) -> KVKeysModel:
    keys = [validate_key(key) for key in body.keys]
    return KVKeysModel(keys=[key for key in keys if services.store.kv.delete(namespace, key)])
