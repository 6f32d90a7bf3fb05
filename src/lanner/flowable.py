"""How a flowable task reads the execution to pick its next children and its own state.

These are Kestra's sequencing rules (FlowableUtils in Kestra), as pure functions over an
execution: no I/O, so the executor can call them as often as it likes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, TypeVar

from lanner.executions import Execution, Level, TaskRun
from lanner.states import State
from lanner.tasks.base import ResolvedTask, Task

T = TypeVar("T")


def _no_log(level: Level, message: str) -> None:
    """Drop a log line (a FlowableRun made outside an executor step)."""


class ExecutionIndex:
    """Task runs of one execution by id and by parent, kept up to date as they change.

    The executor keeps one index per running execution from step to step, so every question it
    asks on each worker result (a task run by id, the children of a parent, the open task runs)
    costs what the answer holds, not the whole execution: a ForEach of thousands of values
    would otherwise be quadratic. Each map is built on the first question that needs it: the
    worker builds an index for every task run it starts and mostly needs that task run's
    ancestors, which it can be given up front (`known`).
    """

    def __init__(self, execution: Execution, known: Iterable[TaskRun] = ()) -> None:
        self.execution = execution
        self._by_id: dict[str, TaskRun] = {run.id: run for run in known}
        self._all_ids = False
        self._by_parent: dict[str | None, list[TaskRun]] = defaultdict(list)
        self._by_key: dict[str | None, dict[tuple[str, str | None], TaskRun]] = defaultdict(dict)
        self._position: dict[str, int] = {}
        self._open: dict[str, None] = {}
        self._failed: dict[str | None, dict[str, None]] = defaultdict(dict)
        self._ended: dict[str | None, int] = defaultdict(int)
        self._open_under: dict[str | None, dict[str, None]] = defaultdict(dict)
        # Subsets of the open task runs the executor asks for on every step, so that a step
        # costs what it looks at: by task, those with a timer, those RESTARTED. The order
        # they were opened in keeps every answer in the order of `unfinished()`.
        self._open_order: dict[str, int] = {}
        self._opened = 0
        self._open_by_task: dict[str, dict[str, None]] = defaultdict(dict)
        self._open_due: dict[str, None] = {}
        self._open_restarted: dict[str, None] = {}
        # Per parent, the ids of children in the order they ended (a child may end again
        # after a retry): a loop reads what ended since it last looked, not all its children.
        self._ended_log: dict[str | None, list[str]] = defaultdict(list)
        self._built = False
        self._places: dict[str, int] | None = None

    def _ids(self) -> dict[str, TaskRun]:
        if not self._all_ids:
            self._all_ids = True
            self._by_id = {run.id: run for run in self.execution.task_runs}
        return self._by_id

    def _build(self) -> None:
        if self._built:
            return
        self._built = True
        self._ids()
        for run in self.execution.task_runs:
            self._put(run)

    def update(self, execution: Execution, run: TaskRun) -> None:
        """Take a task run that was added to or replaced in `execution`."""
        self.execution = execution
        if self._places is not None and run.id not in self._places:
            self._places[run.id] = len(execution.task_runs) - 1  # appended at the end
        if self._built:
            self._put(run)
        else:
            self._by_id[run.id] = run

    def _put(self, run: TaskRun) -> None:
        parent_id = run.parent_task_run_id
        siblings = self._by_parent[parent_id]
        position = self._position.get(run.id)
        was_open = position is None or run.id in self._open
        if position is None:
            position = self._position[run.id] = len(siblings)
            siblings.append(run)
        else:
            self._ended[parent_id] -= siblings[position].current.is_terminated()
            siblings[position] = run
        self._ended[parent_id] += run.current.is_terminated()
        self._by_id[run.id] = run
        # A (task, value) pair names the latest of its task runs, as a scan in order would.
        keyed = self._by_key[parent_id]
        key = (run.task_id, run.value)
        latest = keyed.get(key)
        if latest is None or self._position[latest.id] <= position:
            keyed[key] = run
        run_id = run.id
        if run.current.is_terminated():
            if was_open:  # it ends now (or is new and already ended)
                self._ended_log[parent_id].append(run_id)
            self._close(run)
        else:
            if run_id not in self._open:
                self._open_order[run_id] = self._opened
                self._opened += 1
            self._open[run_id] = None
            self._open_under[parent_id][run_id] = None
            self._open_by_task[run.task_id][run_id] = None
            _keep_if(self._open_due, run_id, run.due_at is not None)
            _keep_if(self._open_restarted, run_id, run.current is State.RESTARTED)
        failed = self._failed[parent_id]
        if run.current is State.FAILED:
            failed[run.id] = None
        else:
            failed.pop(run.id, None)

    def _close(self, run: TaskRun) -> None:
        """Forget a terminated task run in every open subset."""
        run_id = run.id
        self._open.pop(run_id, None)
        self._open_under[run.parent_task_run_id].pop(run_id, None)
        self._open_by_task[run.task_id].pop(run_id, None)
        self._open_due.pop(run_id, None)
        self._open_restarted.pop(run_id, None)

    def with_run(self, execution: Execution, run: TaskRun) -> Execution:
        """Return `execution` with `run` added or replacing its old self (see `update`).

        The place of each task run is remembered, so a replacement does not search for it.
        """
        if self._places is None:
            self._places = {other.id: place for place, other in enumerate(execution.task_runs)}
        return execution.with_task_run(run, self._places.get(run.id))

    def children(self, parent_id: str | None) -> list[TaskRun]:
        """Return the task runs directly under a parent (None: top level), oldest first."""
        self._build()
        return self._by_parent.get(parent_id, [])

    def children_by_key(self, parent_id: str | None) -> Mapping[tuple[str, str | None], TaskRun]:
        """Return the latest child task run of a parent by (task id, loop value)."""
        self._build()
        return self._by_key.get(parent_id, {})

    def unfinished_children(self, parent_id: str | None) -> list[TaskRun]:
        """Return the task runs directly under a parent not yet terminated, oldest first."""
        self._build()
        return [self._by_id[run_id] for run_id in self._open_under.get(parent_id, ())]

    def terminated_children(self, parent_id: str | None) -> int:
        """Count the terminated task runs directly under a parent."""
        self._build()
        return self._ended.get(parent_id, 0)

    def get(self, task_run_id: str) -> TaskRun:
        """Return a task run by id; KeyError if the execution has none."""
        run = self._by_id.get(task_run_id)
        if run is None:
            run = self._ids()[task_run_id]
        return run

    def failed_children(self, parent_id: str | None) -> list[TaskRun]:
        """Return the FAILED task runs directly under a parent."""
        self._build()
        return [self._by_id[run_id] for run_id in self._failed.get(parent_id, ())]

    def unfinished(self) -> list[TaskRun]:
        """Return the task runs not yet terminated, oldest first (a snapshot)."""
        self._build()
        return [self._by_id[run_id] for run_id in self._open]

    def has_unfinished(self) -> bool:
        """Tell whether any task run is not terminated yet."""
        self._build()
        return bool(self._open)

    def unfinished_of(self, task_ids: Iterable[str]) -> list[TaskRun]:
        """Return the unfinished task runs of these tasks, in the order of `unfinished()`."""
        self._build()
        found = [run_id for task_id in task_ids for run_id in self._open_by_task.get(task_id, ())]
        return self._in_open_order(found)

    def unfinished_with_timer(self) -> list[TaskRun]:
        """Return the unfinished task runs with a `due_at`, in the order of `unfinished()`."""
        self._build()
        return self._in_open_order(list(self._open_due))

    def unfinished_restarted(self) -> list[TaskRun]:
        """Return the RESTARTED task runs, in the order of `unfinished()`."""
        self._build()
        return self._in_open_order(list(self._open_restarted))

    def _in_open_order(self, run_ids: list[str]) -> list[TaskRun]:
        run_ids.sort(key=self._open_order.__getitem__)
        return [self._by_id[run_id] for run_id in run_ids]

    def ended_children_since(self, parent_id: str | None, start: int) -> tuple[list[str], int]:
        """Return the ids of children that ended from position `start` of the parent's log
        of endings on, and the position to start from next time."""
        self._build()
        log = self._ended_log.get(parent_id, [])
        return log[start:], len(log)

    def ancestors(self, task_run: TaskRun) -> list[TaskRun]:
        """Return the parents of a task run, outermost first."""
        chain: list[TaskRun] = []
        parent_id = task_run.parent_task_run_id
        while parent_id is not None:
            parent = self._by_id.get(parent_id)
            if parent is None:
                parent = self._ids().get(parent_id)
                if parent is None:
                    break
            chain.append(parent)
            parent_id = parent.parent_task_run_id
        chain.reverse()
        return chain


def _keep_if(subset: dict[str, None], run_id: str, keep: bool) -> None:
    if keep:
        subset[run_id] = None
    else:
        subset.pop(run_id, None)


class Enabled(list[ResolvedTask]):
    """Resolved tasks already without the disabled ones, with their keys known once.

    A loop's thousands of children are filtered and keyed once, when the loop expands them,
    instead of on each of the executor's questions.
    """

    @cached_property
    def keys(self) -> frozenset[tuple[str, str | None]]:
        """The (task id, loop value) of each task."""
        return frozenset((resolved.task.id, resolved.value) for resolved in self)


def enabled(tasks: Iterable[ResolvedTask] | None) -> Enabled:
    """Drop disabled tasks: they never get a task run."""
    if isinstance(tasks, Enabled):
        return tasks
    return Enabled(resolved for resolved in tasks or () if not resolved.task.disabled)


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
    memo: dict[Any, Any] = field(default_factory=dict)
    """Values a flowable computes once per task run (a loop's expanded children), kept by the
    executor for as long as the execution runs; a missing entry is simply computed again."""
    now: datetime | None = None
    """The executor step's clock."""
    log: Callable[[Level, str], None] = _no_log
    """Log a line on this task run."""

    def remember(self, key: str, compute: Callable[[], T]) -> T:
        """Return the value memoised under `key` for this task run, computing it once."""
        full_key = (self.parent_id, key)
        if full_key not in self.memo:
            self.memo[full_key] = compute()
        value: T = self.memo[full_key]
        return value

    @property
    def parent_id(self) -> str | None:
        return self.task_run.id if self.task_run is not None else None

    @property
    def _children(self) -> Mapping[tuple[str, str | None], TaskRun]:
        """The child task runs of this parent by (task id, loop value)."""
        return self.index.children_by_key(self.parent_id)

    def runs_for(self, tasks: Sequence[ResolvedTask]) -> list[TaskRun]:
        """Return the existing task runs of these resolved tasks, in the tasks' order."""
        children = self._children
        runs = []
        for resolved in tasks:
            run = children.get((resolved.task.id, resolved.value))
            if run is not None:
                runs.append(run)
        return runs

    def run_of(self, resolved: ResolvedTask) -> TaskRun | None:
        """Return the task run of one resolved task, if it was created."""
        return self._children.get((resolved.task.id, resolved.value))

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
        failed = self.index.failed_children(self.parent_id)
        if not failed:
            return False
        keys = tasks.keys if isinstance(tasks, Enabled) else _keys(tasks)
        return any((run.task_id, run.value) in keys for run in failed)

    def all_terminated(self, tasks: Sequence[ResolvedTask]) -> bool:
        if self.index.terminated_children(self.parent_id) < len(tasks):
            return False  # too few children ended for these tasks to have all ended
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
        # One still running, paused or waiting for a retry holds the others back; only the
        # parent's open children are looked at, not every child that ended before.
        keys = current.keys if isinstance(current, Enabled) else _keys(current)
        children = self._children
        for run in self.index.unfinished_children(self.parent_id):
            key = (run.task_id, run.value)
            if key in keys and children.get(key) is run:
                return []
        return self._first_not_created(current)

    def _first_not_created(self, current: list[ResolvedTask]) -> list[ResolvedTask]:
        """Return the first task of `current` that has no task run yet, if any.

        Task runs are never taken away from an index, so the tasks found created stay created:
        for a list the step keeps (a loop's, the flow's), the search resumes where it stopped.
        """
        key = (self.parent_id, "created-up-to")
        known = self.memo.get(key)
        start = known[2] if known and known[0] is self.index and known[1] is current else 0
        for position in range(start, len(current)):
            if self.run_of(current[position]) is None:
                self.memo[key] = (self.index, current, position)
                return [current[position]]
        self.memo[key] = (self.index, current, len(current))
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
        groups = self.remember("groups", lambda: _by_value(current))
        # Groups start in order: the groups started and not yet finished are remembered, so a
        # step looks at those in progress only, not at every group started before them.
        progress = self.remember("group-progress", _GroupProgress)
        while (
            progress.started < len(groups) and self.run_of(groups[progress.started][0]) is not None
        ):
            progress.open.add(progress.started)
            progress.started += 1
        nexts: list[ResolvedTask] = []
        ready: set[int] = set()
        for position in sorted(self._groups_to_check(progress, groups)):
            next_item = self._next_in_group(groups[position])
            if next_item is None:
                progress.open.discard(position)
            elif isinstance(next_item, ResolvedTask):
                nexts.append(next_item)
                ready.add(position)
        progress.ready = ready
        # Every open group is active: one of its task runs is running, or its next is due.
        start = progress.started
        room = len(groups) - start if limit <= 0 else max(limit - len(progress.open), 0)
        return nexts + [group[0] for group in groups[start : start + room]]

    def _groups_to_check(
        self, progress: _GroupProgress, groups: list[list[ResolvedTask]]
    ) -> set[int]:
        """Return the open groups whose next task may have changed since the last step.

        A group last seen busy stays busy until its running task run ends, so with the same
        index as last time, only the groups of children that ended since, and those whose
        next task was due, are looked at: a wide loop costs what changed, not its width.
        """
        ended, progress.ended_seen = self.index.ended_children_since(
            self.parent_id, progress.ended_seen if progress.index is self.index else 0
        )
        if progress.index is not self.index:
            progress.index = self.index
            progress.positions = progress.positions or {
                group[0].value: position for position, group in enumerate(groups)
            }
            return set(progress.open)
        check = set(progress.ready)
        for run_id in ended:
            position = progress.positions.get(self.index.get(run_id).value)
            if position is not None and position in progress.open:
                check.add(position)
        return check

    def _next_in_group(self, group: list[ResolvedTask]) -> ResolvedTask | object | None:
        """Return the group's next task to create, `_BUSY` while one runs, None when done."""
        for item in group:
            run = self.run_of(item)
            if run is None:
                return item
            if not run.current.is_terminated():
                return _BUSY
        return None

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


_BUSY = object()


@dataclass
class _GroupProgress:
    """How far a loop's groups went: how many started, which of those are not finished."""

    started: int = 0
    open: set[int] = field(default_factory=set)
    ready: set[int] = field(default_factory=set)
    """Open groups whose next task was returned last time (it may not have been created)."""
    index: ExecutionIndex | None = None
    """The index the groups were last looked at with."""
    ended_seen: int = 0
    """How much of the parent's log of ended children was read."""
    positions: dict[str | None, int] = field(default_factory=dict)
    """Each group's position by its loop value."""


def _keys(tasks: Sequence[ResolvedTask]) -> frozenset[tuple[str, str | None]]:
    return frozenset((resolved.task.id, resolved.value) for resolved in tasks)


def _by_value(tasks: Sequence[ResolvedTask]) -> list[list[ResolvedTask]]:
    """Group a loop's resolved tasks by loop value, keeping the order of the values."""
    groups: dict[str | None, list[ResolvedTask]] = {}
    for item in tasks:
        groups.setdefault(item.value, []).append(item)
    return list(groups.values())


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
