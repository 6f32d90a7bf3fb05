"""The executor: given a flow and an execution, decide what happens next. No I/O.

`Executor.advance` takes an execution and returns a `Decision`: the execution moved forward
(new task runs, flowable states, the final state), the jobs to send to workers, log lines, and
when to be woken up again (retry backoff). The runner persists the decision and dispatches the
jobs; worker results come back through `Executor.apply`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from lanner.children import (
    ChildEvent,
    ChildRequest,
    apply_child_event,
    children_asked,
    start_children,
)
from lanner.clock import utcnow
from lanner.context import Masker, runtime_functions
from lanner.durations import format_duration
from lanner.exceptions import IllegalStateError, LannerError
from lanner.executions import Attempt, Execution, Level, TaskRun
from lanner.expressions import is_truthy_text, render_value, to_text
from lanner.flowable import ExecutionIndex
from lanner.flows import ConcurrencyBehavior, Flow
from lanner.ids import derived_id
from lanner.inputs import CoercionError, coerce_value
from lanner.iterations import start_next_iteration, wait_for_next_iteration
from lanner.jobs import WorkerResult
from lanner.limits import ExecutionSizes, too_big
from lanner.retry import RetryBehavior
from lanner.settings import Settings
from lanner.sla import ExecutionAssertionSla, MaxDurationSla
from lanner.states import State, StateTrail
from lanner.step import Decision, StepState
from lanner.storage import Storage
from lanner.store.kv import KVStore
from lanner.tasks.base import (
    ExecutableTask,
    FlowableTask,
    PauseWindow,
    ResolvedTask,
    RunnableTask,
    Task,
)


class Executor:
    """Pure decisions over executions; one instance serves every execution of a process."""

    def __init__(
        self,
        settings: Settings,
        kv: KVStore | None = None,
        storage: Storage | None = None,
    ) -> None:
        self.settings = settings
        # Read by `kv()` in flowable properties, runIf and flow outputs.
        self.kv = kv
        # Read like Kestra's executor does: ForEachItem's batches, `read()` in a child's inputs.
        self.storage = storage
        # Per running execution: what its flowables computed once (see FlowableRun.memo).
        self._memos: dict[str, dict[Any, Any]] = {}

    def memo(self, execution_id: str) -> dict[Any, Any]:
        return self._memos.setdefault(execution_id, {})

    def forget(self, execution_id: str) -> None:
        """Drop what was memoised for an execution that ended."""
        self._memos.pop(execution_id, None)

    def advance(
        self, flow: Flow, execution: Execution, now: datetime | None = None, *, running: int = 0
    ) -> Decision:
        """Move an execution as far as it can go without a worker result.

        `running` counts the other executions of the flow that hold a concurrency slot; it only
        matters for a flow with `concurrency`, when this execution is about to start.
        """
        step = _Step(self, flow, execution, now or utcnow())
        step.run(running)
        return step.decision()

    def apply(
        self,
        flow: Flow,
        execution: Execution,
        result: WorkerResult,
        now: datetime | None = None,
        *,
        running: int = 0,
    ) -> Decision:
        """Record a worker result, then advance."""
        step = _Step(self, flow, execution, now or utcnow())
        step.record(result)
        step.run(running)
        return step.decision()

    def child_event(
        self,
        flow: Flow,
        execution: Execution,
        event: ChildEvent,
        now: datetime | None = None,
        *,
        running: int = 0,
    ) -> Decision:
        """Record what happened to a child execution (created, ended, refused), then advance."""
        step = _Step(self, flow, execution, now or utcnow())
        apply_child_event(step, event)
        step.run(running)
        return step.decision()

    def children_asked(
        self, flow: Flow, execution: Execution, now: datetime | None = None
    ) -> list[ChildRequest]:
        """Return the children the running Subflow and ForEachItem task runs asked for.

        They are planned again from the execution as the store holds it, with the ids they
        were given: an executor that died before the children's events went out leaves them
        for the next one to find (see `QueueChildren.resume`). None while the execution is
        being killed: its children are being killed, not started.
        """
        if execution.current is State.KILLING or execution.current.is_terminated():
            return []
        if not any(run.current is State.RUNNING for run in execution.task_runs):
            return []
        return children_asked(_Step(self, flow, execution, now or utcnow()))

    def resume(
        self,
        flow: Flow,
        execution: Execution,
        outputs: Mapping[str, Any] | None = None,
        now: datetime | None = None,
    ) -> Decision:
        """Resume every paused task run of a paused execution; IllegalStateError otherwise."""
        if execution.current is not State.PAUSED:
            raise IllegalStateError(
                f"Execution '{execution.id}' is {execution.current.value}, not PAUSED"
            )
        step = _Step(self, flow, execution, now or utcnow())
        paused = [run for run in step.index.unfinished() if run.current is State.PAUSED]
        for run in paused:
            step.resume(run, outputs)
        if not paused:  # paused by `pause`: it goes on from where it stopped
            step.set_execution_state(State.RUNNING)
        step.run()
        return step.decision()

    def pause(self, flow: Flow, execution: Execution, now: datetime | None = None) -> Decision:
        """Pause a running execution: the task runs already running end, nothing else starts
        (no task run, retry, loop iteration or flowable's end) until it is resumed or killed.

        An execution that is not RUNNING (it ended, or paused itself meanwhile) is left as it is.
        """
        step = _Step(self, flow, execution, now or utcnow())
        if execution.current is State.RUNNING:
            step.set_execution_state(State.PAUSED)
        return step.decision()

    def start_now(self, flow: Flow, execution: Execution, now: datetime | None = None) -> Decision:
        """Start a CREATED or QUEUED execution now, whatever its schedule date or its flow's
        concurrency (Kestra's force-run and unqueue); any other one just moves on."""
        step = _Step(self, flow, execution, now or utcnow())
        if execution.current in (State.CREATED, State.QUEUED):
            step.set_execution_state(State.RUNNING)
        step.run()
        return step.decision()

    def end_queued(
        self, flow: Flow, execution: Execution, state: State, now: datetime | None = None
    ) -> Decision:
        """End a QUEUED execution in `state` without running it (Kestra's unqueue to CANCELLED
        or FAILED); an execution no longer queued is left as it is."""
        step = _Step(self, flow, execution, now or utcnow())
        if execution.current is State.QUEUED:
            step.set_execution_state(state)
        return step.decision()

    def kill(self, flow: Flow, execution: Execution, now: datetime | None = None) -> Decision:
        """Start killing an execution: nothing new starts, running task runs are stopped."""
        step = _Step(self, flow, execution, now or utcnow())
        if not execution.current.is_terminated():
            step.set_execution_state(State.KILLING)
        step.run()
        return step.decision()


class _Step(StepState):
    """One executor step over one execution: the decisions, on the step's scratch state."""

    # -- worker results ---------------------------------------------------------------------

    def record(self, result: WorkerResult) -> None:
        """Apply a worker result to its task run (retry, allowFailure, warningOnRetry)."""
        try:
            run = self.index.get(result.task_run_id)
        except KeyError:
            return
        if run.current.is_terminated() or not run.attempts:
            return  # a late result for a task run already decided (killed, restarted)
        last = run.attempts[-1]
        attempts = (
            *run.attempts[:-1],
            replace(last, state=last.state.to(result.state, result.ended_at)),
        )
        run = replace(run, attempts=attempts, outputs=result.outputs)
        task = self.tasks[run.task_id]
        state = result.state
        if result.outputs and not self._fits(run):
            run, state = replace(run, outputs=None), State.FAILED
        if state is State.FAILED and self.execution.current is not State.KILLING:
            if self._schedule_retry(run, task):
                return
            if task.allow_failure:
                state = State.SUCCESS if task.allow_warning else State.WARNING
        elif state is State.WARNING and task.allow_warning:
            state = State.SUCCESS
        elif state is State.SUCCESS and len(attempts) > 1:
            policy = self._retry_policy(run, task)
            if policy is not None and policy.warning_on_retry:
                state = State.WARNING
        self.save(run.with_state(state, result.ended_at))

    def _fits(self, run: TaskRun) -> bool:
        """Say whether the execution stays within `max_message_bytes` with this result."""
        sizes = self.memo.setdefault("sizes", ExecutionSizes())
        size = sizes.with_run(self.execution, run)
        limit = self.settings.max_message_bytes
        if size <= limit:
            return True
        self.log(run, Level.ERROR, f"Task '{run.task_id}' result refused: {too_big(size, limit)}")
        return False

    def _retry_policy(self, run: TaskRun, task: Task) -> Any:
        if task.retry is not None:
            return task.retry
        for ancestor in reversed(self.index.ancestors(run)):
            parent = self.tasks[ancestor.task_id]
            if parent.retry is not None:
                return parent.retry
        return self.flow.retry

    def _schedule_retry(self, run: TaskRun, task: Task) -> bool:
        policy = self._retry_policy(run, task)
        if policy is None or policy.behavior is not RetryBehavior.RETRY_FAILED_TASK:
            return False
        first = run.attempts[0].state.start_date
        due = policy.next_attempt_at(len(run.attempts), first, self.now)
        if due is None:
            return False
        self.save(replace(run.with_state(State.RETRYING, self.now), due_at=due.timestamp()))
        self.wake(due)
        return True

    # -- the step ---------------------------------------------------------------------------

    def run(self, running: int = 0) -> None:
        if self.execution.current.is_terminated() or self._held():
            return
        scheduled = self.execution.schedule_date
        if self.execution.current is State.CREATED and scheduled and scheduled > self.now:
            self.wake(scheduled)
            return
        if not self._start_execution(running):
            return
        if self._max_duration_exceeded():
            return
        for _ in range(10_000):  # each round makes progress; the bound guards against bugs
            if not self._round():
                break
        self._finish()

    def _held(self) -> bool:
        """Say whether the execution was paused by `Executor.pause`: PAUSED with no task run
        paused (a Pause task pauses its own task run, and the branches beside it go on)."""
        if self.execution.current is not State.PAUSED:
            return False
        return not any(run.current is State.PAUSED for run in self.index.unfinished())

    def _start_execution(self, running: int) -> bool:
        """Move a created or queued execution to RUNNING if the flow's concurrency allows it."""
        current = self.execution.current
        if current not in (State.CREATED, State.RESTARTED, State.QUEUED):
            return True
        limit = self.flow.concurrency
        if limit is not None and current is not State.RESTARTED and running >= limit.limit:
            if limit.behavior is ConcurrencyBehavior.QUEUE:
                if current is not State.QUEUED:
                    self.set_execution_state(State.QUEUED)
            elif limit.behavior is ConcurrencyBehavior.CANCEL:
                self.set_execution_state(State.CANCELLED)
            else:
                self.log(None, Level.ERROR, "Flow is FAILED due to concurrency limit exceeded")
                self.set_execution_state(State.FAILED)
            return False
        self.set_execution_state(State.RUNNING)
        return True

    # -- SLA --------------------------------------------------------------------------------

    def _max_duration_exceeded(self) -> bool:
        """Apply MAX_DURATION SLAs; return True when one ended the execution."""
        started = self.execution.state.last_date(State.RUNNING) or self.execution.state.start_date
        for sla in self.flow.sla or ():
            if not isinstance(sla, MaxDurationSla) or sla.id in self.execution.reported_slas:
                continue
            deadline = sla.deadline(started)
            if deadline > self.now:
                self.wake(deadline)
                continue
            # A violation is reported once, a restarted engine included.
            self.update_execution(reported_slas=(*self.execution.reported_slas, sla.id))
            end = self._violate(sla, f"ran longer than {format_duration(sla.duration)}")
            if end is not None:
                self._end_now(end)
                return True
        return False

    def _assertions(self, state: State) -> State:
        """Check EXECUTION_ASSERTION SLAs on the final state; return the state they leave."""
        top = self.flowable_run(self.flow.tasks[0], None)
        for sla in self.flow.sla or ():
            if not isinstance(sla, ExecutionAssertionSla):
                continue
            try:
                holds = is_truthy_text(top.render(sla.assert_))
            except LannerError as exc:
                self.log(None, Level.ERROR, f"SLA '{sla.id}' cannot be evaluated: {exc}")
                continue
            if not holds:
                state = self._violate(sla, "does not satisfy its assertion") or state
        return state

    def _violate(self, sla: MaxDurationSla | ExecutionAssertionSla, reason: str) -> State | None:
        """Record a violated SLA (log, labels); return the state its behavior ends in."""
        self.log(None, Level.WARN, f"SLA '{sla.id}' violated: the execution {reason}")
        if sla.labels:
            self._merge_labels(sla.labels)
        return sla.behavior.end_state()

    def _round(self) -> bool:
        if self.execution.current.is_terminated():
            return False  # ended by a task (Exit)
        progress = self._timers()
        if self.execution.current is State.KILLING:
            return self._kill_round() or progress
        progress |= self._restarted()
        top = self.flowable_run(self.flow.tasks[0], None)
        lists = self.top
        progress |= self._create(
            None, top.sequential_nexts(lists.tasks, lists.errors, lists.finally_)
        )
        if self.flow.after_execution and self._final_state() is not None:
            after = self.flowable_run(self.flow.tasks[0], None)
            progress |= self._create(None, after.sequential_nexts(lists.after_execution))
        for snapshot in self.index.unfinished_of(self.top.flowable_ids):
            task = self.tasks[snapshot.task_id]
            run = self.index.get(snapshot.id)
            if isinstance(task, FlowableTask) and not run.current.is_terminated():
                progress |= self._resolve_flowable(task, run)
        return progress

    def _timers(self) -> bool:
        progress = False
        for run in self.index.unfinished_with_timer():
            if run.due_at is None:
                continue
            due = datetime.fromtimestamp(run.due_at, tz=self.now.tzinfo)
            if due > self.now:
                self.wake(due)
                continue
            if run.current is State.RETRYING:
                task = self.tasks[run.task_id]
                self._start(replace(run, due_at=None), task)
                progress = True
            elif run.current is State.PAUSED:
                self._pause_due(run)
                progress = True
        return progress

    def _restarted(self) -> bool:
        """Start again the task runs a restart or a replay left RESTARTED, as a new attempt."""
        runs = self.index.unfinished_restarted()
        for run in runs:
            self._start(run, self.tasks[run.task_id])
        return bool(runs)

    def _create(self, parent: TaskRun | None, nexts: list[ResolvedTask]) -> bool:
        for resolved in nexts:
            if self.execution.current.is_terminated():
                break
            run = TaskRun.create(
                self.execution,
                resolved.task.id,
                parent_task_run_id=parent.id if parent else None,
                value=resolved.value,
                iteration=resolved.iteration,
                at=self.now,
            )
            self.save(run)
            self._start(run, resolved.task)
        return bool(nexts)

    def _start(self, run: TaskRun, task: Task) -> None:
        """Check `runIf`, then start a task run: dispatch a runnable, open a flowable."""
        if task.run_if is not None:
            try:
                condition = self._render_condition(task, run, task.run_if)
            except LannerError as exc:
                self._fail(run, str(exc))
                return
            if not condition:
                self.save(run.with_state(State.SKIPPED, self.now))
                return
        if isinstance(task, RunnableTask):
            attempt = Attempt(StateTrail.start(State.RUNNING, self.now))
            run = replace(
                run.with_state(State.RUNNING, self.now), attempts=(*run.attempts, attempt)
            )
            self.save(run)
            self.to_dispatch.append(run.id)
            return
        if isinstance(task, ExecutableTask):
            start_children(self, run, task)
            return
        assert isinstance(task, FlowableTask)
        try:
            started = self.flowable_run(task, run)
            outputs = task.outputs(started)
            values = run.loop_values
            if values is None:
                values = task.frozen_values(started)
            running = run.with_state(State.RUNNING, self.now)
            run = self.save(replace(running, outputs=outputs, loop_values=values))
            flowable = self.flowable_run(task, run)
            exit_state = task.exit_state(flowable)
            labels = task.execution_labels(flowable)
            window = task.pause_window(flowable)
        except LannerError as exc:
            self._fail(run, str(exc))
            return
        if exit_state is not None:
            self.save(run.with_state(State.SUCCESS, self.now))
            self._end_now(exit_state)
            return
        if labels is not None:
            self._merge_labels(labels)
            self.save(run.with_state(State.SUCCESS, self.now))
            return
        if window is not None:
            self._pause(run, window)

    # -- pauses -----------------------------------------------------------------------------

    def _pause(self, run: TaskRun, window: PauseWindow) -> None:
        """Pause a task run, and the execution with it, until its delay or timeout if any."""
        limit = window.delay if window.delay is not None else window.timeout
        due = self.now + limit if limit is not None else None
        due_at = due.timestamp() if due is not None else None
        self.save(replace(run.with_state(State.PAUSED, self.now), due_at=due_at))
        if due is not None:
            self.wake(due)
        self.set_execution_state(State.PAUSED)

    def _pause_due(self, run: TaskRun) -> None:
        """A paused task run's time came: its delay resumes it, its timeout fails it."""
        task = self.tasks[run.task_id]
        assert isinstance(task, FlowableTask)
        try:
            window = task.pause_window(self.flowable_run(task, run))
        except LannerError as exc:
            self._fail(run, str(exc))
            return
        if window is None:  # not a Pause: a loop waiting for its next iteration
            start_next_iteration(self, run)
        elif window.delay is None and window.timeout is not None:
            timeout = format_duration(window.timeout)
            self._fail(replace(run, due_at=None), f"Paused task timed out after {timeout}")
        else:
            self.resume(run, None)

    def resume(self, run: TaskRun, outputs: Mapping[str, Any] | None) -> None:
        """Resume a paused task run (with its `onResume` values as outputs, if any)."""
        resumed = replace(run.with_state(State.RUNNING, self.now), due_at=None)
        if outputs is not None:
            # Kestra's Pause output: the values under `onResume` (`outputs.<id>.onResume.<input>`).
            resumed = replace(resumed, outputs={"onResume": dict(outputs)})
        self.save(resumed)
        paused = any(other.current is State.PAUSED for other in self.index.unfinished())
        if self.execution.current is State.PAUSED and not paused:
            self.set_execution_state(State.RUNNING)

    def _render_condition(self, task: Task, run: TaskRun, condition: Any) -> bool:
        if not isinstance(condition, str):
            return is_truthy_text(to_text(condition))
        return is_truthy_text(self.flowable_run(task, run).render(condition))

    def _resolve_flowable(self, task: FlowableTask, run: TaskRun) -> bool:
        if run.current is not State.RUNNING:
            return False
        flowable = self.flowable_run(task, run)
        try:
            nexts = task.resolve_nexts(flowable)
            if nexts:
                return self._create(run, nexts)
            again = task.again_after(flowable)
            if again is not None:
                wait_for_next_iteration(self, run, again)
                return True
            state = task.resolve_state(flowable)
        except LannerError as exc:
            self._fail(run, str(exc))
            return True
        if state is None:
            return False
        self.save(run.with_state(state, self.now))
        return True

    def _kill_round(self) -> bool:
        progress = False
        for run in self.index.unfinished():
            task = self.tasks[run.task_id]
            children = self.index.children(run.id)
            if isinstance(task, FlowableTask):
                if all(child.current.is_terminated() for child in children):
                    self.save(run.with_state(State.KILLED, self.now))
                    progress = True
            elif run.current is State.RUNNING and isinstance(task, RunnableTask):
                if run.id not in self.cancel:
                    self.cancel.append(run.id)
            else:
                self.save(replace(run.with_state(State.KILLED, self.now), due_at=None))
                progress = True
        return progress

    # -- the end ----------------------------------------------------------------------------

    def _finish(self) -> None:
        if self.execution.current.is_terminated():
            return
        if self.execution.current is State.KILLING:
            if not self.index.has_unfinished():
                self.set_execution_state(State.KILLED)
            return
        state = self._final_state()
        if state is None or self.index.has_unfinished():
            return
        self.set_execution_state(state)

    def _final_state(self) -> State | None:
        """Return the state the execution ends in once its main branches are done, else None.

        It is computed once (flow outputs, SLA assertions, a retry as a new execution) and
        kept on the execution, in the store. A flow's `afterExecution` tasks then run, one after
        another, while the execution is still RUNNING but their templates already read this
        state as `execution.state`; the execution takes it when they are all done, whatever
        their own outcome, so they cannot change it.
        """
        known = self.execution.final_state
        if known is not None:
            return known
        top = self.flowable_run(self.flow.tasks[0], None)
        state = top.resolve_state(self.top.tasks, self.top.errors, self.top.finally_)
        if state is None or any(
            run.task_id not in self._after_ids for run in self.index.unfinished()
        ):
            return None
        if self.flow.outputs:
            state = self._flow_outputs(state)
        if self.flow.sla:
            state = self._assertions(state)
        if state is State.FAILED and self._retry_as_new_execution():
            state = State.RETRIED
        self.update_execution(final_state=state)
        return state

    def _retry_as_new_execution(self) -> bool:
        """Start a new execution when a failed task's retry says CREATE_NEW_EXECUTION."""
        for run in self.execution.task_runs:
            if run.current is not State.FAILED:
                continue
            policy = self._retry_policy(run, self.tasks[run.task_id])
            if policy is None or policy.behavior is not RetryBehavior.CREATE_NEW_EXECUTION:
                continue
            first = self.execution.original_created_date
            due = policy.next_attempt_at(self.execution.attempt_number, first, self.now)
            if due is None:
                return False
            self.new_executions.append(self._next_attempt(due))
            return True
        return False

    def _next_attempt(self, due: datetime) -> Execution:
        fresh = Execution.create(
            self.execution.namespace,
            self.execution.flow_id,
            self.execution.flow_revision,
            inputs=self.execution.inputs,
            labels=self.execution.labels,
            trigger=self.execution.trigger,
            execution_id=next_attempt_id(self.execution),
        )
        return replace(
            fresh,
            attempt_number=self.execution.attempt_number + 1,
            original_created_date=self.execution.original_created_date,
            schedule_date=due,
        )

    def _flow_outputs(self, state: State) -> State:
        """Render the flow's outputs; a failure to render fails the execution."""
        variables = self._variables(self.flow.tasks[0], None)
        functions = runtime_functions(self.index, None, Masker(), kv=self.executor.kv)
        outputs: dict[str, Any] = {}
        try:
            for output in self.flow.outputs or ():
                value = render_value(output.value, variables, functions)
                outputs[output.id] = _coerce_output(output.type, output.id, value)
        except (LannerError, CoercionError, ValueError) as exc:
            self.log(None, Level.ERROR, f"Failed to render output values: {exc}")
            return State.FAILED
        self.execution = replace(self.execution, outputs=outputs)
        return state


def _coerce_output(type_name: str, output_id: str, value: Any) -> Any:
    try:
        return coerce_value(type_name, value) if value is not None else None
    except CoercionError as exc:
        raise ValueError(f"Invalid output for `{output_id}`, {exc}") from exc


def next_attempt_id(execution: Execution) -> str:
    """Return the id of the execution a CREATE_NEW_EXECUTION retry of `execution` starts.

    Derived from the execution and the attempt number, so that an executor deciding the retry
    again (its predecessor died before starting it) names the same execution.
    """
    return derived_id("retry", execution.id, execution.attempt_number + 1)


def outputs_of(execution: Execution) -> Mapping[str, Any]:
    """Return the `outputs` map of a finished execution (for summaries)."""
    from lanner.flowable import loop_outputs

    return loop_outputs(ExecutionIndex(execution))
