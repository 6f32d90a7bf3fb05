"""The `Engine` Protocol: the operations on executions that the API, CLI and triggers call.

Two implementations: `Runner` runs the engine in this process (`lanner run`, `server local`,
`server standalone`); `QueueEngine` only reads and writes the store and sends queue events, for
processes with no engine of their own (`server webserver`, `server scheduler`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from lanner.executions import Execution, Label, LogEntry
from lanner.flows import Flow
from lanner.httpclient import ClientPool
from lanner.settings import Settings
from lanner.states import State
from lanner.storage import Storage
from lanner.store import Store

__all__ = ["Engine", "ExecutionListener", "LogListener"]

LogListener = Callable[[LogEntry], None]
ExecutionListener = Callable[[Execution], None]


class Engine(Protocol):
    """Start, wait for, and act on executions; tell listeners what changes."""

    settings: Settings
    store: Store
    storage: Storage

    @property
    def http(self) -> ClientPool:
        """The HTTP clients of triggers that poll (the same pool as the worker's, if any)."""
        ...

    def add_log_listener(self, listener: LogListener) -> None: ...

    def add_execution_listener(self, listener: ExecutionListener) -> None: ...

    async def submit(
        self,
        flow: Flow,
        revision: int,
        inputs: Mapping[str, Any] | None = None,
        labels: Sequence[Label] = (),
        *,
        validate_inputs: bool = True,
        schedule_date: datetime | None = None,
        trigger: Mapping[str, Any] | None = None,
        checked: bool = False,
    ) -> Execution: ...

    async def wait(self, execution_id: str, timeout: float | None = None) -> Execution: ...

    async def kill(self, execution_id: str) -> None: ...

    async def pause(self, execution_id: str) -> None: ...

    async def unqueue(self, execution_id: str, state: State = State.RUNNING) -> None: ...

    async def force_run(self, execution_id: str) -> None: ...

    async def restart(self, execution_id: str, revision: int | None = None) -> Execution: ...

    async def replay(
        self, execution_id: str, task_run_id: str | None = None, revision: int | None = None
    ) -> Execution: ...

    async def change_task_run_state(
        self, execution_id: str, task_run_id: str, state: State
    ) -> Execution: ...

    async def resume(self, execution_id: str, inputs: Mapping[str, Any] | None = None) -> None: ...

    async def change_status(self, execution_id: str, state: State) -> Execution: ...
