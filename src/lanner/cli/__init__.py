"""The `lanner` command line: one module per sub-command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from lanner import __version__
from lanner.cli import curl, executions, run, server, validate
from lanner.cli.common import discard_output


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of `lanner` with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="lanner", description="Run Kestra flows unchanged, in Python."
    )
    parser.add_argument("--version", action="version", version=f"lanner {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    run.add_parser(subparsers)
    validate.add_parser(subparsers)
    executions.add_parser(subparsers)
    server.add_parser(subparsers)
    curl.add_parser(subparsers)
    return parser


_COMMANDS = {
    "run": run.command,
    "validate": validate.command,
    "executions": executions.command,
    "server": server.command,
    "curl": curl.command,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    command = _COMMANDS.get(args.command or "")
    if command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return command(args)
    except BrokenPipeError:
        # The reader went away (`lanner executions list | head`): stop quietly.
        discard_output(sys.stdout)
        return 141  # 128 + SIGPIPE, the shell's status for a command killed by it
