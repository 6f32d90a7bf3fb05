"""Internal storage on any fsspec file system: S3 and S3-compatible stores, GCS, Azure, memory...

The key `a/b` is the path `<root>/a/b` of the file system (`root` is `bucket/prefix` for S3).
Object stores have no folders: a folder exists while a file lies under it, and an empty folder
is kept as a marker object named `<folder>/` (what S3 consoles create). Listings are read
fresh each time: several processes write to the same bucket, so fsspec's listing cache would
show stale folders.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from datetime import datetime
from typing import Any, BinaryIO, cast

from lanner.storage.base import CHUNK, Entry, Storage, checked_parts

BLOCK = 8 << 20
"""Bytes an fsspec file buffers before a request: S3 uploads parts of this size (5 MiB at least),
and reads fetch ranges of it. It bounds the memory a transfer takes, whatever the file's size."""


class FsspecStorage(Storage):
    """Files of an fsspec file system under a root path."""

    # Every call may be a round trip to a server (S3...): async code runs it in a thread.
    quick_io = False

    def __init__(self, fs: Any, root: str, location: str) -> None:
        # fsspec is not typed: `fs` is an `fsspec.AbstractFileSystem`.
        self.fs = fs
        self.root = root.rstrip("/")
        self.location = location

    def stat(self, key: str) -> Entry | None:
        self.fs.invalidate_cache()
        try:
            info = self.fs.info(self._path(key))
        except (FileNotFoundError, NotADirectoryError):
            return None
        return _entry(key, info)

    def children(self, key: str) -> list[Entry]:
        folder = self._path(key)
        self.fs.invalidate_cache()
        try:
            listed = self.fs.ls(folder, detail=True)
        except (FileNotFoundError, NotADirectoryError):
            return []
        prefix = folder + "/"
        return [
            _entry(f"{key}/{name}" if key else name, info)
            for info in listed
            if (name := _relative(info["name"], prefix)) and "/" not in name
        ]

    def files_under(self, key: str) -> list[str]:
        folder = self._path(key)
        self.fs.invalidate_cache()
        try:
            found = self.fs.find(folder, detail=True)
        except FileNotFoundError:
            return []
        prefix = self.root + "/" if self.root else ""
        return [
            name[len(prefix) :]
            for name, info in found.items()
            if info["type"] != "directory"
            and name.startswith(folder + "/")
            and not name.endswith("/")
        ]

    def reader(self, key: str) -> BinaryIO:
        path = self._path(key)
        self.fs.invalidate_cache()
        # S3 opens a "folder" (a prefix) as an empty file: ask first.
        if self.fs.isdir(path):
            raise IsADirectoryError(f"'{key}' is a folder")
        return cast(BinaryIO, self.fs.open(path, "rb", block_size=BLOCK))

    @contextmanager
    def writer(self, key: str) -> Iterator[BinaryIO]:
        path = self._path(key)
        handle = self._open_for_writing(path)
        try:
            yield handle
        except BaseException:
            self._abandon(handle, path)
            raise
        handle.close()

    def make_folder(self, key: str) -> None:
        path = self._path(key)
        self.fs.makedirs(path, exist_ok=True)
        self.fs.invalidate_cache()
        if not self.fs.isdir(path):
            self.fs.pipe_file(path + "/", b"")

    def remove(self, key: str) -> None:
        path = self._path(key)
        self.fs.invalidate_cache()
        if self.fs.isdir(path):
            with suppress(FileNotFoundError):
                self.fs.rm(path, recursive=True)
            # Some file systems leave the folder's own marker behind.
            with suppress(FileNotFoundError):
                self.fs.rm_file(path + "/")
        else:
            with suppress(FileNotFoundError):
                self.fs.rm_file(path)

    def rename(self, source: str, target: str) -> None:
        entry = self.stat(source)
        if entry is None:
            raise FileNotFoundError(f"no file or folder at '{source}'")
        if not entry.is_dir:
            self._copy(source, target)
        else:
            for key in self.files_under(source):
                self._copy(key, target + key[len(source) :])
            for folder in self._empty_folders(source):
                self.make_folder(target + folder[len(source) :])
            self.make_folder(target)
        self.remove(source)

    def _empty_folders(self, key: str) -> list[str]:
        """Return the folders below `key` that hold nothing (those a copy of files would lose)."""
        empty = []
        for entry in self.children(key):
            if entry.is_dir:
                inner = self._empty_folders(entry.key)
                empty += inner or ([] if self.files_under(entry.key) else [entry.key])
        return empty

    def _copy(self, source: str, target: str) -> None:
        with self.reader(source) as origin, self.writer(target) as copy:
            shutil.copyfileobj(origin, copy, CHUNK)

    def _abandon(self, handle: Any, path: str) -> None:
        """Throw away a failed write, keeping the old content where the backend can."""
        from fsspec.spec import AbstractBufferedFile

        if isinstance(handle, AbstractBufferedFile):
            # Object stores (S3...): abort the upload and drop the buffer; closing would
            # store what was buffered, so the file is marked closed instead.
            handle.discard()
            handle.closed = True
            return
        # Others write in place: what was written goes, and the old content with it.
        handle.close()
        with suppress(FileNotFoundError):
            self.fs.rm_file(path)

    def _open_for_writing(self, path: str) -> Any:
        try:
            return self.fs.open(path, "wb", block_size=BLOCK)
        except FileNotFoundError:
            # A file system with real folders (local, SMB...) wants the parents first.
            self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
            return self.fs.open(path, "wb", block_size=BLOCK)

    def _path(self, key: str) -> str:
        return "/".join([self.root, *checked_parts(key)]) if self.root else key


def _relative(name: str, prefix: str) -> str:
    """Return `name` without `prefix`, "" for the folder itself or its marker."""
    return name[len(prefix) :].rstrip("/") if name.startswith(prefix) else ""


def _entry(key: str, info: Mapping[str, Any]) -> Entry:
    is_dir = info.get("type") == "directory"
    modified = _seconds(info.get("mtime") or info.get("LastModified") or info.get("last_modified"))
    created = _seconds(info.get("created") or info.get("creation_time")) or modified
    size = 0 if is_dir else int(info.get("size") or 0)
    return Entry(key, is_dir, size, modified, created)


def _seconds(value: Any) -> float:
    """Read a time as backends give it (epoch seconds, datetime, ISO text); 0 when unknown."""
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        with suppress(ValueError):
            return datetime.fromisoformat(value).timestamp()
    return 0.0
