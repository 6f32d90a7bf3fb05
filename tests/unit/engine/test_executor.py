"""The executor's decisions, driven in memory with a controlled clock."""

from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path

import pytest

from lanner.executions import Execution
from lanner.executor import Executor
from lanner.flow_parser import parse_flow
from lanner.settings import Settings
from lanner.states import State
from tests.unit.engine.driver import drive

HEADER = "id: f\nnamespace: company.team\n"


def flow(tasks: str, extra: str = "") -> str:
    return HEADER + extra + "tasks:\n" + tasks


async def test_sequential_tasks_run_in_order_and_pass_outputs(tmp_path: Path) -> None:
    result = await drive(
        flow(
            """
  - id: first
    type: io.kestra.plugin.core.debug.Return
    format: "one"
  - id: second
    type: io.kestra.plugin.core.log.Log
    message: "{{ outputs.first.value }} then two"
"""
        ),
        tmp_path,
    )
    assert result.execution.current is State.SUCCESS
    assert [run.task_id for run in result.execution.task_runs] == ["first", "second"]
    assert result.messages("second") == ["one then two"]
    assert result.run("first").outputs == {"value": "one"}


async def test_state_histories_follow_kestra(tmp_path: Path) -> None:
    result = await drive(
        flow("  - id: t\n    type: io.kestra.plugin.core.debug.Return\n    format: x\n"), tmp_path
    )
    run = result.run("t")
    assert [h.state for h in run.state.histories] == [State.CREATED, State.RUNNING, State.SUCCESS]
    assert [h.state for h in run.attempts[0].state.histories] == [State.RUNNING, State.SUCCESS]
    execution_states = [h.state for h in result.execution.state.histories]
    assert execution_states == [State.CREATED, State.RUNNING, State.SUCCESS]


async def test_failure_runs_errors_then_finally_and_fails(tmp_path: Path) -> None:
    result = await drive(
        flow(
            """
  - id: boom
    type: io.kestra.plugin.core.execution.Fail
    errorMessage: "bad {{ flow.id }}"
  - id: never
    type: io.kestra.plugin.core.log.Log
    message: never
errors:
  - id: on_error
    type: io.kestra.plugin.core.log.Log
    message: handled
finally:
  - id: cleanup
    type: io.kestra.plugin.core.log.Log
    message: cleaned
"""
        ),
        tmp_path,
    )
    assert result.execution.current is State.FAILED
    assert result.states() == {"boom": "FAILED", "on_error": "SUCCESS", "cleanup": "SUCCESS"}
    assert result.messages("boom") == ["bad f"]


async def test_finally_runs_after_success(tmp_path: Path) -> None:
    result = await drive(
        flow(
            """
  - id: ok
    type: io.kestra.plugin.core.log.Log
    message: ok
finally:
  - id: cleanup
    type: io.kestra.plugin.core.execution.Fail
"""
        ),
        tmp_path,
    )
    assert result.states() == {"ok": "SUCCESS", "cleanup": "FAILED"}
    assert result.execution.current is State.FAILED


@pytest.mark.parametrize(
    ("allow_warning", "task_state", "execution_state"),
    [(False, "WARNING", State.WARNING), (True, "SUCCESS", State.SUCCESS)],
    ids=["allowFailure", "allowFailure+allowWarning"],
)
async def test_allow_failure_on_a_runnable(
    tmp_path: Path, allow_warning: bool, task_state: str, execution_state: State
) -> None:
    result = await drive(
        flow(
            f"""
  - id: fail
    type: io.kestra.plugin.core.execution.Fail
    allowFailure: true
    allowWarning: {str(allow_warning).lower()}
  - id: next
    type: io.kestra.plugin.core.log.Log
    message: still runs
"""
        ),
        tmp_path,
    )
    assert result.states() == {"fail": task_state, "next": "SUCCESS"}
    assert result.run("fail").attempts[0].state.current is State.FAILED
    assert result.execution.current is execution_state


async def test_constant_retry_adds_attempts_and_waits_between_them(tmp_path: Path) -> None:
    result = await drive(
        flow(
            """
  - id: fail
    type: io.kestra.plugin.core.execution.Fail
    retry:
      type: constant
      interval: PT10S
      maxAttempt: 3
"""
        ),
        tmp_path,
    )
    run = result.run("fail")
    assert len(run.attempts) == 3
    assert run.current is State.FAILED
    starts = [attempt.state.start_date for attempt in run.attempts]
    assert starts[1] - starts[0] >= timedelta(seconds=10)
    assert starts[2] - starts[1] >= timedelta(seconds=10)
    assert State.RETRYING in [h.state for h in run.state.histories]


async def test_retry_stops_at_max_duration(tmp_path: Path) -> None:
    result = await drive(
        flow(
            """
  - id: fail
    type: io.kestra.plugin.core.execution.Fail
    retry:
      type: constant
      interval: PT2S
      maxDuration: PT5S
"""
        ),
        tmp_path,
    )
    assert len(result.run("fail").attempts) == 3


