"""Client-level retries of the HTTP tasks (`options.retry` and its companions).

Kestra's HTTP client sends a request again, after the policy's delay, when no response arrived
(a refused or reset connection, a timeout) or when the response has a status listed for
retrying. By default only `GET` and `HEAD` are retried, as the other methods may have changed
something on the server already; `retryOnStatusCodesByMethod` and
`retryableTransportFailureMethods` widen that. `retry` itself defaults to a single attempt, so
nothing is retried until a flow asks for it.

This is distinct from the task's own `retry`, which runs the whole task again as a new attempt.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import httpx

from lanner.durations import format_duration
from lanner.retry import ConstantRetry, ExponentialRetry, RandomRetry

if TYPE_CHECKING:
    from lanner.context import TaskLogger

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD"})
DEFAULT_RETRY_CODES = (502, 503, 504)
# A policy without `maxAttempt` stops after three attempts, as Kestra's retry library does.
DEFAULT_MAX_ATTEMPTS = 3

Policy = ConstantRetry | ExponentialRetry | RandomRetry


@dataclass(frozen=True, slots=True)
class RetrySettings:
    """The rendered retry options of one request."""

    policy: Policy | None = None
    status_codes: tuple[int, ...] = DEFAULT_RETRY_CODES
    codes_by_method: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    transport_methods: frozenset[str] = IDEMPOTENT_METHODS

    def retries_status(self, method: str, code: int) -> bool:
        """Say whether a response with this code is worth another attempt."""
        if method in self.codes_by_method:
            return code in self.codes_by_method[method]
        # Without an entry of their own, methods that may write are never retried on a status.
        return method in IDEMPOTENT_METHODS and code in self.status_codes

    def retries_transport(self, method: str) -> bool:
        """Say whether a request that got no response may be sent again."""
        return method in self.transport_methods

    def delay(self, attempts_done: int, first_attempt_at: datetime) -> timedelta | None:
        """Return the wait before the next attempt, or None when the policy is exhausted."""
        policy = self.policy
        if policy is None or attempts_done >= (policy.max_attempt or DEFAULT_MAX_ATTEMPTS):
            return None
        now = datetime.now(UTC)
        due = policy.next_attempt_at(attempts_done, first_attempt_at, now)
        return None if due is None else max(due - now, timedelta(0))


async def send_with_retry(
    client: httpx.AsyncClient,
    request: httpx.Request,
    *,
    auth: httpx.Auth | None,
    retry: RetrySettings,
    accepts: Callable[[int], bool],
    logger: TaskLogger,
) -> httpx.Response:
    """Send `request`, streamed, again as long as `retry` allows; return the last response.

    A response is retried only when the task would fail on it: a code that `allowFailed` or
    `allowedResponseCodes` accepts is the task's result, as in Kestra. The last transport error
    is raised when the attempts run out.
    """
    first_attempt_at = datetime.now(UTC)
    attempt = 1
    while True:
        started = time.monotonic()
        try:
            response = await client.send(request, auth=auth, stream=True)
        except httpx.TransportError as exc:
            wait = retry.delay(attempt, first_attempt_at)
            if wait is None or not retry.retries_transport(request.method):
                raise
            reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        else:
            code = response.status_code
            wait = None
            if not accepts(code) and retry.retries_status(request.method, code):
                wait = retry.delay(attempt, first_attempt_at)
            if wait is None:
                return response
            await response.aclose()
            reason = f"response code '{code}'"
        elapsed = timedelta(seconds=round(time.monotonic() - started, 3))
        logger.info(
            f"Retrying the request to '{request.url}' in {format_duration(wait)}: attempt "
            f"{attempt} failed after {format_duration(elapsed)} ({reason})"
        )
        await asyncio.sleep(wait.total_seconds())
        attempt += 1
