"""Fixtures every test folder shares: the store backends and the database behind a server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from lanner.store import MemoryStore, PostgresStore, SqliteStore, Store
from tests import postgres


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of this test session on the tests' PostgreSQL server, dropped at the end."""
    reason = postgres.unreachable_reason()
    if reason is not None:
        if postgres.REQUIRED:
            pytest.fail(reason)
        pytest.skip(reason)
    with postgres.database() as url:
        yield url


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database: SQLite by default, or the `request.param` backend.

    A module runs its tests on both with
    `pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)`.
    """
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'home' / 'lanner.db'}"
    url: str = request.getfixturevalue("postgres_url")
    postgres.clear(url)
    return url


BACKENDS = ["memory", "sqlite", "postgres"]


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """An empty store of each backend: behaviour tests run on every one."""
    opened: Store
    if request.param == "memory":
        opened = MemoryStore()
    elif request.param == "sqlite":
        opened = SqliteStore.open(tmp_path / "lanner.db")
    else:
        url: str = request.getfixturevalue("postgres_url")
        postgres.clear(url)
        opened = await PostgresStore.open(url)
    try:
        yield opened
    finally:
        await opened.close()
