"""Internal storage in a local directory: the key `a/b` is the file `<root>/a/b`.

The directory may be a network file system (NFS, SMB, a cloud file share) mounted at the same
path on every machine: writes go to a temporary name then are renamed, which such file
systems do atomically, so a reader on another machine never sees half a file.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from stat import S_ISDIR
from typing import BinaryIO

from lanner.storage.base import Entry, Storage, checked_parts, join

# Files being written carry this prefix until they are complete: no listing shows them.
PARTIAL = ".lanner-partial-"
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL


class LocalStorage(Storage):
    """Files under one root directory; a URI `kestra:///a/b` is the file `<root>/a/b`."""

    # A file written or read here takes less time than handing the call to a thread: async
    # code calls it inline (a network file system mounted here is taken as quick too).
    quick_io = True

    def __init__(self, root: Path) -> None:
        self.root = root
        self.location = str(root)

    def stat(self, key: str) -> Entry | None:
        path = self._path(key)
        try:
            status = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        return _entry(key, status)

    def children(self, key: str) -> list[Entry]:
        folder = self._path(key)
        if not folder.is_dir():
            return []
        found = []
        for child in folder.iterdir():
            entry = None if _partial(child) else self.stat(join(key, child.name))
            if entry is not None:
                found.append(entry)
        return found

    def files_under(self, key: str) -> list[str]:
        folder = self._path(key)
        if not folder.is_dir():
            return []
        return [
            join(key, path.relative_to(folder).as_posix())
            for path in folder.rglob("*")
            if path.is_file() and not _partial(path)
        ]

    def reader(self, key: str) -> BinaryIO:
        return self._path(key).open("rb")

    @contextmanager
    def writer(self, key: str) -> Iterator[BinaryIO]:
        # Plain strings rather than Paths: this runs for every file a task writes.
        path = os.path.join(self.location, *checked_parts(key))
        folder = os.path.dirname(path)
        temporary = os.path.join(folder, f"{PARTIAL}{uuid.uuid4().hex}")
        descriptor = _create(temporary, folder)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                yield handle
            os.replace(temporary, path)
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(temporary)
            raise

    def make_folder(self, key: str) -> None:
        self._path(key).mkdir(parents=True, exist_ok=True)

    def remove(self, key: str) -> None:
        path = self._path(key)
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=False)
        else:
            path.unlink(missing_ok=True)

    def rename(self, source: str, target: str) -> None:
        destination = self._path(target)
        destination.parent.mkdir(parents=True, exist_ok=True)
        self._path(source).rename(destination)

    def escapes(self, key: str, within: str) -> bool:
        folder = self._path(within).resolve()
        return not self._path(key).resolve().is_relative_to(folder)

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*checked_parts(key))


def _create(path: str, folder: str) -> int:
    """Create a new file for writing, and its folder with its parents when missing.

    The file is tried first: a folder usually exists already, and checking it with `mkdir`
    costs a system call about as dear as creating the file. os.open with 0o666 lets the umask
    decide the mode, as for any file the user creates (a shared directory may be read by
    processes running as other users).
    """
    try:
        return os.open(path, _NEW_FILE, 0o666)
    except (FileNotFoundError, NotADirectoryError):
        # Path.mkdir tries the folder itself before looking at its parents (os.makedirs
        # looks first), and raises FileExistsError when `folder` is a file.
        Path(folder).mkdir(parents=True, exist_ok=True)
    return os.open(path, _NEW_FILE, 0o666)


def _entry(key: str, status: os.stat_result) -> Entry:
    is_dir = S_ISDIR(status.st_mode)
    # Linux gives no creation time through os.stat on Python 3.11: fall back to ctime.
    created = getattr(status, "st_birthtime", status.st_ctime)
    return Entry(key, is_dir, 0 if is_dir else status.st_size, status.st_mtime, created)


def _partial(path: Path) -> bool:
    return path.name.startswith(PARTIAL)
