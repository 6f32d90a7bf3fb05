"""Shell script tasks in small flows run end to end: real `/bin/sh` processes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lanner.exceptions import FlowError
from lanner.executions import Level
from lanner.flow_parser import parse_flow
from lanner.namespace_files import NamespaceFiles
from lanner.storage import LocalStorage, Storage
from tests.unit.engine.driver import Drive, drive

COMMANDS = "io.kestra.plugin.scripts.shell.Commands"
HEADER = "id: f\nnamespace: company.team\ntasks:\n"


def shell(task_id: str, *commands: str, **properties: str) -> str:
    lines = [f"  - id: {task_id}", f"    type: {COMMANDS}", "    commands:"]
    lines.extend(f"      - {json.dumps(command)}" for command in commands)
    lines.extend(f"    {name}: {value}" for name, value in properties.items())
    return "\n".join(lines) + "\n"


async def run(tmp_path: Path, *tasks: str) -> Drive:
    return await drive(HEADER + "".join(tasks), tmp_path)


def logged(result: Drive, task_id: str) -> list[tuple[Level, str]]:
    return [(e.level, e.message) for e in result.logs if e.task_id == task_id and e.level > 1]


def printed(result: Drive, task_id: str) -> list[str]:
    return [message for level, message in logged(result, task_id) if level is Level.INFO]


# -- logs and states -------------------------------------------------------------------------


async def test_stdout_is_info_and_stderr_error_and_ends_warning(tmp_path: Path) -> None:
    result = await run(tmp_path, shell("s", "echo out", "echo err >&2"))
    assert logged(result, "s") == [(Level.INFO, "out"), (Level.ERROR, "err")]
    assert result.states() == {"s": "WARNING"}
    assert result.run("s").outputs == {"vars": {}, "exitCode": 0, "outputFiles": {}}


@pytest.mark.parametrize(
    ("properties", "state"),
    [
        ({"warningOnStdErr": "false"}, "SUCCESS"),
        ({"warningOnStdErr": '"{{ 1 == 2 }}"'}, "SUCCESS"),
        ({"allowWarning": "true"}, "SUCCESS"),
        ({}, "WARNING"),
    ],
    ids=["warningOnStdErr-false", "warningOnStdErr-template", "allowWarning", "default"],
)
async def test_stderr_warning_can_be_turned_off(
    tmp_path: Path, properties: dict[str, str], state: str
) -> None:
    result = await run(tmp_path, shell("s", "echo err >&2", **properties))
    assert result.states() == {"s": state}


async def test_a_non_zero_exit_fails_with_the_exit_code_and_keeps_outputs(tmp_path: Path) -> None:
    result = await run(
        tmp_path,
        shell("s", 'echo \'::{"outputs": {"seen": true}}::\'', "exit 3"),
        shell("never", "echo no"),
    )
    assert result.states() == {"s": "FAILED"}
    assert (Level.ERROR, "Command failed with exit code 3") in logged(result, "s")
    assert result.run("s").outputs == {"vars": {"seen": True}, "exitCode": 3, "outputFiles": {}}


@pytest.mark.parametrize(
    ("fail_fast", "state", "lines"),
    [("true", "FAILED", []), ("false", "SUCCESS", ["after"])],
    ids=["failFast", "no-failFast"],
)
async def test_fail_fast_stops_at_the_first_failing_command(
    tmp_path: Path, fail_fast: str, state: str, lines: list[str]
) -> None:
    result = await run(tmp_path, shell("s", "false", "echo after", failFast=fail_fast))
    assert result.states() == {"s": state}
    assert [m for level, m in logged(result, "s") if level is Level.INFO] == lines


async def test_before_commands_env_and_rendering(tmp_path: Path) -> None:
    task = shell(
        "s",
        'echo "$GREETING {{ flow.id }}"',
        'test "$WORKING_DIR" = "{{ workingDir }}" && test "$(pwd)" = "$WORKING_DIR" && echo here',
        beforeCommands='["echo before"]',
        env='{GREETING: "hi {{ flow.namespace }}", N: 3}',
        containerImage="ubuntu:22.04",
    )
    result = await run(tmp_path, task)
    assert [m for _, m in logged(result, "s")] == ["before", "hi company.team f", "here"]


async def test_the_working_directory_is_removed_after_the_run(tmp_path: Path) -> None:
    result = await run(tmp_path, shell("s", "pwd", "exit 1"))
    workdir = Path(result.messages("s")[1])
    assert workdir.name.startswith("lanner-script-")
    assert not workdir.exists()


async def test_shell_script_and_interpreter(tmp_path: Path) -> None:
    task = (
        "  - id: s\n    type: io.kestra.plugin.scripts.shell.Script\n"
        '    interpreter: ["/bin/bash", "-c"]\n'
        '    script: |\n      words=(a b)\n      echo "${words[1]} {{ task.id }}"\n'
    )
    result = await run(tmp_path, task)
    assert printed(result, "s") == ["b s"]


# -- the ::{...}:: protocol ----------------------------------------------------------------------


async def test_protocol_outputs_logs_and_metrics(tmp_path: Path) -> None:
    outputs = '::{"outputs": {"a": 1, "b": "x"}}::'
    more = '::{"outputs": {"b": "y"}, "logs": [{"level": "WARN", "message": "careful"}]}::'
    metric = (
        '::{"metrics": [{"name": "rows", "type": "counter", "value": 5, "tags": {"k": "v"}}]}::'
    )
    timer = '::{"metrics": [{"name": "took", "type": "timer", "value": 1.5}]}::'
    result = await run(
        tmp_path,
        shell("s", f"echo '{outputs}'", f"echo '{more}'", f"echo '{metric}'", f"echo '{timer}'"),
        "  - id: l\n    type: io.kestra.plugin.core.log.Log\n"
        '    message: "{{ outputs.s.vars.a }} {{ outputs.s.vars.b }}"\n',
    )
    assert result.run("s").outputs["vars"] == {"a": 1, "b": "y"}
    assert logged(result, "s") == [(Level.WARN, "careful")]
    assert result.messages("l") == ["1 y"]
    assert [(m.name, m.type.value, m.value, dict(m.tags)) for m in result.metrics] == [
        ("rows", "counter", 5.0, {"k": "v"}),
        ("took", "timer", 1500.0, {}),  # stored in milliseconds
    ]


async def test_an_invalid_protocol_line_is_a_warning(tmp_path: Path) -> None:
    result = await run(tmp_path, shell("s", "echo '::{\"outputs\": 3}::'"))
    assert logged(result, "s") == [
        (
            Level.WARN,
            "Invalid outputs '::{\"outputs\": 3}::': 'outputs' must be an object, got int",
        )
    ]
    assert result.states() == {"s": "SUCCESS"}


# -- files ---------------------------------------------------------------------------------------


async def test_input_files_from_text_and_from_storage(tmp_path: Path) -> None:
    producer = shell("make", "echo made > made.txt", outputFiles='["made.txt"]')
    consumer = shell(
        "use",
        "cat note.txt sub/copy.txt",
        inputFiles="{note.txt: 'for {{ flow.id }}',"
        " sub/copy.txt: \"{{ outputs.make.outputFiles['made.txt'] }}\"}",
    )
    result = await run(tmp_path, producer, consumer)
    assert result.states() == {"make": "SUCCESS", "use": "SUCCESS"}
    assert [m for _, m in logged(result, "use")] == ["for fmade"]


async def test_input_files_as_a_template_of_json(tmp_path: Path) -> None:
    task = shell("s", "cat a.txt", inputFiles='\'{{ {"a.txt": "from json"} | toJson }}\'')
    result = await run(tmp_path, task)
    assert [m for _, m in logged(result, "s")] == ["from json"]


@pytest.mark.parametrize(
    ("name", "what"),
    [("/etc/x", "inputFile"), ("../x", "inputFile"), ("./x", "inputFile")],
    ids=["absolute", "parent", "dot-slash"],
)
async def test_input_file_names_must_stay_inside(tmp_path: Path, name: str, what: str) -> None:
    result = await run(tmp_path, shell("s", "true", inputFiles=f"{{'{name}': x}}"))
    assert result.states() == {"s": "FAILED"}
    expected = f"Invalid {what} (only relative path is supported) for path '{name}'"
    assert (Level.ERROR, expected) in logged(result, "s")


async def test_a_missing_storage_file_names_the_input_file(tmp_path: Path) -> None:
    uri = "kestra:///company/team/f/executions/x/nothing.txt"
    result = await run(tmp_path, shell("s", "true", inputFiles=f"{{a.txt: '{uri}'}}"))
    message = f"Unable to find the file '{uri}' used by the input file 'a.txt'"
    assert (Level.ERROR, message) in logged(result, "s")


async def test_output_files_by_glob_and_storage_uris_in_commands(tmp_path: Path) -> None:
    make = shell(
        "make",
        "mkdir -p d/e && echo 1 > a.csv && echo 2 > b.csv && echo 3 > d/e/c.json && echo 4 > x.txt",
        "echo '{{ outputFiles[\"x.txt\"] }}' | grep -q '/x.txt$' && echo named",
        outputFiles='["*.csv", "**/*.json", "x.txt", "missing.bin"]',
    )
    read = shell("read", "cat {{ outputs.make.outputFiles['d/e/c.json'] }}")
    result = await run(tmp_path, make, read)
    files = result.run("make").outputs["outputFiles"]
    assert sorted(files) == ["a.csv", "b.csv", "d/e/c.json", "x.txt"]
    prefix = f"kestra:///company/team/f/executions/{result.execution.id}/tasks/make/"
    assert all(uri.startswith(prefix) for uri in files.values())
    assert all(
        re.fullmatch(r"[0-9a-f]{12}-" + re.escape(Path(k).name), Path(v).name)
        for k, v in files.items()
    )
    assert printed(result, "make") == ["named"]
    assert [m for _, m in logged(result, "read")] == ["3"]


async def test_output_directory(tmp_path: Path) -> None:
    task = shell(
        "s",
        "test \"$OUTPUT_DIR\" = '{{ outputDir }}'",
        'mkdir -p "$OUTPUT_DIR/sub" && echo hi > "$OUTPUT_DIR/sub/h.txt"',
        outputDirectory="true",
    )
    result = await run(tmp_path, task)
    assert result.states() == {"s": "SUCCESS"}
    assert list(result.run("s").outputs["outputFiles"]) == ["sub/h.txt"]


async def test_namespace_files_included_and_excluded(tmp_path: Path) -> None:
    files = NamespaceFiles(LocalStorage(tmp_path / "storage"))
    for path in ("/scripts/a.sh", "/scripts/skip.sh", "/readme.md"):
        files.write("company.team", path, f"echo {path}".encode())
    task = shell(
        "s",
        "find . -type f | sort",
        namespaceFiles="{enabled: true, include: ['scripts/**', '*.md'], exclude: ['**/skip.*']}",
    )
    result = await run(tmp_path, task)
    assert printed(result, "s") == ["./readme.md", "./scripts/a.sh"]


async def test_files_in_and_out_through_every_storage(tmp_path: Path, any_storage: Storage) -> None:
    NamespaceFiles(any_storage).write("company.team", "/greet.sh", b"echo from the namespace")
    make = shell(
        "make",
        "sh greet.sh > made.txt",
        outputFiles='["made.txt"]',
        namespaceFiles="{enabled: true}",
    )
    made = "{{ outputs.make.outputFiles['made.txt'] }}"
    use = shell("use", "cat copy.txt", f"cat {made}", inputFiles=f'{{copy.txt: "{made}"}}')

    result = await drive(HEADER + make + use, tmp_path, storage=any_storage)

    assert result.states() == {"make": "SUCCESS", "use": "SUCCESS"}
    assert printed(result, "use") == ["from the namespace", "from the namespace"]
    uri = result.run("make").outputs["outputFiles"]["made.txt"]
    assert any_storage.read(uri) == b"from the namespace\n"


# -- what lanner refuses -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "taskRunner: {type: io.kestra.plugin.scripts.runner.docker.Docker}",
            "7:17: s.taskRunner: task 's': the task runner "
            "'io.kestra.plugin.scripts.runner.docker.Docker' is not supported; lanner runs scripts"
            " as local processes (type: io.kestra.plugin.core.runner.Process)",
        ),
        (
            "runner: DOCKER",
            "7:13: s.runner: task 's': runner 'DOCKER' is not supported;",
        ),
        (
            "targetOS: WINDOWS",
            "7:15: s.targetOS: targetOS 'WINDOWS' is not supported; use AUTO or LINUX",
        ),
    ],
    ids=["docker-task-runner", "docker-runner", "windows"],
)
def test_refused_runners_name_the_task(line: str, message: str) -> None:
    source = HEADER + f"  - id: s\n    type: {COMMANDS}\n    commands: [echo]\n    {line}\n"
    with pytest.raises(FlowError) as caught:
        parse_flow(source)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    "line",
    [
        "taskRunner: {type: io.kestra.plugin.core.runner.Process}",
        "taskRunner: {type: io.kestra.core.models.tasks.runners.types.ProcessTaskRunner}",
        "runner: PROCESS",
    ],
    ids=["Process", "legacy-ProcessTaskRunner", "runner-PROCESS"],
)
async def test_process_runner_names(tmp_path: Path, line: str) -> None:
    name, _, value = line.partition(": ")
    result = await run(tmp_path, shell("s", "echo ok", **{name: value}))
    assert printed(result, "s") == ["ok"]


async def test_timeout_kills_the_command(tmp_path: Path) -> None:
    result = await run(tmp_path, shell("s", "sleep 60", timeout="PT0.3S"))
    assert result.states() == {"s": "FAILED"}
    assert (Level.ERROR, "Timeout after PT0.3S") in logged(result, "s")
