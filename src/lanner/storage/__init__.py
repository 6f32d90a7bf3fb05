"""Internal storage: the files behind `kestra://` URIs (see `base` for the contract)."""

from __future__ import annotations

from lanner.storage.base import (
    SCHEME,
    Entry,
    Storage,
    execution_prefix,
    file_uri,
    key_of,
    run_storage,
    slugify,
    task_prefix,
)
from lanner.storage.config import open_storage, storage_at, storage_location
from lanner.storage.fsspec_storage import FsspecStorage
from lanner.storage.local import LocalStorage

__all__ = [
    "SCHEME",
    "Entry",
    "FsspecStorage",
    "LocalStorage",
    "Storage",
    "execution_prefix",
    "file_uri",
    "key_of",
    "open_storage",
    "run_storage",
    "slugify",
    "storage_at",
    "storage_location",
    "task_prefix",
]
