"""`pagination` on the Request task: fetch the pages of an API one after the other.

Two ways to find the next page, as n8n's HTTP node and Airflow's paginated HTTP operator offer:

* `nextUri`: an expression rendered after each page with `response` (`code`, `statusCode`,
  `headers`, `body`, `links` from the `Link` header) and `page` (the number of the page just
  received); its text is the next URL, relative ones resolved against the current page.
  Empty text means there is no next page.
* `parameter`: a query parameter set to `start` on the first request and increased by `step`
  on each next one (`page=1, 2, 3...` or `offset=0, 100, 200...`).

Fetching stops at the first of: `stopWhen` rendering truthy, `maxPages` pages fetched, an empty
page (`stopOnEmpty`: a blank body, `[]` or `{}`), no next URL, or a next URL already fetched.
`interval` is waited between two requests. The pages themselves are fetched by the task, so
every option (auth, retries, status checks, size cap, host rules) applies to each one.
"""

from __future__ import annotations

import asyncio
import json
from collections import ChainMap
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

import httpx
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator
from pydantic.alias_generators import to_camel

from lanner.exceptions import ExpressionError, TaskError
from lanner.expressions import is_truthy_text, render
from lanner.properties import Dynamic, DynamicDuration
from lanner.tasks.http_options import resolve

if TYPE_CHECKING:
    from lanner.context import RunContext

DEFAULT_MAX_PAGES = 100
_INT: TypeAdapter[int] = TypeAdapter(int)
_BOOL: TypeAdapter[bool] = TypeAdapter(bool)


class Pagination(BaseModel):
    """The `pagination` property of the Request task."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, alias_generator=to_camel
    )

    next_uri: str | None = None
    parameter: str | None = None
    start: Dynamic[int] = 1
    step: Dynamic[int] = 1
    stop_when: str | None = None
    max_pages: Dynamic[int] = Field(default=DEFAULT_MAX_PAGES)
    stop_on_empty: Dynamic[bool] = True
    interval: DynamicDuration | None = None

    @model_validator(mode="after")
    def _one_way_to_the_next_page(self) -> Pagination:
        if (self.next_uri is None) == (self.parameter is None):
            raise ValueError("pagination needs exactly one of 'nextUri' and 'parameter'")
        return self


@dataclass(frozen=True, slots=True)
class Page:
    """One response of a paginated request."""

    uri: str
    code: int
    headers: dict[str, list[str]]
    body: str | None
    links: dict[str, str] = field(default_factory=dict)
    har: str | None = None
    """The `kestra://` URI of the recorded exchange (HAR 1.2)."""

    def variables(self, number: int) -> dict[str, Any]:
        """Return what `nextUri` and `stopWhen` see: `response` and `page`."""
        response = {
            "code": self.code,
            "statusCode": self.code,
            "headers": self.headers,
            "body": self.body,
            "links": self.links,
            "uri": self.uri,
        }
        return {"response": response, "page": number}


Fetch = Callable[[str], Awaitable[Page]]


@dataclass(frozen=True, slots=True)
class _Plan:
    """The pagination settings, rendered once before the first page."""

    max_pages: int
    stop_on_empty: bool
    interval: timedelta
    start: int
    step: int


async def paginate(
    ctx: RunContext, pagination: Pagination, first_uri: str, fetch: Fetch
) -> list[Page]:
    """Fetch the pages, starting at `first_uri`, until a stop rule says the last one came."""
    plan = _plan(ctx, pagination)
    pages: list[Page] = []
    seen: set[str] = set()
    uri = _with_parameter(first_uri, pagination.parameter, plan.start)
    while True:
        seen.add(uri)
        page = await fetch(uri)
        pages.append(page)
        number = len(pages)
        reason = _stop_reason(ctx, pagination, plan, page, number)
        next_uri = None
        if reason is None:
            next_uri = _next_uri(ctx, pagination, plan, page, number, first_uri)
            reason = _no_next_reason(next_uri, seen)
        if reason is not None:
            ctx.logger.debug(f"Pagination stopped after {number} page(s): {reason}")
            return pages
        assert next_uri is not None
        uri = next_uri
        if plan.interval > timedelta(0):
            await asyncio.sleep(plan.interval.total_seconds())


def _plan(ctx: RunContext, pagination: Pagination) -> _Plan:
    max_pages = resolve(ctx, pagination.max_pages, _INT, "pagination.maxPages")
    if max_pages < 1:
        raise TaskError(f"pagination.maxPages must be at least 1, got {max_pages}")
    try:
        interval = ctx.duration(pagination.interval) or timedelta(0)
    except ValueError as exc:
        raise TaskError(f"Invalid duration for 'pagination.interval': {exc}") from exc
    return _Plan(
        max_pages=max_pages,
        stop_on_empty=resolve(ctx, pagination.stop_on_empty, _BOOL, "pagination.stopOnEmpty"),
        interval=interval,
        start=resolve(ctx, pagination.start, _INT, "pagination.start"),
        step=resolve(ctx, pagination.step, _INT, "pagination.step"),
    )


def _stop_reason(
    ctx: RunContext, pagination: Pagination, plan: _Plan, page: Page, number: int
) -> str | None:
    if plan.stop_on_empty and is_empty(page.body):
        return "the page is empty"
    if pagination.stop_when is not None:
        text = _render(ctx, pagination.stop_when, page, number, "pagination.stopWhen")
        if is_truthy_text(text.strip()):
            return "pagination.stopWhen is true"
    if number >= plan.max_pages:
        return f"pagination.maxPages ({plan.max_pages}) reached"
    return None


def _next_uri(
    ctx: RunContext, pagination: Pagination, plan: _Plan, page: Page, number: int, first: str
) -> str | None:
    if pagination.parameter is not None:
        return _with_parameter(first, pagination.parameter, plan.start + plan.step * number)
    assert pagination.next_uri is not None
    text = _render(ctx, pagination.next_uri, page, number, "pagination.nextUri").strip()
    if not text or text == "null":
        return None
    try:
        return str(httpx.URL(page.uri).join(text))
    except httpx.InvalidURL as exc:
        raise TaskError(f"pagination.nextUri rendered an invalid URL '{text}': {exc}") from exc


def _no_next_reason(next_uri: str | None, seen: set[str]) -> str | None:
    if next_uri is None:
        return "pagination.nextUri is empty"
    if next_uri in seen:
        return f"the next page '{next_uri}' was already fetched"
    return None


def _render(ctx: RunContext, template: str, page: Page, number: int, name: str) -> str:
    # ChainMap only reads the task's variables here; they stay lazy (outputs built on demand).
    task_variables = cast("dict[str, Any]", ctx.variables)
    variables: Mapping[str, Any] = ChainMap(page.variables(number), task_variables)
    try:
        return render(template, variables, ctx.functions)
    except ExpressionError as exc:
        raise TaskError(f"Unable to render {name} on page {number}: {exc.message}") from exc


def _with_parameter(uri: str, name: str | None, value: int) -> str:
    """Set the query parameter `name` to `value`, replacing any value the URI had."""
    if name is None:
        return uri
    return str(httpx.URL(uri).copy_set_param(name, str(value)))


def is_empty(body: str | None) -> bool:
    """Say whether a page holds nothing: no body, a blank one, `[]` or `{}`."""
    if body is None or not body.strip():
        return True
    if body.strip()[0] not in "[{":
        return False
    try:
        parsed: object = json.loads(body)
    except ValueError:
        return False
    return parsed in ([], {})
