"""How a flowable task reads the execution to pick its next children and its own state.

These are Kestra's sequencing rules (FlowableUtils in Kestra), as pure functions over an
execution: no I/O, so the executor can call them as often as it likes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lanner.executions import Execution, TaskRun
from lanner.states import State
from lanner.tasks.base import ResolvedTask, Task


class ExecutionIndex:
    """Task runs of one execution grouped by parent, built once per executor pass."""

    def __init__(self, execution: Execution) -> None:
        self.execution = execution
        self._by_parent: dict[str | None, list[TaskRun]] = defaultdict(list)
        self._by_id: dict[str, TaskRun] = {}
        for run in execution.task_runs:
            self._by_parent[run.parent_task_run_id].append(run)
            self._by_id[run.id] = run

    def children(self, parent_id: str | None) -> list[TaskRun]:
        """Return the task runs directly under a parent (None: top level), oldest first."""
        return self._by_parent.get(parent_id, [])

    def get(self, task_run_id: str) -> TaskRun:
        return self._by_id[task_run_id]

    def ancestors(self, task_run: TaskRun) -> list[TaskRun]:
        """Return the parents of a task run, outermost first."""
        chain: list[TaskRun] = []
        parent_id = task_run.parent_task_run_id
        while parent_id is not None and parent_id in self._by_id:
            parent = self._by_id[parent_id]
            chain.append(parent)
            parent_id = parent.parent_task_run_id
        chain.reverse()
        return chain


def enabled(tasks: Iterable[ResolvedTask] | None) -> list[ResolvedTask]:
    """Drop disabled tasks: they never get a task run."""
    return [resolved for resolved in tasks or () if not resolved.task.disabled]


def resolve(tasks: Sequence[Task] | None, value: str | None = None) -> list[ResolvedTask]:
    """Wrap plain child tasks (no loop value of their own) as resolved tasks."""
    return [ResolvedTask(task, value) for task in tasks or ()]


@dataclass
class FlowableRun:
    """One flowable task run, seen from the executor."""

    index: ExecutionIndex
    task_run: TaskRun | None
    """The parent task run; None for the flow's top-level lists."""
    render: Callable[[str], str]
    """Render a template in the context of this task run."""
    render_typed: Callable[[str], Any]

    @property
    def parent_id(self) -> str | None:
        return self.task_run.id if self.task_run is not None else None

    def runs_for(self, tasks: Sequence[ResolvedTask]) -> list[TaskRun]:
        """Return the existing task runs of these resolved tasks, in creation order."""
        wanted = {(resolved.task.id, resolved.value) for resolved in tasks}
        ids = {resolved.task.id for resolved in tasks if resolved.value is None}
        return [
            run
            for run in self.index.children(self.parent_id)
            if (run.task_id, run.value) in wanted or run.task_id in ids
        ]

    def run_of(self, resolved: ResolvedTask) -> TaskRun | None:
        """Return the task run of one resolved task, if it was created."""
        for run in self.index.children(self.parent_id):
            if run.task_id == resolved.task.id and (
                resolved.value is None or run.value == resolved.value
            ):
                return run
        return None

    # -- which list is live: the tasks, the errors branch, or finally ------------------------

    def current_tasks(
        self,
        tasks: Sequence[ResolvedTask],
        errors: Sequence[ResolvedTask] | None,
        finally_: Sequence[ResolvedTask] | None = None,
    ) -> list[ResolvedTask]:
        """Return the list that runs now: `finally` once started, `errors` after a failure."""
        return self.branch(tasks, errors, finally_)[1]

    def branch(
        self,
        tasks: Sequence[ResolvedTask],
        errors: Sequence[ResolvedTask] | None,
        finally_: Sequence[ResolvedTask] | None = None,
    ) -> tuple[str, list[ResolvedTask]]:
        """Return which list runs now ("tasks", "errors" or "finally") and its enabled tasks."""
        tasks, errors, finally_ = enabled(tasks), enabled(errors), enabled(finally_)
        if finally_ and self.runs_for(finally_):
            return "finally", finally_
        if self.runs_for(errors) or self.has_failed(tasks):
            if finally_ and self.all_terminated(errors):
                return "finally", finally_
            return "errors", errors
        if finally_ and self.all_terminated(tasks):
            return "finally", finally_
        return "tasks", tasks

    def has_failed(self, tasks: Sequence[ResolvedTask]) -> bool:
        return any(run.current is State.FAILED for run in self.runs_for(tasks))

    def all_terminated(self, tasks: Sequence[ResolvedTask]) -> bool:
        runs = self.runs_for(tasks)
        done = sum(1 for run in runs if run.current.is_terminated())
        return done >= len(tasks)

    # -- next children ----------------------------------------------------------------------

    def sequential_nexts(
        self,
        tasks: Sequence[ResolvedTask],
        errors: Sequence[ResolvedTask] | None = None,
        finally_: Sequence[ResolvedTask] | None = None,
    ) -> list[ResolvedTask]:
        """Return the next child to create when children run one after another."""
        current = self.current_tasks(tasks, errors, finally_)
        if not current or self.index.execution.current is State.KILLING:
            return []
        runs = self.runs_for(current)
        if not runs:
            return [current[0]]
        if any(run.current.is_created() or run.current.is_running() for run in runs):
            return []
        if any(not run.current.is_terminated() for run in runs):
            return []  # paused or waiting for a retry
        created = {(run.task_id, run.value) for run in runs}
        for resolved in current:
            if (resolved.task.id, resolved.value) not in created:
                return [resolved]
        return []

    def concurrent_nexts(
        self,
        tasks: Sequence[ResolvedTask],
        errors: Sequence[ResolvedTask] | None = None,
        finally_: Sequence[ResolvedTask] | None = None,
        limit: int = 0,
    ) -> list[ResolvedTask]:
        """Return the children to create when up to `limit` run at once (0: no limit)."""
        current = self.current_tasks(tasks, errors, finally_)
        if not current or self.index.execution.current is State.KILLING:
            return []
        runs = self.runs_for(current)
        created = {(run.task_id, run.value) for run in runs}
        waiting = [item for item in current if (item.task.id, item.value) not in created]
        if limit <= 0:
            return waiting
        active = sum(1 for run in runs if not run.current.is_terminated())
        return waiting[: max(limit - active, 0)]

    def grouped_nexts(
        self,
        tasks: Sequence[ResolvedTask],
        errors: Sequence[ResolvedTask] | None = None,
        finally_: Sequence[ResolvedTask] | None = None,
        limit: int = 0,
    ) -> list[ResolvedTask]:
        """Run each loop value's tasks in order, with up to `limit` values at once (0: all)."""
        name, current = self.branch(tasks, errors, finally_)
        if not current or self.index.execution.current is State.KILLING:
            return []
        if name != "tasks":
            return self.sequential_nexts(tasks, errors, finally_)
        runs = {(run.task_id, run.value): run for run in self.runs_for(current)}
        groups: dict[str | None, list[ResolvedTask]] = {}
        for item in current:
            groups.setdefault(item.value, []).append(item)
        nexts: list[ResolvedTask] = []
        fresh: list[ResolvedTask] = []
        active = 0
        for group in groups.values():
            group_runs = [runs.get((item.task.id, item.value)) for item in group]
            started = [run for run in group_runs if run is not None]
            if not started:
                fresh.append(group[0])
                continue
            if any(not run.current.is_terminated() for run in started):
                active += 1
                continue
            if len(started) < len(group):
                active += 1
                nexts.append(group[len(started)])
        room = len(fresh) if limit <= 0 else max(limit - active, 0)
        return nexts + fresh[:room]

    # -- own state ---------------------------------------------------------------------------

    def resolve_state(
        self,
        tasks: Sequence[ResolvedTask],
        errors: Sequence[ResolvedTask] | None = None,
        finally_: Sequence[ResolvedTask] | None = None,
        *,
        allow_failure: bool = False,
        allow_warning: bool = False,
    ) -> State | None:
        """Return the final state once the live list is done, else None."""
        current = self.current_tasks(tasks, errors, finally_)
        if current:
            if self.all_terminated(current):
                return self.final_state(
                    enabled(tasks) + enabled(finally_), allow_failure, allow_warning
                )
            return None
        # An empty live list: nothing to run (empty errors branch after a failure, or no tasks).
        runs = self.runs_for(enabled(tasks))
        if any(not run.current.is_terminated() for run in runs):
            return None
        return self.final_state(enabled(tasks) + enabled(finally_), allow_failure, allow_warning)

    def final_state(
        self, tasks: Sequence[ResolvedTask], allow_failure: bool, allow_warning: bool
    ) -> State:
        """Return the worst state among these children, softened by allowFailure/allowWarning."""
        states = {run.current for run in self.runs_for(tasks)}
        state = State.SUCCESS
        for candidate in (State.KILLED, State.FAILED, State.WARNING, State.PAUSED):
            if candidate in states:
                state = candidate
                break
        if state is State.FAILED and allow_failure:
            return State.SUCCESS if allow_warning else State.WARNING
        if state is State.WARNING and allow_warning:
            return State.SUCCESS
        return state


def loop_outputs(index: ExecutionIndex) -> dict[str, Any]:
    """Build the `outputs` variable: one map level per ancestor loop value (flows.md §8.1)."""
    result: dict[str, Any] = {}
    for run in index.execution.task_runs:
        if run.outputs is None:
            continue
        path = [parent.value for parent in index.ancestors(run) if parent.value is not None]
        if run.value is not None:
            path.append(run.value)
        _merge_at(result, [run.task_id, *path], run.outputs)
    return result


def _merge_at(target: dict[str, Any], path: list[str], outputs: Mapping[str, Any]) -> None:
    node = target
    for key in path[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = {}
            node[key] = child
        node = child
    last = path[-1]
    existing = node.get(last)
    if isinstance(existing, dict):
        existing.update(outputs)
    else:
        node[last] = dict(outputs)
