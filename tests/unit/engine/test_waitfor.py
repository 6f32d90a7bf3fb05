"""WaitFor: iterations, the condition, the bounds, and the task-run shape Kestra gives it."""

from __future__ import annotations

from pathlib import Path

import pytest

from lanner.exceptions import FlowError
from lanner.flow_parser import parse_flow
from lanner.states import State
from tests.unit.engine.driver import drive

HEADER = "id: f\nnamespace: company.team\ntasks:\n"


def waitfor(condition: str, extra: str = "", tasks: str = "") -> str:
    return (
        HEADER
        + f"""  - id: loop
    type: io.kestra.plugin.core.flow.WaitFor
    condition: "{condition}"
{extra}    tasks:
      - id: count
        type: io.kestra.plugin.core.output.OutputValues
        values:
          count: "{{{{ outputs.loop.iterationCount }}}}"
{tasks}"""
    )


async def test_runs_the_tasks_until_the_condition_holds(tmp_path: Path) -> None:
    result = await drive(waitfor("{{ outputs.count.values.count == '4' }}"), tmp_path)

    assert result.execution.current is State.SUCCESS
    loop = result.run("loop")
    assert loop.outputs == {"iterationCount": 4}
    assert loop.iteration == 4
    # Only the last iteration's task runs are kept, marked with their iteration.
    [count] = [run for run in result.execution.task_runs if run.task_id == "count"]
    assert count.outputs == {"values": {"count": "4"}}
    assert count.iteration == 4
    assert [h.state for h in loop.state.histories] == [
        State.CREATED,
        *[State.RUNNING, State.PAUSED, State.CREATED] * 3,
        State.RUNNING,
        State.SUCCESS,
    ]
    # Between iterations the execution waited PAUSED, checkFrequency.interval (PT1S) apart.
    assert result.execution.state.count(State.PAUSED) == 3


async def test_a_condition_true_at_once_runs_one_iteration(tmp_path: Path) -> None:
    result = await drive(waitfor("{{ outputs.count.values.count == '1' }}"), tmp_path)

    assert result.execution.current is State.SUCCESS
    assert result.run("loop").outputs == {"iterationCount": 1}
    assert result.run("loop").iteration is None
    assert result.execution.state.count(State.PAUSED) == 0


@pytest.mark.parametrize(
    ("fail", "state"), [("true", State.FAILED), ("false", State.SUCCESS)], ids=["fail", "end"]
)
async def test_max_iterations_ends_the_loop(tmp_path: Path, fail: str, state: State) -> None:
    extra = f"""    failOnMaxReached: {fail}
    checkFrequency:
      maxIterations: 3
      interval: PT0.2S
"""
    result = await drive(waitfor("{{ outputs.count.values.count == '10' }}", extra), tmp_path)

    assert result.execution.current is state
    assert result.run("loop").current is state
    assert result.run("loop").outputs == {"iterationCount": 3}
    assert "Max iterations reached" in result.messages("loop")


async def test_max_duration_ends_the_loop(tmp_path: Path) -> None:
    extra = """    failOnMaxReached: true
    checkFrequency:
      maxDuration: PT5S
      interval: PT2S
"""
    result = await drive(waitfor("{{ outputs.count.values.count == '-5' }}", extra), tmp_path)

    assert result.execution.current is State.FAILED
    assert "Max duration reached" in result.messages("loop")
    # Iterations start 2 s apart: the one after 5 s finds the bound reached.
    assert result.run("loop").outputs == {"iterationCount": 4}


async def test_a_failing_child_fails_the_loop_at_once(tmp_path: Path) -> None:
    fail = """      - id: fail
        type: io.kestra.plugin.core.execution.Fail
"""
    result = await drive(waitfor("{{ outputs.count.values.count == '6' }}", tasks=fail), tmp_path)

    assert result.execution.current is State.FAILED
    assert result.run("loop").outputs == {"iterationCount": 1}
    assert len(result.run("fail").attempts) == 1


async def test_an_unrenderable_condition_fails_the_task(tmp_path: Path) -> None:
    result = await drive(waitfor("{{ outputs.nothing.value == 1 }}"), tmp_path)

    assert result.execution.current is State.FAILED
    assert any("nothing" in message for message in result.messages("loop"))


def test_tasks_and_condition_are_required() -> None:
    with pytest.raises(FlowError) as caught:
        parse_flow(HEADER + "  - id: loop\n    type: io.kestra.plugin.core.flow.WaitFor\n")
    message = str(caught.value)
    assert "loop" in message
    assert "tasks" in message
    assert "condition" in message
