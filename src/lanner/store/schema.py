"""Schema migrations shared by the SQL back ends: one numbered script per change and dialect.

`migrations/sqlite/` and `migrations/postgres/` move in lockstep: the same numbers with the same
meaning, each in its dialect.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

from lanner.exceptions import StoreError

__all__ = ["Migration", "check_known", "migrations"]

_MIGRATION_FILE = re.compile(r"(\d+)_(\w+)\.sql")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    script: str


def migrations(dialect: str) -> list[Migration]:
    """Return the migrations of a dialect (`sqlite`, `postgres`), oldest first."""
    folder = resources.files("lanner.store").joinpath("migrations", dialect)
    found = []
    for item in folder.iterdir():
        match = _MIGRATION_FILE.fullmatch(item.name)
        if match is not None:
            version, name = int(match[1]), match[2]
            found.append(Migration(version, name, item.read_text(encoding="utf-8")))
    return sorted(found, key=lambda migration: migration.version)


def check_known(applied: Iterable[int], known: Iterable[Migration], database: str) -> None:
    """Refuse a database migrated by a newer lanner: its schema may mean what this one ignores."""
    unknown = set(applied) - {migration.version for migration in known}
    if unknown:
        raise StoreError(
            f"The database {database} has schema version {max(unknown)}, newer than this"
            " lanner knows; upgrade lanner to open it."
        )
