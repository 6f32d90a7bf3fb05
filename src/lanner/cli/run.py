"""`lanner run FLOW.yml`: run a flow once, printing its logs live, then a summary."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from lanner.cli.common import (
    add_home_argument,
    connect,
    discard_output,
    format_log,
    load_settings,
    print_json,
)
from lanner.exceptions import FlowError, InputError, LannerError
from lanner.executions import Execution, LogEntry, TaskRun
from lanner.flow_parser import parse_flow
from lanner.inputs import Upload
from lanner.runner import Runner
from lanner.states import State

_OK_STATES = (State.SUCCESS, State.WARNING)
_PREVIEW = 500


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run a flow file once and print its logs",
        description="Run a flow file once: live logs, then a summary of its task runs.",
    )
    parser.add_argument("flow", metavar="FLOW.yml", help="the flow file to run")
    parser.add_argument(
        "-i",
        "--input",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an input value (repeatable); KEY=@path uploads a file for a FILE input",
    )
    parser.add_argument(
        "--output",
        choices=("text", "json"),
        default="text",
        help="text: logs and a summary on stdout; "
        "json: the execution JSON on stdout, logs on stderr",
    )
    add_home_argument(parser)


def command(args: argparse.Namespace) -> int:
    try:
        inputs = parse_inputs(args.input)
        source = Path(args.flow).read_text(encoding="utf-8")
        flow = parse_flow(source, args.flow)
    except (FlowError, InputError) as exc:
        print(exc, file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"{args.flow}: cannot read the flow: {exc.strerror or exc}", file=sys.stderr)
        return 1
    try:
        execution = asyncio.run(_run(args, source, flow, inputs))
    except InputError as exc:
        print(f"{args.flow}: invalid inputs:\n{exc}", file=sys.stderr)
        return 1
    except LannerError as exc:
        print(f"{args.flow}: {exc}", file=sys.stderr)
        return 1
    if args.output == "json":
        print_json(execution.to_json())
    else:
        print_summary(execution, sys.stdout)
    return 0 if execution.current in _OK_STATES else 1


def parse_inputs(pairs: list[str]) -> dict[str, Any]:
    """Read `-i KEY=VALUE` pairs; `KEY=@path` reads a file to upload."""
    inputs: dict[str, Any] = {}
    problems = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            problems.append(f"-i {pair}: expected KEY=VALUE")
            continue
        if value.startswith("@"):
            path = Path(value[1:])
            try:
                inputs[key] = Upload(path.name, path.read_bytes())
            except OSError as exc:
                problems.append(f"-i {pair}: cannot read {path}: {exc.strerror or exc}")
            continue
        inputs[key] = value
    if problems:
        raise InputError(problems)
    return inputs


async def _run(
    args: argparse.Namespace, source: str, flow: Any, inputs: dict[str, Any]
) -> Execution:
    settings = load_settings(args)
    store = await connect(settings)
    log_stream = sys.stderr if args.output == "json" else sys.stdout
    try:
        record = await store.save_flow(flow.namespace, flow.id, source)
        async with Runner(settings, store) as runner:
            runner.add_log_listener(lambda entry: _print_log(entry, log_stream))
            execution = await runner.submit(flow, record.revision, inputs, checked=True)
            return await _wait_or_kill(runner, execution.id)
    finally:
        await store.close()


async def _wait_or_kill(runner: Runner, execution_id: str) -> Execution:
    """Wait for the end; the first Ctrl-C kills the execution, which then ends KILLED."""
    loop = asyncio.get_running_loop()
    interrupted = asyncio.Event()
    with contextlib.suppress(NotImplementedError):
        loop.add_signal_handler(signal.SIGINT, interrupted.set)
        loop.add_signal_handler(signal.SIGTERM, interrupted.set)
    waiting = asyncio.create_task(runner.wait(execution_id))
    interruption = asyncio.create_task(interrupted.wait())
    try:
        done, _ = await asyncio.wait({waiting, interruption}, return_when=asyncio.FIRST_COMPLETED)
        if waiting not in done:
            print("Interrupted: killing the execution...", file=sys.stderr)
            await runner.kill(execution_id)
        return await waiting
    finally:
        interruption.cancel()
        with contextlib.suppress(NotImplementedError):
            loop.remove_signal_handler(signal.SIGINT)
            loop.remove_signal_handler(signal.SIGTERM)


def _print_log(entry: LogEntry, stream: TextIO) -> None:
    try:
        print(format_log(entry), file=stream, flush=True)
    except BrokenPipeError:
        discard_output(stream)  # the execution goes on: only its printing stops


def _print_task_runs(task_runs: Sequence[TaskRun], stream: TextIO) -> None:
    rows = [("TASK", "VALUE", "STATE", "DURATION", "ATTEMPTS")]
    for run in task_runs:
        rows.append(
            (
                run.task_id,
                run.value or "",
                run.current.value,
                f"{run.state.duration.total_seconds():.3f}s",
                str(len(run.attempts)),
            )
        )
    widths = [max(len(row[col]) for row in rows) for col in range(len(rows[0]))]
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        print(("  " + "  ".join(cells)).rstrip(), file=stream)


def print_summary(execution: Execution, stream: TextIO) -> None:
    """Print the execution's state, a table of its task runs, and their outputs."""
    duration = execution.state.duration.total_seconds()
    print(
        f"\nExecution {execution.id} ({execution.namespace}.{execution.flow_id}) "
        f"{execution.current.value} in {duration:.3f}s",
        file=stream,
    )
    if execution.task_runs:
        _print_task_runs(execution.task_runs, stream)
    else:
        print("  No task ran.", file=stream)
    outputs = [(run, run.outputs) for run in execution.task_runs if run.outputs]
    if outputs:
        print("Outputs:", file=stream)
        for run, values in outputs:
            label = run.task_id + (f"[{run.value}]" if run.value is not None else "")
            print(f"  {label}: {_preview(values)}", file=stream)
    if execution.outputs:
        print(f"Flow outputs: {_preview(execution.outputs)}", file=stream)


def _preview(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    if len(text) <= _PREVIEW:
        return text
    return f"{text[:_PREVIEW]}... ({len(text)} characters; --output json prints everything)"
