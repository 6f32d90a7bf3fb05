"""The scratch state of one executor step, and the decision it ends with.

A step takes an execution as the store holds it, changes a copy (task runs created, states
moved, labels added), and collects what must happen next: jobs for workers, task runs to
cancel, log lines, when to be woken up. `StepState` holds that bookkeeping; the executor's
decisions live in `lanner.executor`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from lanner.context import Masker, base_variables, runtime_functions, task_variables
from lanner.executions import Execution, Label, Level, LogEntry, TaskRun
from lanner.expressions import render, render_typed
from lanner.flowable import Enabled, ExecutionIndex, FlowableRun, enabled, resolve
from lanner.flows import Flow
from lanner.jobs import WorkerJob
from lanner.states import State
from lanner.tasks.base import FlowableTask, RunnableTask, Task

if TYPE_CHECKING:
    from lanner.children import ChildRequest
    from lanner.executor import Executor


@dataclass
class Decision:
    """What one executor step changed and what must happen next."""

    execution: Execution
    changed: dict[str, TaskRun] = field(default_factory=dict)
    jobs: list[WorkerJob] = field(default_factory=list)
    logs: list[LogEntry] = field(default_factory=list)
    cancel: list[str] = field(default_factory=list)
    """Ids of running task runs the worker must stop (the execution is being killed)."""
    wake_at: datetime | None = None
    execution_changed: bool = False
    new_executions: list[Execution] = field(default_factory=list)
    """Executions to start (a retry with `behavior: CREATE_NEW_EXECUTION`)."""
    children: list[ChildRequest] = field(default_factory=list)
    """Executions of other flows to start for task runs (Subflow, ForEachItem)."""
    removed: set[str] = field(default_factory=set)
    """Ids of task runs removed from the execution (a loop's previous iteration)."""

    @property
    def finished(self) -> bool:
        return self.execution.current.is_terminated()


@dataclass(frozen=True)
class FlowLists:
    """A flow's top-level task lists, as its executor steps read them."""

    tasks: Enabled
    errors: Enabled
    finally_: Enabled
    after_execution: Enabled
    flowable_ids: tuple[str, ...]
    """The ids of every flowable task of the flow, at any depth."""


class StepState:
    """One executor step over one execution (mutable scratch state, discarded afterwards)."""

    def __init__(self, executor: Executor, flow: Flow, execution: Execution, now: datetime) -> None:
        self.executor = executor
        self.memo = executor.memo(execution.id)
        self.settings = executor.settings
        self.flow = flow
        self.execution = execution
        self.original = execution
        self.now = now
        self.changed: dict[str, TaskRun] = {}
        self.to_dispatch: list[str] = []
        self.logs: list[LogEntry] = []
        self.cancel: list[str] = []
        self.wake_at: datetime | None = None
        self.new_executions: list[Execution] = []
        self.child_requests: list[ChildRequest] = []
        self.removed: set[str] = set()
        self._shared: dict[str, Any] | None = None
        self.tasks, self.top = self._flow_lists(flow)
        # The index of the execution the previous step produced is reused when this step starts
        # from that very execution (the usual case): rebuilding it costs O(task runs).
        cached = self.memo.get("index")
        if isinstance(cached, ExecutionIndex) and cached.execution is execution:
            self.index = cached
        else:
            self.index = self.memo["index"] = ExecutionIndex(execution)

    def _flow_lists(self, flow: Flow) -> tuple[dict[str, Task], FlowLists]:
        """Return the flow's tasks by id and its top-level lists, made once per execution."""
        cached = self.memo.get("flow")
        if isinstance(cached, tuple) and cached[0] is flow:
            return cached[1], cached[2]
        tasks = {task.id: task for task in flow.walk()}
        top = FlowLists(
            enabled(resolve(flow.tasks)),
            enabled(resolve(flow.errors)),
            enabled(resolve(flow.finally_)),
            enabled(resolve(flow.after_execution)),
            tuple(task_id for task_id, task in tasks.items() if isinstance(task, FlowableTask)),
        )
        self.memo["flow"] = (flow, tasks, top)
        return tasks, top

    # -- bookkeeping ------------------------------------------------------------------------

    def decision(self) -> Decision:
        if self.execution.current.is_terminated():
            self.executor.forget(self.execution.id)
        jobs = []
        final = self.execution.final_state
        for run_id in self.to_dispatch:
            run = self.index.get(run_id)
            task = self.tasks[run.task_id]
            assert isinstance(task, RunnableTask)
            execution = self.execution
            if final is not None and run.task_id in self._after_ids:
                # An afterExecution task reads the final state as `execution.state`.
                execution = execution.with_state(final, self.now)
            jobs.append(WorkerJob(execution, run, task, tuple(self.index.ancestors(run))))
        return Decision(
            execution=self.execution,
            changed=self.changed,
            jobs=jobs,
            logs=self.logs,
            cancel=self.cancel,
            wake_at=self.wake_at,
            execution_changed=self.execution is not self.original,
            new_executions=self.new_executions,
            children=self.child_requests,
            removed=self.removed,
        )

    def save(self, run: TaskRun) -> TaskRun:
        self.execution = self.index.with_run(self.execution, run)
        self.index.update(self.execution, run)
        self.changed[run.id] = run
        return run

    def set_execution_state(self, state: State) -> None:
        self.execution = self.execution.with_state(state, self.now)
        self.index.execution = self.execution
        self._shared = None

    def log(self, run: TaskRun | None, level: Level, message: str) -> None:
        self.logs.append(
            LogEntry(
                namespace=self.execution.namespace,
                flow_id=self.execution.flow_id,
                execution_id=self.execution.id,
                timestamp=self.now,
                level=level,
                message=message,
                task_id=run.task_id if run else None,
                task_run_id=run.id if run else None,
                attempt_number=len(run.attempts) if run and run.attempts else None,
                thread="executor",
            )
        )

    def wake(self, at: datetime) -> None:
        if self.wake_at is None or at < self.wake_at:
            self.wake_at = at

    # -- rendering --------------------------------------------------------------------------

    def _variables(self, task: Task, run: TaskRun | None) -> Any:
        if self._shared is None:
            self._shared = base_variables(self.flow, self.execution, self.settings)
            final = self.execution.final_state
            if final is not None:
                self._shared["execution"] = {**self._shared["execution"], "state": final.value}
        return task_variables(self._shared, self.index, task, run, self.settings.encryption_key)

    def flowable_run(self, task: Task, run: TaskRun | None) -> FlowableRun:
        # Made on the first render: most steps of a flowable render nothing (a loop renders its
        # values once, then only counts its children), and each result of a wide loop is a step.
        @functools.cache
        def variables_and_functions() -> tuple[Any, Any]:
            functions = runtime_functions(self.index, run, Masker(), kv=self.executor.kv)
            return self._variables(task, run), functions

        return FlowableRun(
            index=self.index,
            task_run=run,
            render=lambda text: render(text, *variables_and_functions()),
            render_typed=lambda text: render_typed(text, *variables_and_functions()),
            memo=self.memo,
            now=self.now,
            log=lambda level, message: self.log(run, level, message),
        )

    def update_execution(self, **changes: Any) -> None:
        """Change fields of the execution (labels, bookkeeping) other than its task runs."""
        self.execution = replace(self.execution, **changes)
        self.index.execution = self.execution
        self._shared = None

    def _merge_labels(self, labels: Sequence[Label]) -> None:
        """Add labels to the execution; a label replaces an existing one with the same key."""
        known = {label.key for label in labels}
        kept = tuple(label for label in self.execution.labels if label.key not in known)
        self.update_execution(labels=(*kept, *labels))

    def _end_now(self, state: State) -> None:
        """End the execution at once: unfinished task runs are killed."""
        for run in self.index.unfinished():
            if run.current is State.RUNNING and run.attempts:
                self.cancel.append(run.id)
            self.save(replace(run.with_state(State.KILLED, self.now), due_at=None))
        self.set_execution_state(state)

    def _fail(self, run: TaskRun, message: str) -> None:
        self.log(run, Level.ERROR, message)
        self.save(run.with_state(State.FAILED, self.now))

    @property
    def _after_ids(self) -> set[str]:
        return self.flow.after_execution_ids()
