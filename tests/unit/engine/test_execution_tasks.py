"""Tasks that change the execution: Exit, Labels."""

from __future__ import annotations

from pathlib import Path

import pytest

from lanner.flow_parser import parse_flow
from lanner.states import State
from tests.unit.engine.driver import drive

HEADER = "id: f\nnamespace: company.team\n"


def flow(tasks: str, extra: str = "") -> str:
    return HEADER + extra + "tasks:\n" + tasks


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("SUCCESS", State.SUCCESS),
        ("WARNING", State.WARNING),
        ("FAILED", State.FAILED),
        ("KILLED", State.KILLED),
        ("CANCELED", State.CANCELLED),
    ],
)
async def test_exit_ends_the_execution_in_its_state(
    tmp_path: Path, given: str, expected: State
) -> None:
    result = await drive(
        flow(
            f"""
  - id: before
    type: io.kestra.plugin.core.log.Log
    message: before
  - id: stop
    type: io.kestra.plugin.core.execution.Exit
    state: {given}
  - id: never
    type: io.kestra.plugin.core.log.Log
    message: never
"""
        ),
        tmp_path,
    )
    assert result.execution.current is expected
    assert result.states() == {"before": "SUCCESS", "stop": "SUCCESS"}


async def test_exit_kills_unfinished_task_runs(tmp_path: Path) -> None:
    result = await drive(
        flow(
            """
  - id: group
    type: io.kestra.plugin.core.flow.Sequential
    tasks:
      - id: inner
        type: io.kestra.plugin.core.flow.If
        condition: "{{ true }}"
        then:
          - id: stop
            type: io.kestra.core.tasks.executions.Exit
            state: "{{ 'WARN' ~ 'ING' }}"
          - id: never
            type: io.kestra.plugin.core.log.Log
            message: never
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: never
"""
        ),
        tmp_path,
    )
    assert result.execution.current is State.WARNING
    assert result.states() == {"group": "KILLED", "inner": "KILLED", "stop": "SUCCESS"}
    assert result.execution.state.histories[-1].state is State.WARNING


async def test_exit_in_parallel_cancels_running_siblings(tmp_path: Path) -> None:
    result = await drive(
        flow(
            """
  - id: both
    type: io.kestra.plugin.core.flow.Parallel
    tasks:
      - id: slow
        type: io.kestra.plugin.core.flow.Sleep
        duration: PT0.1S
      - id: stop
        type: io.kestra.plugin.core.execution.Exit
        state: FAILED
"""
        ),
        tmp_path,
    )
    assert result.execution.current is State.FAILED
    assert result.states() == {"both": "KILLED", "slow": "KILLED", "stop": "SUCCESS"}
    assert result.run("slow").id in result.decisions[0].cancel


def test_exit_refuses_an_unknown_state() -> None:
    with pytest.raises(Exception, match="state must be one of"):
        parse_flow(
            flow("  - id: x\n    type: io.kestra.plugin.core.execution.Exit\n    state: DONE\n")
        )


async def test_exit_with_a_rendered_unknown_state_fails_the_task(tmp_path: Path) -> None:
    result = await drive(
        flow(
            "  - id: x\n    type: io.kestra.plugin.core.execution.Exit\n"
            "    state: \"{{ 'DONE' }}\"\n"
        ),
        tmp_path,
    )
    assert result.execution.current is State.FAILED
    assert result.messages("x") == ["Invalid exit state 'DONE'"]


async def test_labels_merge_into_the_execution(tmp_path: Path) -> None:
    result = await drive(
        flow(
            """
  - id: map
    type: io.kestra.plugin.core.execution.Labels
    labels:
      team: "{{ flow.namespace }}"
      env: test
  - id: list
    type: io.kestra.core.tasks.executions.Labels
    labels:
      - key: env
        value: prod
      - key: "{{ 'n' }}"
        value: 3
  - id: read
    type: io.kestra.plugin.core.log.Log
    message: "{{ labels.env }} {{ labels.team }} {{ labels.n }}"
""",
            "labels:\n  owner: me\n",
        ),
        tmp_path,
    )
    assert result.execution.current is State.SUCCESS
    assert result.states() == {"map": "SUCCESS", "list": "SUCCESS", "read": "SUCCESS"}
    labels = result.execution.labels_map()
    assert labels["team"] == "company.team"
    assert labels["env"] == "prod"
    assert labels["n"] == "3"
    assert result.messages("read") == ["prod company.team 3"]


