"""The tests' PostgreSQL: a database of their own on the machine's server, made and dropped.

The server is `LANNER_TEST_POSTGRES_URL` (default: the `postgres` user on 127.0.0.1:5432, trust
authentication). Where it cannot be reached the PostgreSQL tests skip, saying why, unless
`LANNER_TEST_POSTGRES=required` (set by `scripts/test` once it started the server): then they fail.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

__all__ = [
    "ADMIN_URL",
    "REQUIRED",
    "clear",
    "database",
    "unreachable_reason",
    "url_of",
]

ADMIN_URL = os.environ.get(
    "LANNER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REQUIRED = os.environ.get("LANNER_TEST_POSTGRES") == "required"


@cache
def unreachable_reason() -> str | None:
    """Return why the tests' PostgreSQL server cannot be used, or None when it can."""
    try:
        with psycopg.connect(ADMIN_URL, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return (
            f"PostgreSQL is not reachable at {ADMIN_URL} ({first_line}); start it"
            " (scripts/test does) or set LANNER_TEST_POSTGRES_URL"
        )


def url_of(name: str) -> str:
    """Return the URL of database `name` on the tests' server."""
    parts = urlsplit(ADMIN_URL)
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextmanager
def database(prefix: str = "lanner_test", options: str = "") -> Iterator[str]:
    """Create an empty database with a random name; drop it afterwards. Yield its URL.

    `options` follow CREATE DATABASE's name (a locale, say); they are the tests' own text.
    """
    name = f"{prefix}_{secrets.token_hex(4)}"
    create = sql.SQL("CREATE DATABASE {} " + options).format(sql.Identifier(name))
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(create)
        # Tests need no durability against a crash of the server, only against a killed
        # client, which committed transactions survive either way; not waiting for the
        # disk at each commit makes them several times faster.
        quick = sql.SQL("ALTER DATABASE {} SET synchronous_commit = off")
        admin.execute(quick.format(sql.Identifier(name)))
    try:
        yield url_of(name)
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            admin.execute(drop.format(sql.Identifier(name)))


def clear(url: str) -> None:
    """Empty every table lanner made in the database, keeping the schema and its version."""
    with psycopg.connect(url, autocommit=True) as db:
        found = db.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            " AND tablename <> 'schema_migrations'"
        )
        tables = [sql.Identifier(name) for (name,) in found.fetchall()]
        if tables:
            db.execute(sql.SQL("TRUNCATE {} RESTART IDENTITY").format(sql.SQL(", ").join(tables)))
