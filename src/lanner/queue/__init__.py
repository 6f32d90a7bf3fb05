"""The queue between executors and workers: a Protocol, in memory and in PostgreSQL."""

from __future__ import annotations

from lanner.queue.base import (
    ChangeListener,
    Claim,
    EventKind,
    ExecutorEvent,
    JobTicket,
    Listener,
    Queue,
)
from lanner.queue.memory import MemoryQueue
from lanner.queue.postgres import Notice, PostgresQueue

__all__ = [
    "ChangeListener",
    "Claim",
    "EventKind",
    "ExecutorEvent",
    "JobTicket",
    "Listener",
    "MemoryQueue",
    "Notice",
    "PostgresQueue",
    "Queue",
]