async def test_labels_refuse_system_labels(tmp_path: Path) -> None:
    result = await drive(
        flow(
            "  - id: l\n    type: io.kestra.plugin.core.execution.Labels\n"
            "    labels:\n      system.readOnly: 'true'\n"
        ),
        tmp_path,
    )
    assert result.execution.current is State.FAILED
    assert result.messages("l") == [
        "System labels can only be set by Kestra itself, offending label: system.readOnly=true"
    ]
    assert "system.readOnly" not in result.execution.labels_map()


AFTER = """
afterExecution:
  - id: notify
    type: io.kestra.plugin.core.log.Log
    message: "ended {{ execution.state }}"
  - id: boom
    type: io.kestra.plugin.core.execution.Fail
  - id: skipped
    type: io.kestra.plugin.core.log.Log
    message: never
"""


@pytest.mark.parametrize(("fail", "expected"), [(False, State.SUCCESS), (True, State.FAILED)])
async def test_after_execution_sees_the_final_state_and_cannot_change_it(
    tmp_path: Path, fail: bool, expected: State
) -> None:
    result = await drive(
        flow(
            f"""
  - id: main
    type: io.kestra.plugin.core.execution.Fail
    condition: "{{{{ {str(fail).lower()} }}}}"
"""
            + AFTER
        ),
        tmp_path,
    )
    assert result.execution.current is expected
    assert result.messages("notify") == [f"ended {expected.value}"]
    assert result.states()["notify"] == "SUCCESS"
    assert result.states()["boom"] == "FAILED"
    assert "skipped" not in result.states()
    histories = [h.state for h in result.execution.state.histories]
    assert histories == [State.CREATED, State.RUNNING, expected]


async def test_after_execution_runs_after_errors_and_finally(tmp_path: Path) -> None:
    result = await drive(
        flow(
            """
  - id: main
    type: io.kestra.plugin.core.execution.Fail
errors:
  - id: on_error
    type: io.kestra.plugin.core.log.Log
    message: handled
finally:
  - id: cleanup
    type: io.kestra.plugin.core.log.Log
    message: cleaned
afterExecution:
  - id: group
    type: io.kestra.plugin.core.flow.Sequential
    tasks:
      - id: notify
        type: io.kestra.plugin.core.log.Log
        message: "{{ execution.state }}"
"""
        ),
        tmp_path,
    )
    assert result.execution.current is State.FAILED
    assert [run.task_id for run in result.execution.task_runs] == [
        "main",
        "on_error",
        "cleanup",
        "group",
        "notify",
    ]
    assert result.messages("notify") == ["FAILED"]


ASSERTING = """
  - id: check
    type: io.kestra.plugin.core.execution.Assert
    conditions:
      - "{{ inputs.status == 200 }}"
      - "{{ 1 + 1 == 3 }}"
      - "{{ inputs.body | length > 0 }}"
      - "{{ inputs.missing.deeper }}"
    errorMessage: "The API answered {{ inputs.status }}"
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: never
"""


async def test_assert_checks_every_condition_then_fails_saying_how_many_did_not_hold(
    tmp_path: Path,
) -> None:
    result = await drive(flow(ASSERTING), tmp_path, {"status": 200, "body": "ok"})
    assert result.execution.current is State.FAILED
    assert result.states() == {"check": "FAILED"}
    messages = result.messages("check")
    assert messages[0] == "Assertion `{{ 1 + 1 == 3 }}` failed!"
    assert messages[1].startswith(
        "Assertion `{{ inputs.missing.deeper }}` failed, failed to render"
    )
    assert messages[-1] == "2 assertions failed!\nThe API answered 200"
    counters = {metric.name: metric.value for metric in result.metrics}
    assert counters == {"success": 2.0, "failed": 2.0}


async def test_assert_passes_when_every_condition_holds(tmp_path: Path) -> None:
    source = """
  - id: check
    type: io.kestra.plugin.core.execution.Assert
    conditions:
      - "{{ inputs.status == 200 }}"
      - "yes"
"""
    result = await drive(flow(source), tmp_path, {"status": 200})
    assert result.execution.current is State.SUCCESS
    assert result.messages("check") == []