async def test_exponential_retry_doubles_up_to_max_interval(tmp_path: Path) -> None:
    result = await drive(
        flow(
            """
  - id: fail
    type: io.kestra.plugin.core.execution.Fail
    retry:
      type: exponential
      interval: PT1S
      maxInterval: PT3S
      maxAttempt: 4
"""
        ),
        tmp_path,
    )
    starts = [attempt.state.start_date for attempt in result.run("fail").attempts]
    gaps = [round((b - a).total_seconds()) for a, b in itertools.pairwise(starts)]
    assert gaps == [1, 2, 3]


async def test_warning_on_retry_after_a_late_success(tmp_path: Path) -> None:
    result = await drive(
        flow(
            """
  - id: flaky
    type: io.kestra.plugin.core.log.Log
    message: "{{ taskrun.attemptsCount == 2 ? 'ok' : missing }}"
    retry:
      type: constant
      interval: PT1S
      maxAttempt: 5
      warningOnRetry: true
"""
        ),
        tmp_path,
    )
    assert len(result.run("flaky").attempts) == 3
    assert result.execution.current is State.WARNING


async def test_run_if_false_skips_and_render_error_fails(tmp_path: Path) -> None:
    result = await drive(
        flow(
            """
  - id: skipped
    type: io.kestra.plugin.core.log.Log
    runIf: "{{ 1 == 2 }}"
    message: no
  - id: broken
    type: io.kestra.plugin.core.log.Log
    runIf: "{{ nothing.here }}"
    message: no
"""
        ),
        tmp_path,
    )
    assert result.states() == {"skipped": "SKIPPED", "broken": "FAILED"}
    assert result.run("skipped").attempts == ()
    assert "Unable to find `nothing`" in result.messages("broken")[0]


async def test_disabled_tasks_get_no_task_run(tmp_path: Path) -> None:
    result = await drive(
        flow(
            """
  - id: off
    type: io.kestra.plugin.core.execution.Fail
    disabled: true
  - id: on
    type: io.kestra.plugin.core.log.Log
    message: yes
"""
        ),
        tmp_path,
    )
    assert result.states() == {"on": "SUCCESS"}


async def test_timeout_fails_the_task_run(tmp_path: Path) -> None:
    result = await drive(
        flow(
            """
  - id: slow
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT5S
    timeout: PT0.05S
"""
        ),
        tmp_path,
    )
    assert result.states() == {"slow": "FAILED"}
    assert result.messages("slow") == ["Timeout after PT0.05S"]


async def test_foreach_outputs_are_indexed_by_value(tmp_path: Path) -> None:
    result = await drive(
        flow(
            """
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["a", 1, {"k": "v"}]
    concurrencyLimit: 2
    tasks:
      - id: inner
        type: io.kestra.plugin.core.debug.Return
        format: "{{ taskrun.value }}"
  - id: read
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.inner['a'].value }}-{{ outputs.inner['1'].value }}"
"""
        ),
        tmp_path,
    )
    assert result.execution.current is State.SUCCESS
    assert [run.value for run in result.execution.task_runs if run.task_id == "inner"] == [
        "a",
        "1",
        '{"k":"v"}',
    ]
    assert result.run("read").outputs == {"value": "a-1"}


async def test_if_and_switch_choose_their_branch(tmp_path: Path) -> None:
    result = await drive(
        flow(
            """
  - id: if
    type: io.kestra.plugin.core.flow.If
    condition: "{{ inputs.n > 1 }}"
    then:
      - id: big
        type: io.kestra.plugin.core.log.Log
        message: big
    else:
      - id: small
        type: io.kestra.plugin.core.log.Log
        message: small
  - id: switch
    type: io.kestra.plugin.core.flow.Switch
    value: "{{ inputs.n }}"
    cases:
      2:
        - id: two
          type: io.kestra.plugin.core.log.Log
          message: two
    defaults:
      - id: other
        type: io.kestra.plugin.core.log.Log
        message: other
"""
        ),
        tmp_path,
        {"n": 2},
    )
    assert result.states() == {
        "if": "SUCCESS",
        "big": "SUCCESS",
        "switch": "SUCCESS",
        "two": "SUCCESS",
    }
    assert result.run("if").outputs == {"evaluationResult": True}
    assert result.run("switch").outputs == {"value": "2", "defaults": False}


async def test_kill_stops_running_tasks_and_ends_killed(tmp_path: Path) -> None:
    result = await drive(
        flow(
            """
  - id: first
    type: io.kestra.plugin.core.log.Log
    message: one
  - id: second
    type: io.kestra.plugin.core.log.Log
    message: two
"""
        ),
        tmp_path,
        kill_after_jobs=1,
    )
    assert result.execution.current is State.KILLED
    assert result.states() == {"first": "SUCCESS", "second": "KILLED"}


