"""Python script tasks on real interpreters, with the PyPI `kestra` package talking back."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from lanner.executions import Level
from tests.unit.engine.driver import Drive, drive

HEADER = "id: f\nnamespace: company.team\ntasks:\n"


def python_script(task_id: str, script: str, **properties: str) -> str:
    body = "".join(f"      {line}\n" for line in script.strip().splitlines())
    extra = "".join(f"    {name}: {value}\n" for name, value in properties.items())
    return (
        f"  - id: {task_id}\n    type: io.kestra.plugin.scripts.python.Script\n{extra}"
        f"    script: |\n{body}"
    )


def logged(result: Drive, task_id: str) -> list[tuple[Level, str]]:
    return [(e.level, e.message) for e in result.logs if e.task_id == task_id and e.level > 1]


@pytest.fixture
def venv_python(monkeypatch: pytest.MonkeyPatch) -> str:
    """Run Python scripts with this test run's interpreter, which has `kestra` installed."""
    monkeypatch.setenv("LANNER_PYTHON", sys.executable)
    return sys.executable


KESTRA_SCRIPT = """
from kestra import Kestra
Kestra.outputs({"answer": 42, "nested": {"list": [1, "two"]}})
Kestra.counter("rows", 7, {"source": "{{ flow.id }}"})
Kestra.timer("took", 0.5)
logger = Kestra.logger()
logger.info("info via the logger")
logger.warning("warning via the logger")
print("plain print")
"""


async def test_the_kestra_package_sends_outputs_metrics_and_logs(
    tmp_path: Path, venv_python: str
) -> None:
    result = await drive(HEADER + python_script("p", KESTRA_SCRIPT), tmp_path)
    run = result.run("p")
    assert run.outputs["vars"] == {"answer": 42, "nested": {"list": [1, "two"]}}
    assert run.outputs["exitCode"] == 0
    assert [(m.name, m.type.value, m.value, dict(m.tags)) for m in result.metrics] == [
        ("rows", "counter", 7.0, {"source": "f"}),
        ("took", "timer", 500.0, {}),
    ]
    # stdout and stderr are two pipes: lines keep their order within each, not across them.
    by_level = {level: message for level, message in logged(result, "p") if level > Level.DEBUG}
    assert sorted(by_level) == [Level.INFO, Level.WARN]
    assert (Level.INFO, "plain print") in logged(result, "p")
    assert by_level[Level.WARN].endswith(" - warning via the logger")
    assert any(m.endswith(" - info via the logger") for _, m in logged(result, "p"))
    # The logger's warning went to stderr: the task ends WARNING, as in Kestra.
    assert result.states() == {"p": "WARNING"}


async def test_the_configured_interpreter_runs_the_script(tmp_path: Path, venv_python: str) -> None:
    script = "import os, sys\nprint(sys.executable)\nprint(os.environ['PYTHONUNBUFFERED'])"
    result = await drive(HEADER + python_script("p", script), tmp_path)
    assert [m for _, m in logged(result, "p")] == [venv_python, "true"]


async def test_python3_is_found_on_path_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LANNER_PYTHON", raising=False)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "python3"
    fake.write_text('#!/bin/sh\necho "python3 from PATH ran $(basename "$1")"\n')
    fake.chmod(0o755)
    task = python_script(
        "p", "print('never')", env=json.dumps({"PATH": f"{bin_dir}:/usr/bin:/bin"})
    )
    result = await drive(HEADER + task, tmp_path)
    [(level, message)] = logged(result, "p")
    assert level is Level.INFO
    assert message.startswith("python3 from PATH ran script-")
    assert message.endswith(".py")


async def test_an_exception_fails_with_its_traceback_at_error(
    tmp_path: Path, venv_python: str
) -> None:
    script = "print('before')\nraise ValueError('bad {{ flow.id }}')"
    result = await drive(HEADER + python_script("p", script), tmp_path)
    lines = logged(result, "p")
    assert lines[0] == (Level.INFO, "before")
    assert (Level.ERROR, "ValueError: bad f") in lines
    assert lines[-1] == (Level.ERROR, "Command failed with exit code 1")
    assert result.states() == {"p": "FAILED"}
    assert result.run("p").outputs == {"vars": {}, "exitCode": 1, "outputFiles": {}}


async def test_a_script_reads_a_storage_file_by_its_uri(tmp_path: Path, venv_python: str) -> None:
    make = python_script(
        "make", "open('data.csv', 'w').write('a,b\\n1,2\\n')", outputFiles='["data.csv"]'
    )
    read = python_script(
        "read", "print(open('{{ outputs.make.outputFiles[\"data.csv\"] }}').read().split()[1])"
    )
    result = await drive(HEADER + make + read, tmp_path)
    assert [m for _, m in logged(result, "read")] == ["1,2"]


async def test_python_commands_with_before_commands_and_input_files(
    tmp_path: Path, venv_python: str
) -> None:
    task = (
        "  - id: p\n    type: io.kestra.plugin.scripts.python.Commands\n"
        '    beforeCommands: ["echo setting up"]\n'
        "    inputFiles:\n      main.py: |\n"
        "        import os\n        print('main', os.environ['PIP_DISABLE_PIP_VERSION_CHECK'])\n"
        f'    commands: ["{sys.executable} main.py"]\n'
    )
    result = await drive(HEADER + task, tmp_path)
    assert [m for _, m in logged(result, "p")] == ["setting up", "main 1"]


async def test_the_documented_example_runs(tmp_path: Path, venv_python: str) -> None:
    doc = Path(__file__).resolve().parents[4] / "docs" / "scripts.md"
    example = re.findall(r"```yaml\n(.*?)```", doc.read_text(), flags=re.DOTALL)[0]
    result = await drive(example, tmp_path)
    assert result.states() == {"transform": "SUCCESS", "show": "SUCCESS"}
    transform = result.run("transform").outputs
    assert transform["vars"] == {"total": 8}
    assert list(transform["outputFiles"]) == ["report.csv"]
    assert [m for _, m in logged(result, "transform")] == ["wrote scripts_demo report"]
    assert [m for _, m in logged(result, "show")] == ["total 8", "alice,3", "bob,5"]
    assert [(m.name, m.value) for m in result.metrics] == [("rows", 2.0)]
