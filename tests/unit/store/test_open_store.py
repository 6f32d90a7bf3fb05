"""`open_store()`: which backend a URL or a path opens, and the package's public names."""

from __future__ import annotations

from pathlib import Path

import pytest

import lanner.store
from lanner.exceptions import StoreError
from lanner.store import MemoryStore, SqliteStore, open_store


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


@pytest.mark.parametrize("url", ["postgresql://localhost/lanner", "mysql://x", "sqlite://host/x"])
async def test_unsupported_urls(url: str) -> None:
    with pytest.raises(StoreError, match="Unsupported database URL"):
        await open_store(url)


def test_public_names() -> None:
    assert sorted(lanner.store.__all__) == [
        "FlowRecord",
        "KVEntry",
        "KVStore",
        "KVType",
        "MemoryStore",
        "Page",
        "SqliteStore",
        "Store",
        "open_store",
    ]
