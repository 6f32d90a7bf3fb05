"""`lanner executions list|show|logs|restart|replay|kill`: read and operate on stored executions.

`restart`, `replay` and `kill` change an execution in the store, then drive it to its end in
this process, printing its logs live as `lanner run` does: the process that started it may be
gone.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable

from lanner.cli.common import add_home_argument, connect, format_log, load_settings, print_json
from lanner.cli.run import _print_log, _wait_or_kill, parse_inputs, print_summary
from lanner.clock import format_instant
from lanner.exceptions import IllegalStateError, LannerError, NotFoundError
from lanner.executions import Execution, Level
from lanner.runner import Runner
from lanner.states import State

Operation = Callable[[Runner], Awaitable[Execution]]


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "executions",
        help="list, show, restart, replay or kill stored executions",
        description="Read stored executions, or restart, replay or kill one.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="list executions, newest first")
    listing.add_argument("--namespace", help="only this namespace (prefix match)")
    listing.add_argument("--flow", dest="flow_id", help="only this flow id")
    listing.add_argument(
        "--state", action="append", choices=[state.value for state in State], help="repeatable"
    )
    listing.add_argument("--limit", type=int, default=20, help="how many to show (default 20)")
    listing.add_argument("--output", choices=("text", "json"), default="text")
    add_home_argument(listing)
    show = actions.add_parser("show", help="show one execution with its task runs")
    show.add_argument("execution_id", metavar="ID")
    show.add_argument("--output", choices=("text", "json"), default="text")
    add_home_argument(show)
    logs = actions.add_parser("logs", help="print the logs of one execution")
    logs.add_argument("execution_id", metavar="ID")
    logs.add_argument(
        "--level", choices=[level.name for level in Level], help="minimum level (default: all)"
    )
    add_home_argument(logs)
    _add_operation_parsers(actions)


def _add_operation_parsers(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    restart = actions.add_parser(
        "restart",
        help="run the failed task runs of an ended execution again",
        description="Restart an ended execution: its failed (or killed) task runs run again "
        "as a new attempt, in the same execution. Logs are printed live.",
    )
    restart.add_argument("execution_id", metavar="ID")
    restart.add_argument(
        "--revision", type=int, help="restart onto this flow revision (a new execution)"
    )
    replay = actions.add_parser(
        "replay",
        help="run an execution again in a new one, from a task run or the beginning",
        description="Replay an execution: a new execution keeps what ran before the chosen "
        "task run and runs the rest again. Logs are printed live.",
    )
    replay.add_argument("execution_id", metavar="ID")
    replay.add_argument(
        "--task-run", dest="task_run_id", metavar="ID", help="start from this task run"
    )
    replay.add_argument("--revision", type=int, help="replay with this flow revision")
    kill = actions.add_parser("kill", help="kill an execution that has not ended")
    kill.add_argument("execution_id", metavar="ID")
    resume = actions.add_parser(
        "resume",
        help="resume a paused execution",
        description="Resume a PAUSED execution; -i KEY=VALUE answers the onResume inputs of "
        "its Pause tasks. Logs are printed live until the execution ends.",
    )
    resume.add_argument("execution_id", metavar="ID")
    resume.add_argument(
        "-i",
        "--input",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an onResume input value (repeatable); KEY=@path uploads a file",
    )
    for parser in (restart, replay, kill, resume):
        parser.add_argument(
            "--output",
            choices=("text", "json"),
            default="text",
            help="text: logs and a summary; json: the execution JSON, logs on stderr",
        )
        add_home_argument(parser)


def command(args: argparse.Namespace) -> int:
    handlers = {
        "list": _list,
        "show": _show,
        "logs": _logs,
        "restart": _restart,
        "replay": _replay,
        "kill": _kill,
        "resume": _resume,
    }
    return asyncio.run(handlers[args.action](args))


async def _list(args: argparse.Namespace) -> int:
    store = await connect(load_settings(args))
    try:
        page = await store.search_executions(
            namespace=args.namespace,
            flow_id=args.flow_id,
            states=[State(state) for state in args.state] if args.state else None,
            size=args.limit,
        )
    finally:
        await store.close()
    if args.output == "json":
        print_json({"results": [item.to_json() for item in page.results], "total": page.total})
        return 0
    print(f"{'ID':<22}  {'STATE':<9}  {'START':<24}  {'DURATION':>9}  FLOW")
    for execution in page.results:
        print(
            f"{execution.id:<22}  {execution.current.value:<9}  "
            f"{format_instant(execution.state.start_date):<24}  "
            f"{execution.state.duration.total_seconds():>8.3f}s  "
            f"{execution.namespace}.{execution.flow_id}"
        )
    print(f"{len(page.results)} of {page.total} executions")
    return 0


async def _show(args: argparse.Namespace) -> int:
    store = await connect(load_settings(args))
    try:
        execution = await store.get_execution(args.execution_id)
    finally:
        await store.close()
    if execution is None:
        print(f"Unable to find execution '{args.execution_id}'", file=sys.stderr)
        return 1
    if args.output == "json":
        print_json(execution.to_json())
    else:
        print_summary(execution, sys.stdout)
    return 0


async def _logs(args: argparse.Namespace) -> int:
    store = await connect(load_settings(args))
    try:
        execution = await store.get_execution(args.execution_id)
        if execution is None:
            print(f"Unable to find execution '{args.execution_id}'", file=sys.stderr)
            return 1
        level = Level[args.level] if args.level else None
        entries = await store.get_logs(args.execution_id, min_level=level)
    finally:
        await store.close()
    for entry in entries:
        print(format_log(entry))
    return 0


async def _restart(args: argparse.Namespace) -> int:
    return await _operate(args, lambda runner: runner.restart(args.execution_id, args.revision))


async def _replay(args: argparse.Namespace) -> int:
    return await _operate(
        args, lambda runner: runner.replay(args.execution_id, args.task_run_id, args.revision)
    )


async def _kill(args: argparse.Namespace) -> int:
    async def kill(runner: Runner) -> Execution:
        execution = await runner.store.get_execution(args.execution_id)
        if execution is None:
            raise NotFoundError(f"Unable to find execution '{args.execution_id}'")
        if execution.current.is_terminated():
            raise IllegalStateError(
                f"Execution '{execution.id}' already ended {execution.current.value}"
            )
        await runner.kill(execution.id)
        return execution

    return await _operate(args, kill, success=(State.KILLED,))


async def _resume(args: argparse.Namespace) -> int:
    async def resume(runner: Runner) -> Execution:
        await runner.resume(args.execution_id, parse_inputs(args.input))
        execution = await runner.store.get_execution(args.execution_id)
        assert execution is not None  # resume() raised NotFoundError otherwise
        return execution

    return await _operate(args, resume)


async def _operate(
    args: argparse.Namespace,
    operation: Operation,
    success: tuple[State, ...] = (State.SUCCESS, State.WARNING),
) -> int:
    """Apply an operation, drive its execution to the end with live logs, print the outcome."""
    settings = load_settings(args)
    store = await connect(settings)
    log_stream = sys.stderr if args.output == "json" else sys.stdout
    try:
        async with Runner(settings, store) as runner:
            runner.add_log_listener(lambda entry: _print_log(entry, log_stream))
            try:
                started = await operation(runner)
            except LannerError as exc:
                print(exc, file=sys.stderr)
                return 1
            execution = await _wait_or_kill(runner, started.id)
    finally:
        await store.close()
    if args.output == "json":
        print_json(execution.to_json())
    else:
        print_summary(execution, sys.stdout)
    return 0 if execution.current in success else 1
