from __future__ import annotations

import argparse
import io
from pathlib import Path

import pytest

from lanner.cli import validate

FIXTURES = Path(__file__).parents[2] / "fixtures" / "flows"


def run(*files: str | Path) -> int:
    parser = argparse.ArgumentParser(prog="lanner")
    validate.add_parser(parser.add_subparsers(dest="command"))
    return validate.command(parser.parse_args(["validate", *map(str, files)]))


def test_a_valid_file(capsys: pytest.CaptureFixture[str]) -> None:
    path = FIXTURES / "valid" / "hello.yml"
    assert run(path) == 0
    assert capsys.readouterr().out == f"{path}: valid\n"


def test_a_broken_file_prints_one_line_per_problem(capsys: pytest.CaptureFixture[str]) -> None:
    path = FIXTURES / "broken" / "wrong-type.yml"
    assert run(path) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{path}:6:17: loop.concurrent: expected an integer, got 'many'",
        f"{path}:10:19: wait.duration: expected an ISO-8601 duration like PT5M, got 'forever'",
        f"{path}:11:23: wait.allowFailure: expected a boolean (true or false), got 'maybe'",
    ]


def test_problems_without_a_path(capsys: pytest.CaptureFixture[str]) -> None:
    path = FIXTURES / "broken" / "duplicate-key-top.yml"
    assert run(path) == 1
    assert capsys.readouterr().out == f"{path}:7:1: Duplicate field 'namespace'\n"


def test_infos_name_legacy_types(capsys: pytest.CaptureFixture[str]) -> None:
    path = FIXTURES / "valid" / "legacy-types.yml"
    assert run(path) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{path}: info: io.kestra.core.tasks.flows.Parallel is replaced by "
        "io.kestra.plugin.core.flow.Parallel",
        f"{path}: info: io.kestra.core.tasks.log.Log is replaced by io.kestra.plugin.core.log.Log",
        f"{path}: info: io.kestra.core.tasks.debugs.Return is replaced by "
        "io.kestra.plugin.core.debug.Return",
        f"{path}: valid",
    ]


def test_warnings_and_deprecations(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "old.yml"
    path.write_text(
        "id: old\nnamespace: company.team\n"
        "taskDefaults:\n"
        "  - type: io.kestra.plugin.core.log.Log\n"
        "    values: {message: hi, colour: red}\n"
        "tasks:\n"
        "  - id: t\n    type: io.kestra.plugin.core.log.Log\n",
        encoding="utf-8",
    )
    assert run(path) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{path}: warning: No property 'colour' exists in plugin 'io.kestra.plugin.core.log.Log'",
        f"{path}: warning: deprecated: taskDefaults",
        f"{path}: valid",
    ]


def test_several_files_fail_if_any_fails(capsys: pytest.CaptureFixture[str]) -> None:
    good = FIXTURES / "valid" / "hello.yml"
    bad = FIXTURES / "broken" / "missing-message.yml"
    assert run(good, bad) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{good}: valid",
        f"{bad}:4:5: hello.message: must not be null",
    ]


def test_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "nowhere.yml"
    assert run(path) == 1
    assert capsys.readouterr().out == (
        f"{path}: error: cannot read the file: No such file or directory\n"
    )


def test_a_file_that_is_not_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "binary.yml"
    path.write_bytes(b"\xff\xfe\x00id")
    assert run(path) == 1
    assert capsys.readouterr().out == f"{path}: error: cannot read the file: it is not UTF-8 text\n"


def test_an_empty_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "empty.yml"
    path.write_text("", encoding="utf-8")
    assert run(path) == 1
    assert capsys.readouterr().out == (
        f"{path}:1:1: expected a flow (a mapping with id, namespace and tasks), "
        "got an empty document\n"
    )


def test_each_document_of_a_file_is_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "many.yml"
    path.write_text(
        "id: one\nnamespace: a\ntasks:\n"
        "  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
        "---\n"
        "id: two\nnamespace: a\ntasks:\n"
        "  - id: t\n    type: io.kestra.plugin.core.log.Log\n",
        encoding="utf-8",
    )
    assert run(path) == 1
    assert capsys.readouterr().out == f"{path}:11:5: t.message: must not be null\n"


def test_standard_input(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (FIXTURES / "valid" / "hello.yml").read_text(encoding="utf-8")
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    assert run("-") == 0
    assert capsys.readouterr().out == "-: valid\n"