WRITING = """
  - id: write
    type: io.kestra.plugin.core.storage.Write
    content: "{{ inputs.greeting }}, wörld"
    extension: txt
  - id: plain
    type: io.kestra.plugin.core.storage.Write
    content: no extension
  - id: back
    type: io.kestra.plugin.core.debug.Return
    format: "{{ read(outputs.write.uri) }} / {{ fileSize(outputs.plain.uri) }}"
"""


async def test_write_stores_the_content_as_a_file_of_the_task_run(tmp_path: Path) -> None:
    result = await drive(flow(WRITING), tmp_path, {"greeting": "hello"})
    assert result.execution.current is State.SUCCESS
    written = result.run("write").outputs["uri"]
    folder = f"kestra:///company/team/f/executions/{result.execution.id}/tasks/write/"
    assert written.startswith(folder + result.run("write").id + "/")
    assert written.endswith(".txt")
    assert result.run("plain").outputs["uri"].endswith(".tmp")
    assert result.run("back").outputs == {"value": "hello, wörld / 12"}


SIZING = """
  - id: write
    type: io.kestra.plugin.core.storage.Write
    content: "12345"
  - id: size
    type: io.kestra.plugin.core.storage.Size
    uri: "{{ outputs.write.uri }}"
  - id: delete
    type: io.kestra.plugin.core.storage.Delete
    uri: "{{ outputs.write.uri }}"
  - id: again
    type: io.kestra.plugin.core.storage.Delete
    uri: "{{ outputs.write.uri }}"
  - id: gone
    type: io.kestra.plugin.core.debug.Return
    format: "{{ fileExists(outputs.write.uri) }}"
  - id: strict
    type: io.kestra.plugin.core.storage.Delete
    uri: "{{ outputs.write.uri }}"
    errorOnMissing: true
"""


async def test_size_measures_and_delete_removes_a_file_of_the_execution(tmp_path: Path) -> None:
    result = await drive(flow(SIZING), tmp_path)
    uri = result.run("write").outputs["uri"]
    assert result.run("size").outputs == {"size": 5}
    assert result.run("delete").outputs == {"uri": uri, "deleted": True}
    assert result.run("again").outputs == {"uri": uri, "deleted": False}
    assert result.run("gone").outputs == {"value": "false"}
    assert result.states()["strict"] == "FAILED"
    assert result.messages("strict")[-1] == f"Unable to find the file '{uri}'"


@pytest.mark.parametrize(
    ("task", "uri", "message"),
    [
        (
            "Size",
            "kestra:///other/flow/executions/x/file.txt",
            "Unable to read the file 'kestra:///other/flow/executions/x/file.txt': it does not"
            " belong to this execution",
        ),
        (
            "Size",
            "missing.txt",
            "Unable to find the file 'kestra:///namespaces/company.team/_files/missing.txt'",
        ),
        (
            "Delete",
            "kestra:///namespaces/company.team/_files/shared.txt",
            "Unable to delete the file 'kestra:///namespaces/company.team/_files/shared.txt': it"
            " does not belong to this execution",
        ),
    ],
)
async def test_storage_tasks_keep_to_the_files_of_the_execution(
    tmp_path: Path, task: str, uri: str, message: str
) -> None:
    source = f"""
  - id: touch
    type: io.kestra.plugin.core.storage.{task}
    uri: "{uri}"
"""
    result = await drive(flow(source), tmp_path)
    assert result.states() == {"touch": "FAILED"}
    assert result.messages("touch")[-1] == message


PURGING = """
  - id: write
    type: io.kestra.plugin.core.storage.Write
    content: data
  - id: purge
    type: io.kestra.plugin.core.storage.PurgeCurrentExecutionFiles
  - id: again
    type: io.kestra.core.tasks.storages.PurgeExecution
  - id: gone
    type: io.kestra.plugin.core.debug.Return
    format: "{{ fileExists(outputs.write.uri) }}"
"""


async def test_purge_deletes_every_file_of_the_execution(tmp_path: Path) -> None:
    result = await drive(flow(PURGING), tmp_path)
    assert result.execution.current is State.SUCCESS
    uri = result.run("write").outputs["uri"]
    assert result.run("purge").outputs == {"uris": [uri]}
    assert result.run("again").outputs == {"uris": []}
    assert result.run("gone").outputs == {"value": "false"}
