"""`open_store()`: which backend a URL or a path opens, and the package's public names."""

from __future__ import annotations

from pathlib import Path

import pytest

import lanner.store
from lanner.exceptions import StoreError
from lanner.store import MemoryStore, PostgresStore, SqliteStore, open_store
from tests import postgres


async def test_memory_url() -> None:
    store = await open_store("memory://")

    assert isinstance(store, MemoryStore)
    await store.close()


@pytest.mark.parametrize("form", ["url-absolute", "bare-path", "path-object"])
async def test_sqlite_forms(tmp_path: Path, form: str) -> None:
    file = tmp_path / "home" / "lanner.db"
    targets: dict[str, str | Path] = {
        "url-absolute": f"sqlite:///{file}",
        "bare-path": str(file),
        "path-object": file,
    }

    store = await open_store(targets[form])

    try:
        assert isinstance(store, SqliteStore)
        assert store.path == file
        assert file.is_file()
    finally:
        await store.close()


async def test_sqlite_url_with_a_relative_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    store = await open_store("sqlite:///data/lanner.db")

    await store.close()
    assert (tmp_path / "data" / "lanner.db").is_file()


@pytest.mark.parametrize("url", ["mysql://x", "sqlite://host/x", "postgresql+psycopg://x"])
async def test_unsupported_urls(url: str) -> None:
    with pytest.raises(StoreError, match="Unsupported database URL") as raised:
        await open_store(url)

    assert "postgresql://USER@HOST:PORT/DATABASE" in str(raised.value)


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
async def test_postgresql_urls(postgres_url: str, scheme: str) -> None:
    url = scheme + postgres_url.removeprefix("postgresql")

    store = await open_store(url)

    try:
        assert isinstance(store, PostgresStore)
        assert (await store.save_flow("company.team", "hello", "id: hello\n")).revision >= 1
    finally:
        await store.close()


async def test_a_missing_postgresql_database_is_named_in_the_error(postgres_url: str) -> None:
    url = postgres.url_of("lanner_no_such_database")

    with pytest.raises(StoreError, match="Unable to open the database") as raised:
        await open_store(url)

    assert url in str(raised.value)
    assert 'database "lanner_no_such_database" does not exist' in str(raised.value)


async def test_the_password_is_not_shown_in_errors() -> None:
    # Port 1 on the loopback: nothing listens, the connection is refused at once.
    url = "postgresql://lanner:s3cret@127.0.0.1:1/lanner"

    with pytest.raises(StoreError, match="Unable to open the database") as raised:
        await open_store(url)

    assert "postgresql://lanner:***@127.0.0.1:1/lanner" in str(raised.value)
    assert "s3cret" not in str(raised.value)


def test_public_names() -> None:
    assert sorted(lanner.store.__all__) == [
        "FlowRecord",
        "KVEntry",
        "KVStore",
        "KVType",
        "LogTail",
        "MemoryStore",
        "Page",
        "PostgresStore",
        "SqliteStore",
        "Store",
        "open_configured_store",
        "open_store",
    ]
