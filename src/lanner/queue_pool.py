"""The PostgreSQL queue of a scaled-out process, by its role: its connections and its notices.

An executor decides up to `PARALLEL` executions at once and each decision holds a queue
connection from start to end (its claim is a transaction), so it needs at least one more for
what it reads beside them (jobs to queue again, the next due executions): with fewer, every
decision would wait for a connection that only a decision can give back. The other roles hold
a connection only for the length of one call.

Each role hears only the notices it waits for or reacts to: every notice wakes every process
that hears it, and results, jobs and changes are sent many times a second under load.
"""

from __future__ import annotations

from lanner.exceptions import LannerError
from lanner.queue import Notice
from lanner.queue_executor import PARALLEL
from lanner.settings import QUEUE_POOL_VARIABLE, Settings

__all__ = [
    "DEFAULT_QUEUE_POOL_SIZES",
    "HEARD_NOTICES",
    "least_queue_pool_size",
    "queue_pool_size",
]

DEFAULT_QUEUE_POOL_SIZES = {"executor": PARALLEL + 2, "webserver": 4, "worker": 3, "scheduler": 3}
HEARD_NOTICES = {
    "executor": (Notice.EVENTS,),  # events to decide
    "worker": (Notice.JOBS, Notice.CANCEL),  # jobs to take, running jobs to stop
    "scheduler": (Notice.CHANGE,),  # executions that ended, for Flow triggers
    "webserver": (Notice.CHANGE, Notice.LOGS),  # what followers watch, ended executions
}


def least_queue_pool_size(role: str) -> int:
    """Return the fewest queue connections a process of `role` can work with."""
    return PARALLEL + 1 if role == "executor" else 1


def queue_pool_size(settings: Settings, role: str) -> int:
    """Return the queue connections of a `role` process: `LANNER_QUEUE_POOL_SIZE` or its default.

    Raises LannerError when the setting is too small for the role.
    """
    size = settings.queue_pool_size or DEFAULT_QUEUE_POOL_SIZES[role]
    least = least_queue_pool_size(role)
    if size < least:
        raise LannerError(
            f"{QUEUE_POOL_VARIABLE} must be at least {least} for an executor, which decides"
            f" up to {PARALLEL} executions at once with one connection each and needs one more"
            f" beside them: got {size}"
        )
    return size
