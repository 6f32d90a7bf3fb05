"""The `store` fixture: every behaviour test runs on each backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from lanner.store import MemoryStore, SqliteStore, Store


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    opened: Store = (
        MemoryStore() if request.param == "memory" else SqliteStore.open(tmp_path / "lanner.db")
    )
    try:
        yield opened
    finally:
        await opened.close()
