"""`lanner curl import|export`: from a cURL command to a Request task, and back."""

from __future__ import annotations

import argparse
import asyncio
import sys

from lanner.cli.common import add_home_argument, connect, load_settings
from lanner.curl_export import curl_command, find_task_run, recorded_exchange
from lanner.curl_import import flow_yaml, import_curl, task_yaml
from lanner.exceptions import LannerError, NotFoundError
from lanner.storage import open_storage


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "curl",
        help="translate a cURL command to a Request task, or a task run back to cURL",
        description="Translate between cURL commands and Request tasks (docs/curl.md).",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    importing = actions.add_parser(
        "import",
        help="print the Request task sending what a cURL command sends",
        description="Print the Request task (YAML) sending what the cURL command sends. "
        "Give the command as one argument ('curl -X POST ...'), as several after '--', "
        "or '-' to read it from standard input.",
    )
    importing.add_argument("words", nargs="+", metavar="COMMAND")
    importing.add_argument("--id", default="request", help="the task id (default: request)")
    importing.add_argument(
        "--flow", metavar="FLOW_ID", help="print a whole flow with this id around the task"
    )
    importing.add_argument("--namespace", default="company.team", help="the flow's namespace")
    exporting = actions.add_parser(
        "export",
        help="print the cURL command of an executed Request task run",
        description="Print the cURL command repeating the request a Request task run sent, "
        "read from the exchange it recorded. Secrets stay masked.",
    )
    exporting.add_argument("execution_id", metavar="EXECUTION_ID")
    exporting.add_argument("task", metavar="TASK", help="a task id, or a task run id")
    add_home_argument(exporting)


def command(args: argparse.Namespace) -> int:
    try:
        if args.action == "import":
            print(_import(args), end="")
        else:
            print(asyncio.run(_export(args)))
    except LannerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _import(args: argparse.Namespace) -> str:
    words: list[str] = args.words
    if words == ["-"]:
        source: str | list[str] = sys.stdin.read()
    elif len(words) == 1:
        source = words[0]
    else:
        source = words
    task = import_curl(source, args.id)
    if args.flow:
        return flow_yaml(task, args.flow, args.namespace)
    return task_yaml(task)


async def _export(args: argparse.Namespace) -> str:
    settings = load_settings(args)
    store = await connect(settings)
    try:
        execution = await store.get_execution(args.execution_id)
    finally:
        await store.close()
    if execution is None:
        raise NotFoundError(f"Unable to find execution '{args.execution_id}'")
    run = find_task_run(execution, args.task)
    _, har = recorded_exchange(open_storage(settings), execution, run)
    return curl_command(har)
