"""`max_message_bytes`: the largest execution the engine keeps, as Kestra's JDBC queue has."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from lanner.exceptions import MessageTooBigError
from lanner.executions import Execution
from lanner.limits import check_submission, encoded_size
from lanner.settings import Settings
from lanner.states import State
from tests.unit.engine.driver import drive


def test_the_limit_defaults_to_ten_mebibytes_and_reads_the_environment(tmp_path: Path) -> None:
    assert Settings.load(home=tmp_path, environ={}).max_message_bytes == 10485760
    environ = {"LANNER_MAX_MESSAGE_BYTES": "2048"}
    assert Settings.load(home=tmp_path, environ=environ).max_message_bytes == 2048


@pytest.mark.parametrize("text", ["lots", "0", "-5"])
def test_a_limit_that_is_not_a_positive_number_is_refused(tmp_path: Path, text: str) -> None:
    with pytest.raises(ValueError, match="LANNER_MAX_MESSAGE_BYTES") as caught:
        Settings.load(home=tmp_path, environ={"LANNER_MAX_MESSAGE_BYTES": text})
    assert str(caught.value) == (
        f"LANNER_MAX_MESSAGE_BYTES must be a positive whole number of bytes, got '{text}'"
    )


def test_a_submission_over_the_limit_is_refused_with_its_size() -> None:
    execution = Execution.create("company.team", "big", 1, inputs={"text": "a" * 5000})
    size = encoded_size(execution.to_json())
    check_submission(execution, size + 100)  # (its running duration may add a few bytes)

    with pytest.raises(MessageTooBigError) as caught:
        check_submission(execution, 5000)
    message = str(caught.value)
    prefix = "Unable to start an execution of company.team.big: Message of size "
    suffix = (
        " has exceeded the configured limit of 5000 (max_message_bytes, LANNER_MAX_MESSAGE_BYTES)"
    )
    assert message.startswith(prefix)
    assert message.endswith(suffix)
    assert abs(int(message[len(prefix) : -len(suffix)]) - size) < 100


BIG_RESULTS = f"""id: big
namespace: company.team
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["1", "2", "3", "4", "5", "6"]
    tasks:
      - id: echo
        type: io.kestra.plugin.core.debug.Return
        format: "{"x" * 3000}"
  - id: never
    type: io.kestra.plugin.core.log.Log
    message: never
"""


async def test_a_result_that_makes_the_execution_too_big_fails_it(tmp_path: Path) -> None:
    settings = replace(Settings.load(home=tmp_path, environ={}), max_message_bytes=12_000)

    result = await drive(BIG_RESULTS, tmp_path, settings=settings)

    assert result.execution.current is State.FAILED
    echoes = [run for run in result.execution.task_runs if run.task_id == "echo"]
    # Three results of 3,000 characters fit in 12,000 bytes; the fourth does not.
    assert [run.current for run in echoes] == [State.SUCCESS] * 3 + [State.FAILED]
    assert echoes[-1].outputs is None
    [message] = result.messages("echo")[-1:]
    assert message.startswith("Task 'echo' result refused: Message of size ")
    assert message.endswith(
        "has exceeded the configured limit of 12000 (max_message_bytes, LANNER_MAX_MESSAGE_BYTES)"
    )
    assert "never" not in result.states()
