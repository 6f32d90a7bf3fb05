"""A looping flowable's next iteration (WaitFor), decided inside an executor step.

Between iterations the task run waits PAUSED, the execution with it, until `due_at`, like a
Pause delay: the timer lives in the store, so it fires after a restart too. When it is due,
the previous iteration's task runs are removed (Kestra keeps only the current iteration) and
the task run starts again: CREATED then RUNNING in its state history, `iteration` and its
`iterationCount` output one higher.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from lanner.executions import TaskRun
from lanner.flowable import ExecutionIndex
from lanner.states import State
from lanner.step import StepState


def wait_for_next_iteration(step: StepState, run: TaskRun, delay: timedelta) -> None:
    """Pause a looping task run, and its execution, until its next iteration is due."""
    due = step.now + delay
    step.save(replace(run.with_state(State.PAUSED, step.now), due_at=due.timestamp()))
    step.wake(due)
    step.set_execution_state(State.PAUSED)


def start_next_iteration(step: StepState, run: TaskRun) -> None:
    """Remove the previous iteration's task runs and run the children again."""
    doomed = _descendants(step.index, run.id)
    kept = tuple(item for item in step.execution.task_runs if item.id not in doomed)
    step.execution = replace(step.execution, task_runs=kept)
    step.index = step.memo["index"] = ExecutionIndex(step.execution)
    step.removed.update(doomed)
    for run_id in doomed:
        step.changed.pop(run_id, None)
    iteration = (run.iteration or 1) + 1
    count = (run.outputs or {}).get("iterationCount", iteration - 1)
    again = run.with_state(State.CREATED, step.now).with_state(State.RUNNING, step.now)
    outputs = {**(run.outputs or {}), "iterationCount": int(count) + 1}
    step.save(replace(again, iteration=iteration, outputs=outputs, due_at=None))
    if not any(other.current is State.PAUSED for other in step.index.unfinished()):
        step.set_execution_state(State.RUNNING)


def _descendants(index: ExecutionIndex, parent_id: str) -> set[str]:
    found: set[str] = set()
    pending = [parent_id]
    while pending:
        for child in index.children(pending.pop()):
            found.add(child.id)
            pending.append(child.id)
    return found
