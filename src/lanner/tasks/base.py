"""The task classes every task type derives from.

Kestra's split, kept here: a *runnable* task does work and runs in the worker (Log, Request,
...); a *flowable* task only decides which children run next and what its own state is, and is
resolved inside the executor without I/O (Sequential, ForEach, If, ...).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from pydantic import (
    Field,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)

from lanner.exceptions import TaskError
from lanner.executions import Label, Level
from lanner.properties import DynamicDuration, Expr, YamlRecord
from lanner.retry import RetryPolicy
from lanner.states import State
from lanner.tasks import registry

if TYPE_CHECKING:
    from lanner.children import ChildEvent, ChildOutcome, ChildRequest, ChildScope
    from lanner.context import RunContext
    from lanner.executions import TaskRun
    from lanner.flowable import FlowableRun

TASK_ID_PATTERN = r"^[a-zA-Z0-9][a-zA-Z0-9_-]*$"


class Task(YamlRecord):
    """Properties every task accepts (spec flows.md §4)."""

    # Canonical Kestra type name, set by each concrete task class.
    TYPE: ClassVar[str] = ""

    id: Annotated[str, Field(pattern=TASK_ID_PATTERN, max_length=100)]
    type: str
    description: str | None = None
    disabled: bool = False
    timeout: DynamicDuration | None = None
    retry: RetryPolicy | None = None
    allow_failure: bool = False
    allow_warning: bool = False
    run_if: str | bool | None = None
    log_level: Level | None = None
    log_to_file: bool = False
    worker_group: Mapping[str, Any] | None = None

    def walk(self) -> Iterator[Task]:
        """Yield this task and every task nested under it, depth first."""
        yield self


class RunnableTask(Task):
    """A task that does work: it runs in the worker and may return outputs."""

    async def run(self, ctx: RunContext) -> Mapping[str, Any] | None:
        """Do the task's work; raise a TaskError (or any exception) to fail the attempt."""
        raise NotImplementedError


def flag(ctx: RunContext, value: bool | Expr, name: str) -> bool:
    """Return a boolean property, rendered when it is a template; TaskError if not a boolean."""
    rendered = ctx.render_typed(value) if isinstance(value, Expr) else value
    if isinstance(rendered, bool):
        return rendered
    text = str(rendered).strip().lower()
    if text not in ("true", "false"):
        raise TaskError(f"'{name}' must be true or false, got '{rendered}'")
    return text == "true"


@dataclass(frozen=True, slots=True)
class PauseWindow:
    """How a task run pauses: it goes on after `delay`, or fails after `timeout`."""

    delay: timedelta | None = None
    timeout: timedelta | None = None


@dataclass(frozen=True, slots=True)
class ResolvedTask:
    """A child task as a flowable will run it: the task, and its loop value if any."""

    task: Task
    value: str | None = None
    iteration: int | None = None


def _validate_task(value: Any, handler: ValidatorFunctionWrapHandler) -> Task:
    """Validate a task mapping with the class its `type` names (aliases included)."""
    task: Task = registry.TASKS.validate(value, handler, Task)
    return task


TaskRef = Annotated[Task, WrapValidator(_validate_task)]
"""A task of any registered type, chosen by its `type` property."""


class FlowableTask(Task):
    """A task that only orchestrates children; the executor resolves it without I/O."""

    errors: list[TaskRef] | None = None
    finally_: list[TaskRef] | None = Field(default=None, alias="finally")

    def task_lists(self) -> Iterator[tuple[str, Sequence[Task]]]:
        """Yield each list of child tasks with the property that holds it."""
        if self.errors:
            yield "errors", self.errors
        if self.finally_:
            yield "finally", self.finally_

    def walk(self) -> Iterator[Task]:
        yield self
        for _, tasks in self.task_lists():
            for task in tasks:
                yield from task.walk()

    def resolve_nexts(self, run: FlowableRun) -> list[ResolvedTask]:
        """Return the children to create now."""
        raise NotImplementedError

    def resolve_state(self, run: FlowableRun) -> State | None:
        """Return this task run's final state once its children allow it, else None."""
        raise NotImplementedError

    def outputs(self, run: FlowableRun) -> Mapping[str, Any] | None:
        """Return the outputs stored on this task run when it ends."""
        return None

    def frozen_values(self, run: FlowableRun) -> tuple[str, ...] | None:
        """Return the loop values to render once, when this task run starts (loops), or None.

        The executor keeps them on the task run, in the store, so that every later step, in
        this process or after a restart, sees the same values.
        """
        return None

    def again_after(self, run: FlowableRun) -> timedelta | None:
        """Return after how long this task run's children run again as a new iteration.

        None (most flowables): the task run does not loop, or its loop is over and its state
        is resolved. Asked once no child is left to create.
        """
        return None

    def pause_window(self, run: FlowableRun) -> PauseWindow | None:
        """Return how this task run pauses when it starts, or None if it does not (most)."""
        return None

    def exit_state(self, run: FlowableRun) -> State | None:
        """Return the state this task ends the execution in when it starts, or None (most)."""
        return None

    def execution_labels(self, run: FlowableRun) -> tuple[Label, ...] | None:
        """Return the labels this task merges into the execution when it starts, or None."""
        return None


class ExecutableTask(Task):
    """A task that starts executions of other flows (Kestra's ExecutableTask: Subflow, ...).

    The executor asks it which children to start when its task run starts, then hands it
    every event about them (created, ended, could not start) until it says it is done. The
    runner creates the children: see `lanner.children`.
    """

    def plan_children(
        self, scope: ChildScope
    ) -> tuple[Mapping[str, Any] | None, list[ChildRequest]]:
        """Return the task run's first outputs and the children to start."""
        raise NotImplementedError

    def child_event(self, run: TaskRun, event: ChildEvent) -> ChildOutcome:
        """Return how the task run changes after an event about one of its children."""
        raise NotImplementedError
