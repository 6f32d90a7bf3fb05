"""`lanner executions restart|replay|kill`, as a user runs them: real processes, one database."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_cli import lanner, start_run, write

# `c` fails on its first attempt and succeeds once restarted.
FLAKY = """
id: flaky
namespace: company.team
tasks:
  - id: a
    type: io.kestra.plugin.core.log.Log
    message: "a ran"
  - id: c
    type: io.kestra.plugin.core.log.Log
    message: "{{ taskrun.attemptsCount == 1 ? 'c ran' : missing }}"
  - id: d
    type: io.kestra.plugin.core.log.Log
    message: "d ran"
"""

STEPS = """
id: steps
namespace: company.team
tasks:
  - id: one
    type: io.kestra.plugin.core.log.Log
    message: "step one"
  - id: two
    type: io.kestra.plugin.core.log.Log
    message: "step two"
  - id: three
    type: io.kestra.plugin.core.log.Log
    message: "step three"
"""

SLOW = """
id: slow
namespace: company.team
tasks:
  - id: started
    type: io.kestra.plugin.core.log.Log
    message: started
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT60S
"""


def run_json(tmp_path: Path, source: str) -> dict[str, Any]:
    """Run a flow with `lanner run --output json`; return the execution."""
    result = lanner(tmp_path, "run", str(write(tmp_path, source)), "--output", "json")
    execution: dict[str, Any] = json.loads(result.stdout)
    return execution


def task_run_id(execution: dict[str, Any], task_id: str) -> str:
    return next(str(run["id"]) for run in execution["taskRunList"] if run["taskId"] == task_id)


def test_restart_runs_the_failed_task_again_and_goes_on(tmp_path: Path) -> None:
    failed = run_json(tmp_path, FLAKY)
    assert failed["state"]["current"] == "FAILED"

    result = lanner(tmp_path, "executions", "restart", failed["id"])

    assert result.returncode == 0, result.stderr
    assert "INFO  c c ran" in result.stdout
    assert "INFO  d d ran" in result.stdout
    assert "a ran" not in result.stdout
    assert f"Execution {failed['id']} (company.team.flaky) SUCCESS" in result.stdout
    shown = lanner(tmp_path, "executions", "show", failed["id"], "--output", "json")
    stored = json.loads(shown.stdout)
    assert [len(run["attempts"]) for run in stored["taskRunList"]] == [1, 2, 1]


def test_restart_of_an_execution_without_failure_is_refused(tmp_path: Path) -> None:
    done = run_json(tmp_path, STEPS)
    result = lanner(tmp_path, "executions", "restart", done["id"])
    assert result.returncode == 1
    assert "No task found to restart execution from!" in result.stderr


def test_replay_from_a_task_run_prints_the_new_execution(tmp_path: Path) -> None:
    done = run_json(tmp_path, STEPS)

    result = lanner(
        tmp_path,
        "executions",
        "replay",
        done["id"],
        "--task-run",
        task_run_id(done, "two"),
        "--output",
        "json",
    )

    assert result.returncode == 0, result.stderr
    replayed = json.loads(result.stdout)
    assert replayed["id"] != done["id"]
    assert replayed["parentId"] == done["id"]
    assert replayed["state"]["current"] == "SUCCESS"
    assert [run["taskId"] for run in replayed["taskRunList"]] == ["one", "two", "three"]
    assert "step two" in result.stderr
    assert "step one" not in result.stderr
    listing = lanner(tmp_path, "executions", "list", "--output", "json")
    assert json.loads(listing.stdout)["total"] == 2


def test_replay_from_the_beginning_and_unknown_ids(tmp_path: Path) -> None:
    done = run_json(tmp_path, STEPS)
    again = lanner(tmp_path, "executions", "replay", done["id"])
    assert again.returncode == 0, again.stderr
    assert "step one" in again.stdout
    for action in ("restart", "replay", "kill"):
        missing = lanner(tmp_path, "executions", action, "nope")
        assert missing.returncode == 1, action
        assert "Unable to find execution 'nope'" in missing.stderr
    unknown_run = lanner(tmp_path, "executions", "replay", done["id"], "--task-run", "nope")
    assert unknown_run.returncode == 1
    assert f"Task run id 'nope' not found in execution '{done['id']}'" in unknown_run.stderr


def test_kill_ends_an_execution_whose_process_is_gone(tmp_path: Path) -> None:
    flow = write(tmp_path, SLOW)
    process = start_run(tmp_path, flow)
    try:
        assert process.stdout is not None
        assert "started" in process.stdout.readline()
        execution_id = _running_execution(tmp_path)
    finally:
        process.kill()
        process.communicate(timeout=20)

    result = lanner(tmp_path, "executions", "kill", execution_id)

    assert result.returncode == 0, result.stderr
    assert "KILLED" in result.stdout
    shown = json.loads(
        lanner(tmp_path, "executions", "show", execution_id, "--output", "json").stdout
    )
    assert shown["state"]["current"] == "KILLED"
    again = lanner(tmp_path, "executions", "kill", execution_id)
    assert again.returncode == 1
    assert "already ended KILLED" in again.stderr


def _running_execution(tmp_path: Path) -> str:
    """Return the id of the execution once the store shows its Sleep task running."""
    for _ in range(100):
        listing = lanner(tmp_path, "executions", "list", "--output", "json")
        for execution in json.loads(listing.stdout)["results"]:
            runs = execution.get("taskRunList") or []
            if any(run["taskId"] == "nap" for run in runs):
                return str(execution["id"])
        time.sleep(0.1)
    pytest.fail("the execution never reached its Sleep task")


APPROVAL = """
id: approval
namespace: company.team
tasks:
  - id: started
    type: io.kestra.plugin.core.log.Log
    message: started
  - id: wait
    type: io.kestra.plugin.core.flow.Pause
    onResume:
      - id: approved
        type: BOOLEAN
      - id: count
        type: INT
        defaults: 1
      - id: reason
        type: STRING
        defaults: none given
  - id: decided
    type: io.kestra.plugin.core.log.Log
    message: "approved={{ outputs.wait.onResume.approved }} ({{ outputs.wait.onResume.reason }})"
"""


def test_resume_answers_the_on_resume_inputs_and_goes_on(tmp_path: Path) -> None:
    flow = write(tmp_path, APPROVAL)
    process = start_run(tmp_path, flow)
    try:
        assert process.stdout is not None
        assert "started" in process.stdout.readline()
        execution_id = _paused_execution(tmp_path)
    finally:
        process.kill()
        process.communicate(timeout=20)

    refused = lanner(tmp_path, "executions", "resume", execution_id, "-i", "count=many")
    assert refused.returncode == 1
    assert "Invalid input for `count`" in refused.stderr

    result = lanner(tmp_path, "executions", "resume", execution_id, "-i", "approved=true")

    assert result.returncode == 0, result.stderr
    assert "approved=true (none given)" in result.stdout
    assert f"Execution {execution_id} (company.team.approval) SUCCESS" in result.stdout
    again = lanner(tmp_path, "executions", "resume", execution_id)
    assert again.returncode == 1
    assert f"Execution '{execution_id}' is not PAUSED" in again.stderr


def _paused_execution(tmp_path: Path) -> str:
    """Return the id of the execution once the store shows it PAUSED."""
    for _ in range(100):
        listing = lanner(tmp_path, "executions", "list", "--output", "json")
        for execution in json.loads(listing.stdout)["results"]:
            if execution["state"]["current"] == "PAUSED":
                return str(execution["id"])
        time.sleep(0.1)
    pytest.fail("the execution never paused")