async def test_flow_outputs_are_rendered_and_a_render_error_fails(tmp_path: Path) -> None:
    ok = await drive(
        flow(
            "  - id: r\n    type: io.kestra.plugin.core.debug.Return\n    format: v\n",
            'outputs:\n  - id: out\n    type: STRING\n    value: "{{ outputs.r.value }}"\n',
        ),
        tmp_path,
    )
    assert ok.execution.outputs == {"out": "v"}
    broken = await drive(
        flow(
            "  - id: r\n    type: io.kestra.plugin.core.debug.Return\n    format: v\n",
            'outputs:\n  - id: out\n    type: STRING\n    value: "{{ outputs.nope }}"\n',
        ),
        tmp_path,
    )
    assert broken.execution.current is State.FAILED
    assert broken.execution.outputs is None


def test_advance_does_nothing_on_a_terminated_execution(tmp_path: Path) -> None:
    parsed = parse_flow(
        flow("  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: x\n")
    )
    execution = Execution.create("company.team", "f", 1).with_state(State.SUCCESS)
    decision = Executor(Settings.load(home=tmp_path)).advance(parsed, execution)
    assert decision.execution is execution
    assert not decision.jobs
    assert not decision.changed


@pytest.mark.parametrize(
    ("behavior", "state"),
    [("QUEUE", State.QUEUED), ("CANCEL", State.CANCELLED), ("FAIL", State.FAILED)],
    ids=["queue", "cancel", "fail"],
)
def test_concurrency_limit_holds_back_a_new_execution(
    tmp_path: Path, behavior: str, state: State
) -> None:
    parsed = parse_flow(
        flow(
            "  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: x\n",
            f"concurrency:\n  limit: 1\n  behavior: {behavior}\n",
        )
    )
    executor = Executor(Settings.load(home=tmp_path))
    execution = Execution.create("company.team", "f", 1)
    held = executor.advance(parsed, execution, running=1)
    assert held.execution.current is state
    assert not held.jobs
    if state is State.QUEUED:
        started = executor.advance(parsed, held.execution, running=0)
        histories = [h.state for h in started.execution.state.histories]
        assert histories == [State.CREATED, State.QUEUED, State.RUNNING]
        assert len(started.jobs) == 1


def test_max_duration_sla_fails_a_long_execution(tmp_path: Path) -> None:
    parsed = parse_flow(
        flow(
            "  - id: t\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: PT10S\n",
            "sla:\n  - id: fast\n    type: MAX_DURATION\n    duration: PT1S\n"
            "    labels:\n      sla: late\n",
        )
    )
    executor = Executor(Settings.load(home=tmp_path))
    started = executor.advance(parsed, Execution.create("company.team", "f", 1))
    assert started.wake_at is not None
    late = executor.advance(parsed, started.execution, started.wake_at + timedelta(seconds=1))
    assert late.execution.current is State.FAILED
    assert late.cancel == [started.jobs[0].task_run.id]
    assert late.execution.labels_map()["sla"] == "late"
    assert late.execution.task_runs[0].current is State.KILLED


async def test_pause_with_a_delay_goes_on_by_itself(tmp_path: Path) -> None:
    result = await drive(
        flow(
            """
  - id: pause
    type: io.kestra.plugin.core.flow.Pause
    delay: PT30S
    tasks:
      - id: inside
        type: io.kestra.plugin.core.log.Log
        message: after the pause
  - id: last
    type: io.kestra.plugin.core.log.Log
    message: last
"""
        ),
        tmp_path,
    )
    assert result.execution.current is State.SUCCESS
    pause = result.run("pause")
    histories = [h.state for h in pause.state.histories]
    assert histories == [State.CREATED, State.RUNNING, State.PAUSED, State.RUNNING, State.SUCCESS]
    paused_at = pause.state.last_date(State.PAUSED)
    assert paused_at is not None
    assert pause.state.last_date(State.RUNNING) - paused_at >= timedelta(seconds=30)
    execution_states = [h.state for h in result.execution.state.histories]
    assert State.PAUSED in execution_states
    assert result.states() == {"pause": "SUCCESS", "inside": "SUCCESS", "last": "SUCCESS"}


async def test_pause_with_a_timeout_fails_without_running_its_tasks(tmp_path: Path) -> None:
    result = await drive(
        flow(
            """
  - id: pause
    type: io.kestra.plugin.core.flow.Pause
    timeout: PT5S
    tasks:
      - id: inside
        type: io.kestra.plugin.core.log.Log
        message: never
"""
        ),
        tmp_path,
    )
    assert result.execution.current is State.FAILED
    assert result.states() == {"pause": "FAILED"}
    assert result.messages("pause") == ["Paused task timed out after PT5S"]
