"""WaitFor: run a list of tasks again and again until a condition holds.

After each iteration (every child ended without failing) the `condition` is rendered with the
outputs of that iteration. Truthy: the task ends. Falsy: the task run (and the execution with
it) waits for `checkFrequency.interval`, PAUSED, then its children run again as a new
iteration: the previous iteration's task runs are removed and the task run's `iteration` and
`iterationCount` go up by one, as Kestra does. `maxIterations` and `maxDuration` bound the
loop; reaching one ends it, FAILED when `failOnMaxReached`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from pydantic import Field

from lanner.executions import Level
from lanner.expressions import is_truthy_text, to_text
from lanner.properties import DynamicDuration, YamlRecord
from lanner.states import State
from lanner.tasks.base import FlowableTask, ResolvedTask, Task, TaskRef
from lanner.tasks.pause import render_duration
from lanner.tasks.registry import register

if TYPE_CHECKING:
    from lanner.flowable import FlowableRun

# The children's states that let an iteration count as done (a failure goes to `errors`).
_DONE = (State.SUCCESS, State.WARNING, State.SKIPPED)


class CheckFrequency(YamlRecord):
    """How often the condition is checked, and for how long at most."""

    max_iterations: int | None = Field(default=100, ge=1)
    max_duration: DynamicDuration | None = timedelta(hours=1)
    interval: DynamicDuration = timedelta(seconds=1)


@register
class WaitFor(FlowableTask):
    """Run `tasks` until `condition` renders truthy, `checkFrequency.interval` apart."""

    TYPE = "io.kestra.plugin.core.flow.WaitFor"

    tasks: list[TaskRef] = Field(min_length=1)
    condition: str | bool | int | float
    fail_on_max_reached: bool = False
    check_frequency: CheckFrequency = Field(default_factory=CheckFrequency)

    def task_lists(self) -> Iterator[tuple[str, Sequence[Task]]]:
        yield "tasks", self.tasks
        yield from super().task_lists()

    def outputs(self, run: FlowableRun) -> Mapping[str, Any] | None:
        return {"iterationCount": _iteration(run)}

    def _branches(self, run: FlowableRun) -> tuple[list[ResolvedTask], ...]:
        # Each child carries the iteration it belongs to, as in Kestra.
        iteration = _iteration(run)
        return tuple(
            [ResolvedTask(task, iteration=iteration) for task in tasks or ()]
            for tasks in (self.tasks, self.errors, self.finally_)
        )

    def resolve_nexts(self, run: FlowableRun) -> list[ResolvedTask]:
        return run.sequential_nexts(*self._branches(run))

    def again_after(self, run: FlowableRun) -> timedelta | None:
        if not self._iteration_done(run) or self._holds(run) or self._limit(run) is not None:
            return None
        return self._duration(run, self.check_frequency.interval)

    def resolve_state(self, run: FlowableRun) -> State | None:
        tasks, errors, finally_ = self._branches(run)
        state = run.resolve_state(
            tasks,
            errors,
            finally_,
            allow_failure=self.allow_failure,
            allow_warning=self.allow_warning,
        )
        if state is None or not self._iteration_done(run) or self._holds(run):
            return state
        reached = self._limit(run)
        if reached is not None:
            run.log(Level.WARN, reached)
            if self.fail_on_max_reached:
                return State.FAILED
        return state

    def _iteration_done(self, run: FlowableRun) -> bool:
        children = run.index.children(run.parent_id)
        done = [child for child in children if child.current in _DONE]
        return len(done) == len(self.tasks) == len(children)

    def _holds(self, run: FlowableRun) -> bool:
        condition = self.condition
        text = run.render(condition) if isinstance(condition, str) else to_text(condition)
        return is_truthy_text(text)

    def _limit(self, run: FlowableRun) -> str | None:
        """Return which bound the loop reached ("Max iterations reached"...), if any."""
        limit = self.check_frequency.max_iterations
        if limit is not None and _iteration(run) >= limit:
            return "Max iterations reached"
        longest = self.check_frequency.max_duration
        if longest is not None and run.task_run is not None and run.now is not None:
            started = run.task_run.state.histories[0].date
            if started + self._duration(run, longest) < run.now:
                return "Max duration reached"
        return None

    @staticmethod
    def _duration(run: FlowableRun, value: Any) -> timedelta:
        duration = render_duration(run, value)
        assert duration is not None  # both durations it renders are set when it calls
        return duration


def _iteration(run: FlowableRun) -> int:
    """Return the iteration the task run is in, counted from 1."""
    return (run.task_run.iteration if run.task_run is not None else None) or 1
