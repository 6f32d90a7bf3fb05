"""`lanner run` and `lanner executions`, as a user runs them: real processes, a real database."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def env_for(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "LANNER_HOME": str(tmp_path / "home")}


def lanner(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lanner", *args],
        capture_output=True,
        text=True,
        env=env_for(tmp_path),
        timeout=60,
        check=False,
    )


def start_run(tmp_path: Path, flow: Path) -> subprocess.Popen[str]:
    """Start `lanner run <flow>` in the background, its output readable as text."""
    return subprocess.Popen(
        [sys.executable, "-m", "lanner", "run", str(flow)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env_for(tmp_path),
    )


def write(tmp_path: Path, text: str, name: str = "flow.yml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_run_the_example_prints_logs_and_a_summary(tmp_path: Path) -> None:
    result = lanner(tmp_path, "run", str(REPO / "examples" / "hello.yml"), "-i", "user=Alice")
    assert result.returncode == 0, result.stderr
    assert (
        'INFO  greet Hello Alice, the payload is {"name":"Bob","job":"Developer"}' in result.stdout
    )
    assert "Lyon has 4 letters — and Bob is a developer" in result.stdout
    assert "SUCCESS" in result.stdout
    assert 'job: {"value":"DEVELOPER"}' in result.stdout


def test_json_output_is_the_execution_and_logs_go_to_stderr(tmp_path: Path) -> None:
    result = lanner(tmp_path, "run", str(REPO / "examples" / "hello.yml"), "--output", "json")
    assert result.returncode == 0, result.stderr
    execution = json.loads(result.stdout)
    assert execution["state"]["current"] == "SUCCESS"
    assert execution["flowId"] == "hello"
    assert execution["inputs"]["payload"] == {"name": "Bob", "job": "Developer"}
    assert [run["taskId"] for run in execution["taskRunList"]][:2] == ["greet", "job"]
    assert execution["taskRunList"][1]["outputs"] == {"value": "DEVELOPER"}
    assert "greet Hello Kestra user" in result.stderr


def test_a_failed_execution_exits_1(tmp_path: Path) -> None:
    flow = write(
        tmp_path,
        "id: f\nnamespace: t\ntasks:\n  - id: boom\n"
        "    type: io.kestra.plugin.core.execution.Fail\n    errorMessage: it broke\n",
    )
    result = lanner(tmp_path, "run", str(flow))
    assert result.returncode == 1
    assert "ERROR boom it broke" in result.stdout
    assert "FAILED" in result.stdout


def test_a_bad_input_fails_before_anything_runs(tmp_path: Path) -> None:
    flow = write(
        tmp_path,
        "id: f\nnamespace: t\ninputs:\n  - id: count\n    type: INT\ntasks:\n"
        "  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: '{{ inputs.count }}'\n",
    )
    result = lanner(tmp_path, "run", str(flow), "-i", "count=abc")
    assert result.returncode == 1
    assert "count: Invalid input for `count`" in result.stderr
    assert "Expected `INT` but received `abc`" in result.stderr
    listing = lanner(tmp_path, "executions", "list", "--output", "json")
    assert json.loads(listing.stdout)["total"] == 0


def test_a_flow_check_blocks_the_run_and_says_which(tmp_path: Path) -> None:
    flow = write(
        tmp_path,
        "id: f\nnamespace: t\ninputs:\n  - id: count\n    type: INT\n"
        "checks:\n  - condition: '{{ inputs.count > 0 }}'\n    message: count must be positive\n"
        "tasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n",
    )
    result = lanner(tmp_path, "run", str(flow), "-i", "count=0")
    assert result.returncode == 1
    assert "Flow execution blocked: one or more condition checks evaluated to false." in (
        result.stderr
    )
    assert "Failed checks: count must be positive" in result.stderr
    assert lanner(tmp_path, "run", str(flow), "-i", "count=2").returncode == 0


def test_a_run_failed_by_a_flow_check_says_so_and_that_no_task_ran(tmp_path: Path) -> None:
    flow = write(
        tmp_path,
        "id: f\nnamespace: t\ninputs:\n  - id: count\n    type: INT\n"
        "checks:\n  - condition: '{{ inputs.count < 10 }}'\n    message: too many\n"
        "    behavior: FAIL_EXECUTION\n"
        "tasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n",
    )
    result = lanner(tmp_path, "run", str(flow), "-i", "count=12")
    assert result.returncode == 1
    assert "WARN  - Flow execution failed because one or more condition checks" in result.stdout
    assert "(t.f) FAILED in" in result.stdout
    assert result.stdout.rstrip().endswith("No task ran.")


def test_an_invalid_flow_is_reported_with_its_position(tmp_path: Path) -> None:
    flow = write(
        tmp_path,
        "id: f\nnamespace: t\ntasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n"
        "    mesage: hi\n",
    )
    result = lanner(tmp_path, "run", str(flow))
    assert result.returncode == 1
    assert f"{flow}:6:5:" in result.stderr
    assert 'Unrecognized field "mesage"' in result.stderr


def test_executions_are_stored_and_can_be_read_back(tmp_path: Path) -> None:
    run = lanner(tmp_path, "run", str(REPO / "examples" / "hello.yml"), "--output", "json")
    execution_id = json.loads(run.stdout)["id"]
    listing = lanner(tmp_path, "executions", "list")
    assert execution_id in listing.stdout
    assert "company.team.hello" in listing.stdout
    shown = lanner(tmp_path, "executions", "show", execution_id, "--output", "json")
    assert json.loads(shown.stdout) == json.loads(run.stdout)
    logs = lanner(tmp_path, "executions", "logs", execution_id)
    assert "greet Hello Kestra user" in logs.stdout
    missing = lanner(tmp_path, "executions", "show", "nope")
    assert missing.returncode == 1
    assert "Unable to find execution 'nope'" in missing.stderr


def test_ctrl_c_kills_the_execution_and_stores_it_killed(tmp_path: Path) -> None:
    flow = write(
        tmp_path,
        "id: slow\nnamespace: t\ntasks:\n  - id: started\n    type: io.kestra.plugin.core.log.Log\n"
        "    message: started\n  - id: wait\n    type: io.kestra.plugin.core.flow.Sleep\n"
        "    duration: PT60S\n  - id: after\n    type: io.kestra.plugin.core.log.Log\n"
        "    message: never\n",
    )
    process = start_run(tmp_path, flow)
    assert process.stdout is not None
    line = process.stdout.readline()
    assert "started" in line
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    try:
        stdout, stderr = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail("lanner run did not stop after Ctrl-C")
    assert process.returncode == 1, stderr
    assert "KILLED" in stdout
    listing = lanner(tmp_path, "executions", "list", "--output", "json")
    (stored,) = json.loads(listing.stdout)["results"]
    assert stored["state"]["current"] == "KILLED"
    states = {run["taskId"]: run["state"]["current"] for run in stored["taskRunList"]}
    assert states == {"started": "SUCCESS", "wait": "KILLED"}


def test_the_summary_table_has_no_trailing_spaces(tmp_path: Path) -> None:
    result = lanner(tmp_path, "run", str(REPO / "examples" / "hello.yml"))
    assert result.returncode == 0, result.stderr
    table = [line for line in result.stdout.splitlines() if line.startswith("  ")]
    assert table
    assert all(line == line.rstrip() for line in table)


def test_a_reader_that_goes_away_does_not_stop_the_run(tmp_path: Path) -> None:
    lines = "".join(
        f"  - id: log{i}\n    type: io.kestra.plugin.core.log.Log\n    message: line {i}\n"
        for i in range(50)
    )
    flow = write(tmp_path, f"id: f\nnamespace: t\ntasks:\n{lines}")
    process = start_run(tmp_path, flow)
    try:
        assert process.stdout is not None
        assert "line 0" in process.stdout.readline()
        process.stdout.close()  # as `| head -1` does
        _, errors = process.communicate(timeout=60)
    finally:
        if process.poll() is None:  # a run that hangs must not outlive the test
            process.kill()
            process.wait()
    assert "Traceback" not in errors
    assert process.returncode == 0
    listing = lanner(tmp_path, "executions", "list", "--output", "json")
    [execution] = json.loads(listing.stdout)["results"]
    assert execution["state"]["current"] == "SUCCESS"
