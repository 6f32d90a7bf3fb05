"""`lanner server MODE`: everything in one process, or one role of a scaled-out deployment.

`local` and `standalone` run the API, UI and engine in one process. `webserver`, `executor`,
`worker` and `scheduler` are the roles of a deployment over one PostgreSQL database: any number
of each, on any machines that share the database and the internal storage.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from dataclasses import replace

from lanner.cli.common import add_home_argument, connect
from lanner.exceptions import LannerError
from lanner.server import serve
from lanner.services import Services
from lanner.settings import Settings
from lanner.storage import open_storage

_ROLES = {
    "webserver": "the API and UI, with no engine (operations go to executors)",
    "executor": "decide executions from the queue's events",
    "worker": "run the tasks of queued jobs",
    "scheduler": "Schedule, HTTP and Flow triggers (one active, the others stand by)",
}


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
    _add_database_arguments(standalone)
    for role, summary in _ROLES.items():
        parser_of_role = modes.add_parser(role, help=summary)
        _add_database_arguments(parser_of_role)
        if role == "webserver":
            _add_listen_arguments(parser_of_role)
        if role == "worker":
            parser_of_role.add_argument(
                "--concurrency",
                type=int,
                metavar="N",
                help="task runs run at once (default: LANNER_WORKER_CONCURRENCY or 256)",
            )


def _add_listen_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port to bind (default 8080)")


def _add_database_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        help="postgresql://USER@HOST:PORT/DATABASE, or sqlite:////PATH.db for standalone"
        " (also LANNER_DATABASE_URL)",
    )
    parser.add_argument(
        "--storage",
        metavar="DIR|URL",
        help="the internal storage, shared by every process: a directory, file:///DIR,"
        " s3://BUCKET/PREFIX or any fsspec URL (also LANNER_STORAGE; default: HOME/storage)",
    )


def command(args: argparse.Namespace) -> int:
    try:
        if args.mode == "local":
            settings = Settings.load(home=args.home)
            open_storage(settings)
            asyncio.run(_check_database(settings))
            serve(settings, args.host, args.port)
            return 0
        settings = _settings(args)
        # A wrong storage URL or option is one clear line here, not a failed startup later.
        open_storage(settings)
        if args.mode == "standalone":
            asyncio.run(_check_database(settings))
            serve(settings, args.host, args.port)
        elif args.mode == "webserver":
            from lanner.roles import check_distributed

            check_distributed(settings, "webserver")
            asyncio.run(_check_database(settings))
            serve(settings, args.host, args.port, Services.webserver)
        else:
            from lanner.roles import run_role

            concurrency = getattr(args, "concurrency", None) or settings.worker_concurrency
            run_role(args.mode, settings, concurrency)
    except (LannerError, ValueError) as exc:
        print(f"lanner server: {exc}", file=sys.stderr)
        return 2
    return 0


async def _check_database(settings: Settings) -> None:
    """Open the database once before serving: a wrong URL is one clear line, not a traceback
    from inside the server's startup; a new database gets its schema here."""
    store = await connect(settings)
    await store.close()


def _settings(args: argparse.Namespace) -> Settings:
    if not (args.database_url or os.environ.get("LANNER_DATABASE_URL")):
        raise LannerError(
            f"{args.mode} needs a database: pass --database-url or set LANNER_DATABASE_URL"
        )
    settings = Settings.load(database_url=args.database_url)
    if args.storage is not None:
        settings = replace(settings, storage_url=args.storage)
    return settings
