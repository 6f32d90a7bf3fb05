"""Restart, replay and state changes: the executions they produce, and how the engine goes on."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from lanner import operations
from lanner.clock import utcnow
from lanner.exceptions import IllegalStateError, LannerError
from lanner.executions import Execution, TaskRun
from lanner.executor import Executor
from lanner.flow_parser import parse_flow
from lanner.flows import Flow
from lanner.settings import Settings
from lanner.states import State
from lanner.storage import LocalStorage
from lanner.worker import Worker
from tests.unit.engine.driver import drive

LATER = utcnow() + timedelta(hours=1)

# `c` fails on its first attempt only; `errors` and `finally` run once it has failed.
FLAKY = """
id: flaky
namespace: company.team
tasks:
  - id: a
    type: io.kestra.plugin.core.log.Log
    message: a
  - id: c
    type: io.kestra.plugin.core.log.Log
    message: "{{ taskrun.attemptsCount == 1 ? 'ok' : missing }}"
  - id: d
    type: io.kestra.plugin.core.log.Log
    message: d
errors:
  - id: on_error
    type: io.kestra.plugin.core.log.Log
    message: failed
finally:
  - id: cleanup
    type: io.kestra.plugin.core.log.Log
    message: cleanup
"""

LOCAL_ERRORS = """
id: local
namespace: company.team
tasks:
  - id: before
    type: io.kestra.plugin.core.log.Log
    message: before
  - id: seq
    type: io.kestra.plugin.core.flow.Sequential
    tasks:
      - id: close
        type: io.kestra.plugin.core.log.Log
        message: close
      - id: boom
        type: io.kestra.plugin.core.execution.Fail
    errors:
      - id: handler
        type: io.kestra.plugin.core.flow.Sequential
        tasks:
          - id: handler_log
            type: io.kestra.plugin.core.log.Log
            message: handled
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: after
"""

STEPS = """
id: steps
namespace: company.team
tasks:
  - id: one
    type: io.kestra.plugin.core.debug.Return
    format: "1"
  - id: two
    type: io.kestra.plugin.core.debug.Return
    format: "2"
  - id: three
    type: io.kestra.plugin.core.debug.Return
    format: "3"
"""

LOOP = """
id: loop
namespace: company.team
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["x", "y"]
    concurrencyLimit: 0
    tasks:
      - id: seq
        type: io.kestra.plugin.core.flow.Sequential
        tasks:
          - id: first
            type: io.kestra.plugin.core.debug.Return
            format: "first {{ parent.taskrun.value }}"
          - id: second
            type: io.kestra.plugin.core.debug.Return
            format: "second {{ parent.taskrun.value }}"
  - id: end
    type: io.kestra.plugin.core.debug.Return
    format: end
