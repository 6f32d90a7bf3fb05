"""`lanner curl import` and `lanner curl export`, as a user runs them: real processes."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.httpservers import MockApp, Server, serve
from tests.integration.test_cli import env_for, lanner, write


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    running = serve(MockApp())
    yield running
    running.close()


def test_import_prints_a_task_that_runs_and_exports_back(tmp_path: Path, server: Server) -> None:
    command = f"curl -L -X POST {server.url}/post/json -H 'X-Id: 7' --json '{{\"a\":1}}'"
    imported = lanner(tmp_path, "curl", "import", "--flow", "posted", command)
    assert imported.returncode == 0, imported.stderr
    flow = yaml.safe_load(imported.stdout)
    assert flow["tasks"][0]["body"] == '{"a":1}'
    path = write(tmp_path, imported.stdout)
    ran = lanner(tmp_path, "run", str(path), "--output", "json")
    assert ran.returncode == 0, ran.stderr
    execution = json.loads(ran.stdout)
    exported = lanner(tmp_path, "curl", "export", execution["id"], "request")
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout == (
        "curl \\\n"
        "  -H 'Content-Type: application/json; charset=UTF-8' \\\n"
        "  -H 'X-Id: 7' \\\n"
        "  -H 'Accept: application/json' \\\n"
        "  --data-raw '{\"a\":1}' \\\n"
        "  -L \\\n"
        f"  {server.url}/post/json\n"
    )


def test_import_reads_words_or_standard_input(tmp_path: Path) -> None:
    words = lanner(tmp_path, "curl", "import", "--id", "get", "--", "curl", "-sL", "http://h/x")
    assert words.returncode == 0, words.stderr
    assert yaml.safe_load(words.stdout) == {
        "id": "get", "type": "io.kestra.plugin.core.http.Request", "uri": "http://h/x",
    }  # fmt: skip
    piped = subprocess.run(
        [sys.executable, "-m", "lanner", "curl", "import", "-"],
        input="curl -L \\\n  http://h/x\n",
        capture_output=True,
        text=True,
        env=env_for(tmp_path),
        timeout=60,
        check=False,
    )
    assert piped.returncode == 0, piped.stderr
    assert yaml.safe_load(piped.stdout)["uri"] == "http://h/x"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("import", "curl --retry 3 http://h"),
            "error: Unknown or unsupported cURL option '--retry' (argument 2)",
        ),
        (("export", "nope", "request"), "error: Unable to find execution 'nope'"),
    ],
)
def test_errors_are_one_line_on_stderr(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    result = lanner(tmp_path, "curl", *args)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith(message)
