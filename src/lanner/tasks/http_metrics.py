"""The metrics an HTTP task reports for each exchange, under Kestra's names and tags.

Kestra's HTTP client reports, for every response (each redirect hop included), the counters
`request.count`, `request.bytes`, `response.count`, `response.bytes` and `response.length`
(the announced `Content-Length`, -1 when unknown), tagged `request.method`, `request.scheme`,
`request.hostname` and `response.code`. lanner adds a `duration` timer, from sending the
request to the end of the response body. Byte counts here are of bodies only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from lanner.context import RunContext


def report_exchange(ctx: RunContext, response: httpx.Response, seconds: float) -> None:
    """Report the counters of `response` and of the redirects before it, and the timer."""
    for hop in response.history:
        _report_hop(ctx, hop, tags(hop))
    last = tags(response)
    _report_hop(ctx, response, last)
    ctx.metric("duration", seconds, type="timer", tags=last)


def tags(response: httpx.Response) -> dict[str, str]:
    request = response.request
    return {
        "request.method": request.method,
        "request.scheme": request.url.scheme,
        "request.hostname": request.url.host,
        "response.code": str(response.status_code),
    }


def _report_hop(ctx: RunContext, response: httpx.Response, hop_tags: dict[str, str]) -> None:
    sent = response.request.headers.get("content-length", "0")
    counters = {
        "request.count": 1,
        "request.bytes": int(sent) if sent.isdigit() else 0,
        "response.count": 1,
        "response.bytes": response.num_bytes_downloaded,
    }
    if _has_entity(response):
        announced = response.headers.get("content-length", "").strip()
        counters["response.length"] = int(announced) if announced.isdigit() else -1
    for name, value in counters.items():
        ctx.metric(name, value, tags=hop_tags)


def _has_entity(response: httpx.Response) -> bool:
    # As in Kestra, responses that cannot carry a body report no `response.length`.
    code = response.status_code
    return response.request.method != "HEAD" and code not in (204, 304) and code >= 200
