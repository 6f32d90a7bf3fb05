"""The Process runner on real processes: lines streamed live, exit codes, kills."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import pytest

from lanner.exceptions import TaskError
from lanner.tasks.scripts.process import run_process

Lines = list[tuple[str, bool]]


async def run_sh(script: str, tmp_path: Path, lines: Lines | None = None) -> int:
    collected = [] if lines is None else lines
    _, code = await run_process(
        ["/bin/sh", "-c", script], tmp_path, dict(os.environ), lambda *line: collected.append(line)
    )
    return code


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("echo one; echo two", [("one", False), ("two", False)]),
        ("echo oops >&2", [("oops", True)]),
        ("printf 'no newline'", [("no newline", False)]),
        ("printf 'crlf\\r\\n'", [("crlf", False)]),
        ("printf '\\n\\n'", [("", False), ("", False)]),
        ("printf 'caf\\303\\251 \\377'", [("café \ufffd", False)]),
    ],
    ids=["stdout", "stderr", "no-final-newline", "crlf", "empty-lines", "utf8-and-invalid"],
)
async def test_lines_are_handed_over_whole(tmp_path: Path, script: str, expected: Lines) -> None:
    lines: Lines = []
    assert await run_sh(script, tmp_path, lines) == 0
    assert lines == expected


async def test_a_line_longer_than_the_cap_arrives_in_pieces(tmp_path: Path) -> None:
    lines: Lines = []
    size = 8 * 1024 * 1024 + 5
    script = f"{sys.executable} -c \"print('x' * {size})\""
    assert await run_sh(script, tmp_path, lines) == 0
    assert [len(text) for text, _ in lines] == [8 * 1024 * 1024, 5]


@pytest.mark.parametrize(
    ("script", "code"),
    [("exit 3", 3), ("kill -TERM $$", 143), ("true", 0)],
    ids=["exit-3", "killed-by-sigterm", "success"],
)
async def test_exit_codes(tmp_path: Path, script: str, code: int) -> None:
    assert await run_sh(script, tmp_path) == code


async def test_runs_in_the_directory_with_the_environment(tmp_path: Path) -> None:
    lines: Lines = []
    env = {"PATH": os.environ["PATH"], "GREETING": "hi"}
    await run_process(
        ["/bin/sh", "-c", 'pwd; echo "$GREETING"'], tmp_path, env, lambda *a: lines.append(a)
    )
    assert lines == [(str(tmp_path), False), ("hi", False)]


async def test_a_missing_program_is_a_task_error(tmp_path: Path) -> None:
    with pytest.raises(TaskError, match="Unable to start the command 'no-such-program-x'"):
        await run_process(["no-such-program-x"], tmp_path, {}, lambda *a: None)


async def test_lines_arrive_while_the_process_runs(tmp_path: Path) -> None:
    first_line = asyncio.Event()
    seen_at: list[float] = []

    def on_line(text: str, is_stderr: bool) -> None:
        seen_at.append(time.monotonic())
        first_line.set()

    started = time.monotonic()
    run = asyncio.create_task(
        run_process(["/bin/sh", "-c", "echo early; sleep 1; echo late"], tmp_path, {}, on_line)
    )
    await asyncio.wait_for(first_line.wait(), 5)
    assert not run.done()
    await run
    assert seen_at[0] - started < 0.8
    assert seen_at[1] - started >= 0.9


def group_members(pgid: int) -> list[int]:
    """Return the living processes of a process group (zombies are dead: they wait for init)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        state, group = fields[0], int(fields[2])
        if group == pgid and state != "Z":
            members.append(int(stat.parent.name))
    return members


async def members_within(pgid: int, count: int, seconds: float) -> bool:
    """Wait until a process group has `count` living processes (they start one by one)."""
    deadline = time.monotonic() + seconds
    while len(group_members(pgid)) != count:
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def gone_within(pgid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while group_members(pgid):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


@pytest.mark.parametrize(
    "script",
    ["echo $$; sleep 60 & sleep 60", "trap '' TERM; echo $$; sleep 60 & sleep 60"],
    ids=["children-die-on-sigterm", "sigterm-ignored-then-sigkill"],
)
async def test_cancelling_kills_the_whole_process_group(tmp_path: Path, script: str) -> None:
    pids: list[int] = []
    started = asyncio.Event()

    def on_line(text: str, is_stderr: bool) -> None:
        pids.append(int(text))
        started.set()

    run = asyncio.create_task(
        run_process(["/bin/sh", "-c", script], tmp_path, {}, on_line, kill_grace=0.5)
    )
    await asyncio.wait_for(started.wait(), 5)
    assert await members_within(pids[0], 3, 5.0)  # sh and its two sleeps
    cancelled_at = time.monotonic()
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    assert await gone_within(pids[0], 2.0 - (time.monotonic() - cancelled_at))
