"""The executor's bookkeeping kept up to date step by step answers as if rebuilt each time."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from lanner.context import env_variables
from lanner.executions import Execution, Label, TaskRun
from lanner.flow_parser import parse_flow
from lanner.flowable import ExecutionIndex, FlowableRun, enabled
from lanner.limits import ExecutionSizes, encoded_size
from lanner.states import State, StateTrail
from lanner.tasks.base import ResolvedTask

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _execution() -> Execution:
    return Execution.create("company.team", "wide", 1).with_state(State.RUNNING, T0)


def _add(index: ExecutionIndex, execution: Execution, run: TaskRun) -> Execution:
    """Save a task run the way an executor step does."""
    execution = index.with_run(execution, run)
    index.update(execution, run)
    return execution


def _answers(index: ExecutionIndex, execution: Execution) -> dict[str, object]:
    parents = [None, *(run.id for run in execution.task_runs)]
    return {
        "ids": [index.get(run.id) for run in execution.task_runs],
        "children": {parent: index.children(parent) for parent in parents},
        "keys": {parent: dict(index.children_by_key(parent)) for parent in parents},
        "failed": {parent: index.failed_children(parent) for parent in parents},
        "ended": {parent: index.terminated_children(parent) for parent in parents},
        "open under": {parent: index.unfinished_children(parent) for parent in parents},
        "open": index.unfinished(),
        "ancestors": [index.ancestors(run) for run in execution.task_runs],
    }


def test_an_index_kept_up_to_date_answers_like_a_fresh_one() -> None:
    execution = _execution()
    index = ExecutionIndex(execution)
    loop = TaskRun.create(execution, "each", at=T0)
    execution = _add(index, execution, loop.with_state(State.RUNNING, T0))
    # Two iterations of the same (task, value) under the loop: the later one is the latest.
    runs = [
        TaskRun.create(execution, "get", parent_task_run_id=loop.id, value=str(i % 3), at=T0)
        for i in range(6)
    ]
    for run in runs:
        execution = _add(index, execution, run)
    finished = [State.SUCCESS, State.FAILED, State.RUNNING]
    for i, run in enumerate(runs):
        execution = _add(index, execution, run.with_state(finished[i % 3], T0))
    # An older task run changing again does not hide the later one with its key.
    execution = _add(index, execution, runs[0].with_state(State.WARNING, T0))

    assert [run.id for run in execution.task_runs] == [loop.id, *(run.id for run in runs)]
    assert _answers(index, execution) == _answers(ExecutionIndex(execution), execution)
    assert index.children_by_key(loop.id)[("get", "0")].id == runs[3].id


def test_a_wrong_place_is_ignored_when_a_task_run_is_replaced() -> None:
    execution = _execution()
    first, second = (TaskRun.create(execution, task_id, at=T0) for task_id in ("a", "b"))
    execution = execution.with_task_run(first).with_task_run(second)
    done = second.with_state(State.SUCCESS, T0)

    for guess in (None, 0, 1, 7, -1):
        assert execution.with_task_run(done, guess).task_runs == (first, done)


def test_an_index_given_the_known_task_runs_finds_the_others_when_asked() -> None:
    execution = _execution()
    loop = TaskRun.create(execution, "each", at=T0)
    other = TaskRun.create(execution, "other", at=T0)
    child = TaskRun.create(execution, "get", parent_task_run_id=loop.id, value="v", at=T0)
    execution = replace(execution, task_runs=(loop, other, child))

    index = ExecutionIndex(execution, known=[loop, child])

    assert index.ancestors(child) == [loop]
    assert index.get(other.id) == other
    assert index.children(None) == [loop, other]
    with pytest.raises(KeyError):
        index.get("missing")


def test_execution_sizes_kept_up_to_date_match_the_whole_json() -> None:
    execution = _execution()
    sizes = ExecutionSizes()
    runs = []
    for i in range(5):
        run = TaskRun.create(execution, f"t{i}", at=T0).with_state(State.SUCCESS, T0)
        execution = execution.with_task_run(run)
        runs.append(run)
    sizes.with_run(execution, runs[0])
    # New task runs and a bigger result since the last measure are all counted.
    for i in range(3):
        fresh = TaskRun.create(execution, f"n{i}", at=T0)
        # Ended, so that their duration does not depend on when they are measured.
        execution = execution.with_task_run(fresh.with_state(State.SKIPPED, T0))
    bigger = replace(runs[2], outputs={"value": "x" * 500})
    execution = execution.with_task_run(bigger).with_state(State.SUCCESS, T0 + timedelta(1))

    assert sizes.with_run(execution, bigger) == encoded_size(execution.to_json())


def test_execution_sizes_measure_the_execution_again_when_its_own_fields_change() -> None:
    # Ended from the start: a running execution's JSON holds its duration so far, which grows
    # between two measures.
    created = replace(_execution(), state=StateTrail.start(State.CREATED, T0))
    execution = created.with_state(State.FAILED, T0)
    sizes = ExecutionSizes()
    run = TaskRun.create(execution, "t", at=T0).with_state(State.SUCCESS, T0)
    execution = execution.with_task_run(run)
    assert sizes.with_run(execution, run) == encoded_size(execution.to_json())
    # Same fields (the same objects): the remembered size holds.
    second = replace(run, outputs={"value": 1})
    execution = execution.with_task_run(second)
    assert sizes.with_run(execution, second) == encoded_size(execution.to_json())
    # A label, a state and outputs of the execution itself: each is measured.
    execution = replace(execution, labels=(*execution.labels, Label("team", "x" * 40)))
    assert sizes.with_run(execution, second) == encoded_size(execution.to_json())
    execution = execution.with_state(State.SUCCESS, T0 + timedelta(1))
    assert sizes.with_run(execution, second) == encoded_size(execution.to_json())
    execution = replace(execution, outputs={"out": "y" * 100})
    assert sizes.with_run(execution, second) == encoded_size(execution.to_json())


def test_env_variables_keep_the_prefixed_ones_lower_cased(monkeypatch: pytest.MonkeyPatch) -> None:
    environ = {"ENV_API_URL": "http://x", "ENV_": "empty", "OTHER": "no", "env_low": "no"}
    assert env_variables("ENV_", environ) == {"api_url": "http://x", "": "empty"}
    monkeypatch.setenv("LANNER_TEST_ENV_NAME", "from the process")
    assert env_variables("LANNER_TEST_ENV_") == {"name": "from the process"}


LOOP = """id: wide
namespace: company.team
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["a", "b", "c", "d", "e", "f", "g"]
    concurrencyLimit: 3
    tasks:
      - id: first
        type: io.kestra.plugin.core.debug.Return
        format: one
      - id: second
        type: io.kestra.plugin.core.debug.Return
        format: two