"""


def run_of(execution: Execution, task_id: str, value: str | None = None) -> TaskRun:
    for run in execution.task_runs:
        if run.task_id == task_id and (value is None or run.value == value):
            return run
    raise AssertionError(f"no task run of {task_id}")


def history(run: TaskRun | Execution) -> list[State]:
    return [item.state for item in run.state.histories]


def summary(execution: Execution) -> list[tuple[str, str]]:
    return [(run.task_id, run.current.value) for run in execution.task_runs]


async def ended(source: str, tmp_path: Path) -> tuple[Flow, Execution]:
    """Run a flow to its end; return the flow and the ended execution."""
    result = await drive(source, tmp_path)
    return parse_flow(source), result.execution


async def finish(flow: Flow, execution: Execution, tmp_path: Path) -> Execution:
    """Let the executor and a worker drive an execution an operation produced to its end."""
    settings = Settings.load(home=tmp_path)
    executor = Executor(settings)
    worker = Worker(settings, LocalStorage(tmp_path / "files"), lambda _: None, lambda _: flow)
    decision = executor.advance(flow, execution)
    pending = list(decision.jobs)
    try:
        while pending:
            outcome = await worker.run(pending.pop(0))
            decision = executor.apply(flow, decision.execution, outcome)
            pending.extend(decision.jobs)
    finally:
        await worker.aclose()
    return decision.execution


# -- restart ---------------------------------------------------------------------------------


async def test_restart_resets_failed_task_runs_and_drops_errors_and_finally(
    tmp_path: Path,
) -> None:
    flow, failed = await ended(FLAKY, tmp_path)
    assert summary(failed) == [
        ("a", "SUCCESS"),
        ("c", "FAILED"),
        ("on_error", "SUCCESS"),
        ("cleanup", "SUCCESS"),
    ]

    restarted = operations.restart(flow, failed, LATER)

    assert restarted.id == failed.id
    assert restarted.current is State.RESTARTED
    assert history(restarted) == [*history(failed), State.RESTARTED]
    assert summary(restarted) == [("a", "SUCCESS"), ("c", "RESTARTED")]
    c = run_of(restarted, "c")
    assert history(c) == [State.CREATED, State.RUNNING, State.FAILED, State.RESTARTED]
    assert c.attempts == run_of(failed, "c").attempts
    assert restarted.attempt_number == 2
    assert restarted.labels_map()["system.restarted"] == "true"


async def test_a_restarted_task_run_runs_again_as_a_new_attempt(tmp_path: Path) -> None:
    flow, failed = await ended(FLAKY, tmp_path)

    final = await finish(flow, operations.restart(flow, failed, utcnow()), tmp_path)

    assert final.current is State.SUCCESS
    assert summary(final) == [
        ("a", "SUCCESS"),
        ("c", "SUCCESS"),
        ("d", "SUCCESS"),
        ("cleanup", "SUCCESS"),
    ]
    assert [len(run.attempts) for run in final.task_runs] == [1, 2, 1, 1]
    assert history(final)[-3:] == [State.RESTARTED, State.RUNNING, State.SUCCESS]


async def test_restart_reopens_flowable_parents_and_drops_their_errors_branch(
    tmp_path: Path,
) -> None:
    flow, failed = await ended(LOCAL_ERRORS, tmp_path)
    assert [run.task_id for run in failed.task_runs] == [
        "before",
        "seq",
        "close",
        "boom",
        "handler",
        "handler_log",
    ]

    restarted = operations.restart(flow, failed, LATER)

    assert summary(restarted) == [
        ("before", "SUCCESS"),
        ("seq", "RUNNING"),
        ("close", "SUCCESS"),
        ("boom", "RESTARTED"),
    ]
    final = await finish(flow, restarted, tmp_path)
    assert final.current is State.FAILED
    assert len(final.task_runs) == 6
    assert len(run_of(final, "boom").attempts) == 2


async def test_restart_runs_killed_task_runs_again(tmp_path: Path) -> None:
    flow = parse_flow(STEPS)
    killed = (await drive(STEPS, tmp_path, kill_after_jobs=1)).execution
    assert killed.current is State.KILLED

    final = await finish(flow, operations.restart(flow, killed, utcnow()), tmp_path)

    assert final.current is State.SUCCESS
    assert [run.task_id for run in final.task_runs] == ["one", "two", "three"]


async def test_restart_is_refused_while_running_or_with_nothing_to_run(tmp_path: Path) -> None:
    flow, done = await ended(STEPS, tmp_path)
    running = done.with_state(State.RUNNING)
    with pytest.raises(IllegalStateError, match="current state is 'RUNNING'"):
        operations.restart(flow, running, LATER)
    with pytest.raises(LannerError, match="No task found to restart execution from!"):
        operations.restart(flow, done, LATER)
    assert operations.restart_problem(done) == "No task found to restart execution from!"


async def test_restart_onto_another_revision_is_a_new_execution(tmp_path: Path) -> None:
    flow, failed = await ended(FLAKY, tmp_path)

    restarted = operations.restart(flow, failed, LATER, revision=2)

    assert restarted.id != failed.id
    assert restarted.parent_id == failed.id
    assert restarted.original_id == failed.id
    assert restarted.flow_revision == 2
    assert {run.execution_id for run in restarted.task_runs} == {restarted.id}
    assert not {run.id for run in restarted.task_runs} & {run.id for run in failed.task_runs}


# -- replay ----------------------------------------------------------------------------------


async def test_replay_copies_what_ran_before_the_task_run_and_runs_it_again(
    tmp_path: Path,
) -> None:
    flow, done = await ended(STEPS, tmp_path)

    replayed = operations.replay(flow, done, run_of(done, "two").id, LATER)

    assert replayed.id != done.id
    assert replayed.parent_id == done.id
    assert replayed.original_id == done.id
    assert replayed.current is State.RESTARTED
    assert history(replayed) == [*history(done), State.RESTARTED]
    assert summary(replayed) == [("one", "SUCCESS"), ("two", "RESTARTED")]
    assert run_of(replayed, "one").outputs == {"value": "1"}
    assert {run.execution_id for run in replayed.task_runs} == {replayed.id}
    assert run_of(replayed, "one").id != run_of(done, "one").id
    assert replayed.labels_map()["system.replay"] == "true"
    final = await finish(flow, replayed, tmp_path)
    assert summary(final) == [("one", "SUCCESS"), ("two", "SUCCESS"), ("three", "SUCCESS")]


async def test_replay_inside_a_loop_reopens_the_flowables_that_lose_children(
    tmp_path: Path,
) -> None:
    flow, done = await ended(LOOP, tmp_path)
    seq_x = run_of(done, "seq", "x")
    chosen = next(run for run in done.task_runs if run.parent_task_run_id == seq_x.id)

    replayed = operations.replay(flow, done, chosen.id, LATER)

    by_id = {run.id: run for run in replayed.task_runs}
    assert all(
        run.parent_task_run_id is None or run.parent_task_run_id in by_id
        for run in replayed.task_runs
    )
    assert run_of(replayed, "each").current is State.RUNNING
    assert summary(replayed) == [
        ("each", "RUNNING"),
        ("seq", "RUNNING"),
        ("seq", "RUNNING"),
        ("first", "RESTARTED"),
    ]
    final = await finish(flow, replayed, tmp_path)
    assert final.current is State.SUCCESS
    assert sorted(summary(final)) == sorted(summary(done))


async def test_replay_from_a_flowable_creates_its_children_again(tmp_path: Path) -> None:
    flow, done = await ended(LOOP, tmp_path)

    replayed = operations.replay(flow, done, run_of(done, "each").id, LATER)

    assert summary(replayed) == [("each", "RUNNING")]
    final = await finish(flow, replayed, tmp_path)
    assert len(final.task_runs) == len(done.task_runs)


async def test_replay_without_a_task_run_starts_from_the_beginning(tmp_path: Path) -> None:
    flow, done = await ended(STEPS, tmp_path)

    replayed = operations.replay(flow, done, None, LATER)

    assert replayed.task_runs == ()
    assert history(replayed) == [State.CREATED]
    assert replayed.state.start_date == LATER
    assert replayed.inputs == done.inputs
    assert replayed.outputs is None


async def test_replay_refuses_unknown_task_runs_and_tasks_the_flow_lost(tmp_path: Path) -> None:
    flow, done = await ended(STEPS, tmp_path)
    with pytest.raises(LannerError, match=r"Task run id 'nope' not found in execution"):
        operations.replay(flow, done, "nope", LATER)
    shorter = parse_flow(STEPS.split("  - id: two")[0])
    with pytest.raises(LannerError, match="has no task two"):
        operations.replay(shorter, done, run_of(done, "two").id, LATER)


# -- change state ----------------------------------------------------------------------------


async def test_changing_a_failed_task_run_to_success_lets_the_execution_go_on(
    tmp_path: Path,
) -> None:
    flow, failed = await ended(LOCAL_ERRORS, tmp_path)
    boom = run_of(failed, "boom")

    changed = operations.change_task_run_state(flow, failed, boom.id, State.SUCCESS, LATER)

    assert changed.current is State.RESTARTED
    assert changed.attempt_number == 2
    assert summary(changed) == [
        ("before", "SUCCESS"),
        ("seq", "RUNNING"),
        ("close", "SUCCESS"),
        ("boom", "SUCCESS"),
    ]
    marked = run_of(changed, "boom")
    assert history(marked)[-2:] == [State.FAILED, State.SUCCESS]
    assert marked.attempts[-1].state.current is State.SUCCESS
    final = await finish(flow, changed, tmp_path)
    assert final.current is State.SUCCESS
    assert [run.task_id for run in final.task_runs][-1] == "after"


@pytest.mark.parametrize(
    ("state", "execution_state", "error", "message"),
    [
        (State.RUNNING, State.FAILED, LannerError, "can only be changed to SUCCESS"),
        (State.SUCCESS, State.RUNNING, IllegalStateError, "must be terminated"),
        (State.SUCCESS, State.KILLED, IllegalStateError, "not killed"),
    ],
    ids=["not-a-target-state", "running", "killed"],
)
async def test_change_task_run_state_refusals(
    tmp_path: Path,
    state: State,
    execution_state: State,
    error: type[Exception],
    message: str,
) -> None:
    flow, failed = await ended(LOCAL_ERRORS, tmp_path)
    execution = failed.with_state(execution_state)
    with pytest.raises(error, match=message):
        operations.change_task_run_state(flow, execution, run_of(failed, "boom").id, state, LATER)


async def test_change_execution_status(tmp_path: Path) -> None:
    _, done = await ended(STEPS, tmp_path)

    changed = operations.change_execution_status(done, State.FAILED, LATER)

    assert changed.current is State.FAILED
    assert changed.task_runs == done.task_runs
    with pytest.raises(LannerError, match="terminal state"):
        operations.change_execution_status(done, State.RUNNING, LATER)
    with pytest.raises(IllegalStateError, match="terminated execution"):
        operations.change_execution_status(done.with_state(State.RUNNING), State.FAILED, LATER)
