"""Helpers the sub-commands share: the home directory option, opening the store, printing."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, TextIO

from lanner.clock import format_instant
from lanner.executions import Execution, LogEntry
from lanner.settings import Settings
from lanner.store import Store, open_configured_store


def add_home_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--home",
        metavar="DIR",
        help="where lanner keeps its database and files (default: $LANNER_HOME or ~/.lanner)",
    )


def load_settings(args: argparse.Namespace) -> Settings:
    return Settings.load(home=getattr(args, "home", None))


async def connect(settings: Settings) -> Store:
    """Open the store the settings name, creating the home directory if needed."""
    settings.home.mkdir(parents=True, exist_ok=True)
    return await open_configured_store(settings)


def format_log(entry: LogEntry) -> str:
    """Format a log line as `time LEVEL task message`."""
    task = entry.task_id or "-"
    return f"{format_instant(entry.timestamp)} {entry.level.name:<5} {task} {entry.message}"


def print_json(data: Any, stream: TextIO | None = None) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False), file=stream or sys.stdout)


def seconds(execution: Execution) -> float:
    return execution.state.duration.total_seconds()


def discard_output(stream: TextIO) -> None:
    """Send what is still written to `stream` nowhere: its reader has gone away.

    `lanner run f.yml | head` closes the pipe after a few lines; the execution still runs to
    its end, and closing the stream at exit must not fail again.
    """
    with_null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(with_null, stream.fileno())
    finally:
        os.close(with_null)
