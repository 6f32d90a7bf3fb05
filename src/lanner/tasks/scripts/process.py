"""The Process task runner: run a command as a local subprocess, its output streamed by line.

The command runs in a session (and process group) of its own, so that a kill reaches every
process it started (`sh -c` and its children), not only the first one. Cancelling the awaiting
coroutine (execution killed, task timeout, worker shutdown) sends SIGTERM to the group, then
SIGKILL after `KILL_GRACE` seconds; the CancelledError is raised again once the group is gone.
Everything is asyncio: no thread is blocked while the process runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from lanner.exceptions import TaskError

LineHandler = Callable[[str, bool], None]
"""Called with each line (without its line ending) and whether it came from stderr."""

KILL_GRACE = 2.0
"""Seconds a killed process group has to exit after SIGTERM before SIGKILL."""

_CHUNK = 64 * 1024
_MAX_LINE = 8 * 1024 * 1024
"""A longer line is cut into pieces of this size rather than held whole in memory."""


async def run_process(
    argv: Sequence[str],
    cwd: Path,
    env: Mapping[str, str],
    on_line: LineHandler,
    *,
    kill_grace: float = KILL_GRACE,
) -> tuple[int, int]:
    """Run `argv` until it exits; return its (pid, exit code).

    A process killed by a signal exits with code 128 + the signal number, as a shell says.
    """
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            cwd=cwd,
            env=dict(env),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        raise TaskError(f"Unable to start the command '{argv[0]}': {exc.strerror}") from exc
    assert process.stdout is not None
    assert process.stderr is not None
    readers = [
        asyncio.create_task(_pump(process.stdout, False, on_line)),
        asyncio.create_task(_pump(process.stderr, True, on_line)),
    ]
    try:
        code = await process.wait()
        # Lines still buffered in the pipes belong to the task run, so read them to the end.
        await asyncio.gather(*readers)
    except BaseException:
        await _terminate(process, readers, kill_grace)
        raise
    return process.pid, 128 - code if code < 0 else code


async def _pump(stream: asyncio.StreamReader, is_stderr: bool, on_line: LineHandler) -> None:
    """Hand each line of a stream to `on_line` as soon as it is complete."""
    pending = bytearray()
    while chunk := await stream.read(_CHUNK):
        pending += chunk
        start = 0
        while (end := pending.find(b"\n", start)) >= 0:
            on_line(_text(pending[start:end]), is_stderr)
            start = end + 1
        del pending[:start]
        while len(pending) >= _MAX_LINE:
            on_line(_text(pending[:_MAX_LINE]), is_stderr)
            del pending[:_MAX_LINE]
    if pending:
        on_line(_text(pending), is_stderr)


def _text(raw: bytes | bytearray) -> str:
    return bytes(raw).decode("utf-8", errors="replace").removesuffix("\r")


async def _terminate(
    process: asyncio.subprocess.Process, readers: list[asyncio.Task[None]], grace: float
) -> None:
    """Stop the process group: SIGTERM, SIGKILL after `grace` seconds; stop the readers."""
    _signal_group(process.pid, signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), grace)
    except TimeoutError:
        pass
    finally:
        # Children that ignored SIGTERM, or outlived their parent, go too.
        _signal_group(process.pid, signal.SIGKILL)
    await process.wait()
    _, still_reading = await asyncio.wait(readers, timeout=grace)
    for reader in still_reading:
        reader.cancel()


def _signal_group(pid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # the whole group has exited already
        os.killpg(pid, signum)
