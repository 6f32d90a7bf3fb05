"""Pause: hold an execution until a delay passes, a timeout fails it, or someone resumes it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from pydantic import Field

from lanner.properties import DynamicDuration, coerce_duration
from lanner.states import State
from lanner.tasks.base import FlowableTask, PauseWindow, ResolvedTask, Task, TaskRef
from lanner.tasks.registry import register

if TYPE_CHECKING:
    from lanner.flowable import FlowableRun


@register
class Pause(FlowableTask):
    """Pause the execution; after `delay` it goes on, after `timeout` the task fails.

    Without either, the execution waits for a manual resume (API or UI), which may give the
    values of the `onResume` inputs as this task's outputs. Then its `tasks`, if any, run.
    """

    TYPE = "io.kestra.plugin.core.flow.Pause"

    delay: DynamicDuration | None = None
    on_resume: list[Any] | None = None
    tasks: list[TaskRef] | None = Field(default=None)

    def task_lists(self) -> Iterator[tuple[str, Sequence[Task]]]:
        if self.tasks:
            yield "tasks", self.tasks
        yield from super().task_lists()

    def pause_window(self, run: FlowableRun) -> PauseWindow | None:
        return PauseWindow(
            delay=render_duration(run, self.delay),
            timeout=render_duration(run, self.timeout),
        )

    def resolve_nexts(self, run: FlowableRun) -> list[ResolvedTask]:
        return run.sequential_nexts(self._tasks(), self._resolved(self.errors), [])

    def resolve_state(self, run: FlowableRun) -> State | None:
        return run.resolve_state(
            self._tasks(),
            self._resolved(self.errors),
            allow_failure=self.allow_failure,
            allow_warning=self.allow_warning,
        )

    def _tasks(self) -> list[ResolvedTask]:
        return self._resolved(self.tasks)

    @staticmethod
    def _resolved(tasks: Sequence[Task] | None) -> list[ResolvedTask]:
        return [ResolvedTask(task) for task in tasks or ()]


def render_duration(run: FlowableRun, value: Any) -> timedelta | None:
    """Resolve a duration property of a flowable that may be a template."""
    if value is None or isinstance(value, timedelta):
        return value
    return coerce_duration(run.render_typed(str(value)))
