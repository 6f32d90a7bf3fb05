"""`lanner executions list|show|logs`: read what the store keeps."""

from __future__ import annotations

import argparse
import asyncio
import sys

from lanner.cli.common import add_home_argument, connect, format_log, load_settings, print_json
from lanner.cli.run import print_summary
from lanner.clock import format_instant
from lanner.executions import Level
from lanner.states import State


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "executions", help="list and show stored executions", description="Read stored executions."
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


def command(args: argparse.Namespace) -> int:
    handlers = {"list": _list, "show": _show, "logs": _logs}
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
