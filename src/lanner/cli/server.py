"""`lanner server local|standalone`: the API, UI and engine in one process."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from lanner.cli.common import add_home_argument, connect
from lanner.exceptions import LannerError
from lanner.server import serve
from lanner.settings import Settings


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "server", help="run the server", description="Run lanner's server: API, UI and engine."
    )
    modes = parser.add_subparsers(dest="mode", metavar="MODE", required=True)
    local = modes.add_parser(
        "local", help="everything in one process on SQLite under the home directory"
    )
    _add_listen_arguments(local)
    add_home_argument(local)
    standalone = modes.add_parser(
        "standalone", help="everything in one process, with explicit database and storage"
    )
    _add_listen_arguments(standalone)
    standalone.add_argument(
        "--database-url",
        help="sqlite:////absolute/path.db or postgresql://USER@HOST:PORT/DATABASE"
        " (default: LANNER_DATABASE_URL)",
    )
    standalone.add_argument(
        "--storage", required=True, metavar="DIR", help="directory of the internal storage"
    )


def _add_listen_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port to bind (default 8080)")


def command(args: argparse.Namespace) -> int:
    try:
        if args.mode == "standalone":
            if not (args.database_url or os.environ.get("LANNER_DATABASE_URL")):
                raise LannerError(
                    "standalone needs a database: pass --database-url or set LANNER_DATABASE_URL"
                )
            settings = Settings.load(database_url=args.database_url)
            settings = _with_storage(settings, args.storage)
        else:
            settings = Settings.load(home=args.home)
        asyncio.run(_check_database(settings))
        serve(settings, args.host, args.port)
    except (LannerError, ValueError) as exc:
        print(f"lanner server: {exc}", file=sys.stderr)
        return 2
    return 0


async def _check_database(settings: Settings) -> None:
    """Open the database once before serving: a wrong URL is one clear line, not a traceback
    from inside the server's startup; a new database gets its schema here."""
    store = await connect(settings)
    await store.close()


def _with_storage(settings: Settings, storage: str) -> Settings:
    from dataclasses import replace
    from pathlib import Path

    return replace(settings, storage_root=Path(storage).expanduser())
