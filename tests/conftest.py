"""Fixtures every test folder shares: the store backends and the database behind a server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from lanner.storage import FsspecStorage, LocalStorage, Storage, storage_at
from lanner.store import MemoryStore, PostgresStore, SqliteStore, Store
from tests import postgres, s3


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


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """The endpoint URL of this test session's S3-compatible server on 127.0.0.1."""
    with s3.s3_server() as endpoint:
        yield endpoint


STORAGES = ["local", "fsspec-file", "s3"]


@pytest.fixture(params=STORAGES)
def any_storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    """An empty internal storage of each kind: a directory, fsspec on a directory, S3.

    `fsspec-file` runs the fsspec implementation on the local disk: what is generic in it is
    tested without a server, and what differs on S3 (no folders) shows by comparison.
    """
    if request.param == "local":
        return LocalStorage(tmp_path / "storage")
    if request.param == "fsspec-file":
        from fsspec.implementations.local import LocalFileSystem

        root = tmp_path / "fsspec-storage"
        return FsspecStorage(LocalFileSystem(), root.as_posix(), f"file://{root}")
    endpoint: str = request.getfixturevalue("s3_endpoint")
    return storage_at(f"s3://{s3.new_bucket(endpoint)}/lanner", s3.s3_options(endpoint))
