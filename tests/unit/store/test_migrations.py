"""The SQLite and PostgreSQL schemas move in lockstep: one migration for each, always both."""

from __future__ import annotations

from lanner.store.schema import migrations


def test_both_dialects_have_the_same_migrations() -> None:
    sqlite = [(migration.version, migration.name) for migration in migrations("sqlite")]
    postgres = [(migration.version, migration.name) for migration in migrations("postgres")]

    assert sqlite == postgres


def test_versions_count_up_from_one_without_gaps() -> None:
    versions = [migration.version for migration in migrations("sqlite")]

    assert versions == list(range(1, len(versions) + 1))