"""


class LoopRun:
    """A running ForEach of LOOP over `values`, its children saved as an executor step does."""

    def __init__(self, values: str) -> None:
        flow = parse_flow(LOOP)
        self.tasks = enabled(
            ResolvedTask(flow.find_task(task_id), value)
            for value in values
            for task_id in ("first", "second")
        )
        self.execution = _execution()
        self.index = ExecutionIndex(self.execution)
        self.loop = TaskRun.create(self.execution, "each", at=T0).with_state(State.RUNNING, T0)
        self.save(self.loop)

    def save(self, run: TaskRun) -> TaskRun:
        self.execution = _add(self.index, self.execution, run)
        return run

    def start(self, task_id: str, value: str | None) -> TaskRun:
        run = TaskRun.create(self.execution, task_id, parent_task_run_id=self.loop.id, value=value)
        return self.save(run.with_state(State.RUNNING, T0))

    def nexts(self, memo: dict[object, object], limit: int) -> list[tuple[str, str | None]]:
        """Ask the loop what to start next: with `limit` 1 in sequence, else in groups."""
        run = FlowableRun(self.index, self.loop, render=str, render_typed=str, memo=memo)
        if limit == 1:
            picked = run.sequential_nexts(self.tasks)
        else:
            picked = run.grouped_nexts(self.tasks, limit=limit)
        return [(item.task.id, item.value) for item in picked]


def test_a_loop_remembering_its_groups_picks_what_a_fresh_look_picks() -> None:
    loop = LoopRun("abcdefg")
    memo: dict[object, object] = {}
    running: list[TaskRun] = []
    order = random.Random(7)
    steps = []
    while True:
        picked = loop.nexts(memo, 3)
        assert picked == loop.nexts({}, 3)  # what was remembered changes nothing
        steps.append(picked)
        running.extend(loop.start(task_id, value) for task_id, value in picked)
        if not running:
            break
        # Task runs end in any order, several at once at times.
        for _ in range(order.randint(1, 2)):
            if running:
                done = running.pop(order.randrange(len(running)))
                loop.save(done.with_state(State.SUCCESS, T0))

    assert steps[0] == [("first", "a"), ("first", "b"), ("first", "c")]
    created = [(run.task_id, run.value) for run in loop.execution.task_runs[1:]]
    assert sorted(created) == sorted((item.task.id, item.value) for item in loop.tasks)


def test_a_sequence_remembering_where_it_stopped_picks_what_a_fresh_look_picks() -> None:
    loop = LoopRun("abc")
    memo: dict[object, object] = {}
    steps = []
    # Each task run waits for a retry once (not ended: the next one must wait) then succeeds.
    for _ in range(len(loop.tasks) + 1):
        picked = loop.nexts(memo, 1)
        assert picked == loop.nexts({}, 1)
        steps.append(picked)
        for task_id, value in picked:
            run = loop.start(task_id, value)
            assert loop.nexts(memo, 1) == loop.nexts({}, 1) == []
            loop.save(run := run.with_state(State.RETRYING, T0))
            assert loop.nexts(memo, 1) == loop.nexts({}, 1) == []
            loop.save(run.with_state(State.SUCCESS, T0))

    assert steps == [[(item.task.id, item.value)] for item in loop.tasks] + [[]]
