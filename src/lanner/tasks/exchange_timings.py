"""The timings of an HTTP exchange, from the events httpcore reports to a request's `trace`.

httpcore calls the `trace` extension of a request at the start and end of each step: opening
the TCP connection, the TLS handshake, sending the headers and the body, receiving the response
headers and body. One `send` may carry several requests (redirects, a digest challenge); the
events of each start with `send_request_headers`, preceded by the connection's own steps when a
new connection was opened for it. `split_hops` cuts the event list into one group per request
and `har_timings` turns a group into HAR 1.2 timings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# Steps of the connection itself: they belong to the request sent next.
_CONNECTION_STEPS = ("connect_tcp.", "start_tls.")


@dataclass(frozen=True, slots=True)
class Event:
    """One step's start or end: `send_request_headers.started`, `connect_tcp.failed`..."""

    name: str
    at: float


Hop = dict[str, float]
"""The events of one request, by name (the first of each), times from `time.perf_counter`."""


def event_name(traced: str) -> str:
    """Drop httpcore's module prefix: `http11.send_request_headers.started` -> the rest."""
    return traced.split(".", 1)[1] if traced.count(".") >= 2 else traced


def split_hops(events: Sequence[Event]) -> list[Hop]:
    """Group events by request, in the order the requests were sent."""
    hops: list[Hop] = []
    pending: Hop = {}
    current: Hop | None = None
    for event in events:
        if event.name == "send_request_headers.started":
            current = pending
            pending = {}
            hops.append(current)
        if current is None or event.name.startswith(_CONNECTION_STEPS):
            pending.setdefault(event.name, event.at)
        else:
            current.setdefault(event.name, event.at)
    if pending:
        # A connection that failed before anything was sent on it.
        hops.append(pending)
    return hops


def _end(hop: Hop, step: str) -> float | None:
    return hop.get(f"{step}.complete", hop.get(f"{step}.failed"))


def _between(start: float | None, end: float | None) -> float:
    """Milliseconds from start to end, or -1 (HAR's "does not apply") when either is unknown."""
    if start is None or end is None:
        return -1
    return round(max(end - start, 0.0) * 1000, 3)


def _step(hop: Hop, step: str) -> float:
    return _between(hop.get(f"{step}.started"), _end(hop, step))


def har_timings(hop: Hop, since: float, until: float) -> dict[str, float]:
    """Return HAR timings: `since` is when the request was handed over, `until` the end.

    `blocked` is the wait before the first step (a free connection), `connect` includes `ssl`
    as HAR requires, `wait` runs from the end of sending to the complete response headers
    (the time to first byte), and `receive` to the end of the body, or `until` when the body
    was not read to its end. DNS is part of httpcore's TCP connect, so `dns` is -1.
    """
    first = min(hop.values(), default=until)
    tcp, tls = _step(hop, "connect_tcp"), _step(hop, "start_tls")
    sent = _end(hop, "send_request_body") or _end(hop, "send_request_headers")
    headers = _end(hop, "receive_response_headers")
    body = _end(hop, "receive_response_body")
    timings = {
        "blocked": _between(since, first),
        "dns": -1.0,
        "connect": tcp + max(tls, 0) if tcp >= 0 else -1,
        "ssl": tls,
        "send": _between(hop.get("send_request_headers.started"), sent),
        "wait": _between(sent, headers or (until if sent is not None else None)),
        "receive": _between(headers, body or until) if headers is not None else -1,
    }
    return timings


def total_time(timings: dict[str, float]) -> float:
    """Return HAR's `time`: the sum of the timings that apply (`ssl` is inside `connect`)."""
    parts = (value for name, value in timings.items() if name != "ssl" and value > 0)
    return round(sum(parts), 3)
