"""What `lanner server` says about where its data is."""

from __future__ import annotations

from pathlib import Path

from lanner.server import where_data_is
from lanner.settings import Settings


def test_sqlite_names_the_home_directory(tmp_path: Path) -> None:
    settings = Settings.load(home=tmp_path, environ={})
    assert where_data_is(settings) == f"data in {tmp_path}"


def test_postgresql_names_the_database_without_its_password(tmp_path: Path) -> None:
    url = "postgresql://lanner:s3cret@db.internal:5433/lanner"
    settings = Settings.load(home=tmp_path, database_url=url, environ={})
    said = where_data_is(settings)
    assert said == f"data in PostgreSQL at db.internal:5433/lanner, files in {tmp_path / 'storage'}"
    assert "s3cret" not in said
