"""Namespace files: files a namespace shares with its flows (scripts, SQL, templates...).

The files of namespace `company.team` live in the internal storage under the key
`namespaces/company.team/_files/` (a folder of a local storage's directory, a prefix in a
bucket) and are named by `/`-rooted paths (`/scripts/etl.py`), as Kestra names them. A path
can never reach outside that folder: `..`, NUL and backslashes are refused, and so is any path
whose real location (after following symbolic links, in a local storage) is not inside it.
Such refusals are `LannerError`s (HTTP 422); an operation the files in place do not allow
(writing over a folder, moving onto an existing file) is an `IllegalStateError` (HTTP 409); an
absent file or folder is a `NotFoundError` (HTTP 404).

The top folder `_flows` is reserved, as in Kestra: uploading `/_flows/<name>.yml` imports a flow
instead of storing a file (the API does that), and no other operation may touch it.

Everything here is synchronous I/O: async callers run it in a thread.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePosixPath
from typing import Any

from lanner.exceptions import IllegalStateError, LannerError, NotFoundError
from lanner.flows import NAMESPACE_PATTERN
from lanner.storage import Entry, Storage

__all__ = [
    "FLOWS_FOLDER",
    "PATH_PATTERN",
    "ZIP_EXPANSION_LIMIT",
    "FileInfo",
    "FileType",
    "NamespaceFiles",
    "flow_file_name",
    "normalize",
    "unzip",
]

FLOWS_FOLDER = "_flows"
ROOT = "/"
ZIP_EXPANSION_LIMIT = 1 << 30
"""Most bytes an uploaded archive may expand to: a small zip must not fill the disk."""

# Longest file or folder name common file systems accept (bytes); longer ones fail deep in
# the OS with an error that would leak the storage path.
_MAX_NAME_BYTES = 255
_MAX_NAMESPACE = 150
_NAMESPACE = re.compile(NAMESPACE_PATTERN)
# A segment is any name but `..`, without `/`, `\` or NUL. Written without look-arounds so that
# every regex engine (the API document's readers) understands it.
_SEGMENT = r"(?:[^/\\\x00.][^/\\\x00]*|\.[^/\\\x00.][^/\\\x00]*|\.\.[^/\\\x00]+|\.)"
PATH_PATTERN = rf"^/*(?:{_SEGMENT}(?:/+{_SEGMENT})*)?/*$"
"""The paths `normalize` accepts (but for the length of names), as a regular expression."""
_CHUNK = 1 << 16


class FileType(StrEnum):
    File = "File"
    Directory = "Directory"


@dataclass(frozen=True)
class FileInfo:
    """What Kestra's `FileAttributes` tell about a file or folder; times in epoch milliseconds."""

    file_name: str
    type: FileType
    size: int
    last_modified_time: int
    creation_time: int

    def to_json(self) -> dict[str, Any]:
        return {
            "fileName": self.file_name,
            "type": self.type.value,
            "size": self.size,
            "lastModifiedTime": self.last_modified_time,
            "creationTime": self.creation_time,
        }


def normalize(path: str | None) -> str:
    """Return the canonical `/`-rooted form of a namespace file path (`None` is the root).

    `a//b/./c/` becomes `/a/b/c`; a missing leading `/` is added. `..`, NUL, backslashes and
    over-long names raise `LannerError`.
    """
    if not path:
        return ROOT
    if "\0" in path or "\\" in path:
        raise LannerError(f"Invalid path '{_printable(path)}': NUL and '\\' are not allowed")
    parts = [part for part in path.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise LannerError(f"Invalid path '{path}': '..' is not allowed")
    for part in parts:
        if len(part.encode()) > _MAX_NAME_BYTES:
            raise LannerError(
                f"Invalid path '{path}': a file or folder name exceeds {_MAX_NAME_BYTES} bytes"
            )
    return ROOT + "/".join(parts)


def flow_file_name(path: str) -> str | None:
    """Return `<name>` when `path` is `/_flows/<name>` (an upload that imports a flow)."""
    parts = PurePosixPath(normalize(path)).parts[1:]
    if len(parts) == 2 and parts[0] == FLOWS_FOLDER:
        return parts[1]
    return None


def unzip(data: bytes, limit: int = ZIP_EXPANSION_LIMIT) -> list[tuple[str, bytes]]:
    """Return the files of a zip archive as (normalized path, content), folders left out.

    Every entry is checked before anything is returned, so a bad archive writes nothing.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise LannerError(f"Invalid zip archive: {exc}") from exc
    files: list[tuple[str, bytes]] = []
    budget = limit
    with archive:
        for member in archive.infolist():
            if member.is_dir():
                continue
            path = normalize(member.filename)
            content = _read_member(archive, member, budget)
            if len(content) > budget:
                raise LannerError(f"Invalid zip archive: it expands to more than {limit} bytes")
            budget -= len(content)
            files.append((path, content))
    return files


def _read_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, budget: int) -> bytes:
    """Read an entry, stopping once it passes `budget` bytes (declared sizes can lie)."""
    out = bytearray()
    try:
        with archive.open(member) as stream:
            while len(out) <= budget and (chunk := stream.read(_CHUNK)):
                out += chunk
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, EOFError) as exc:
        raise LannerError(f"Invalid zip archive entry '{member.filename}': {exc}") from exc
    return bytes(out)


class NamespaceFiles:
    """The namespace files kept in one internal storage."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    # -- reading ----------------------------------------------------------------------------

    def read(self, namespace: str, path: str) -> bytes:
        """Return a file's content."""
        key = self._key(namespace, path)
        entry = self.storage.stat(key)
        if entry is None or entry.is_dir:
            raise _not_found(namespace, path)
        with self.storage.reader(key) as stream:
            return stream.read()

    def stats(self, namespace: str, path: str | None = None) -> FileInfo:
        """Describe a file or folder; the root folder always exists (it is made on demand)."""
        if normalize(path) == ROOT:
            self.storage.make_folder(self._base(namespace))
        return _info(self._existing(namespace, path), normalize(path))

    def listing(self, namespace: str, path: str | None = None) -> list[FileInfo]:
        """Describe the content of a folder, folders first, then by name."""
        if normalize(path) == ROOT:
            self.storage.make_folder(self._base(namespace))
        folder = self._existing(namespace, path)
        if not folder.is_dir:
            raise IllegalStateError(f"'{normalize(path)}' is a file, not a directory")
        children = self.storage.children(folder.key)
        children.sort(key=lambda child: (not child.is_dir, child.name))
        return [_info(child, child.name) for child in children]

    def search(self, namespace: str, query: str) -> list[str]:
        """Return the paths of the files whose path contains `query`."""
        return [path for path in self.all_files(namespace) if query in path]

    def all_files(self, namespace: str) -> list[str]:
        """Return the path of every file of the namespace, sorted."""
        base = self._base(namespace)
        return sorted(ROOT + key[len(base) + 1 :] for key in self.storage.files_under(base))

    def export(self, namespace: str) -> bytes:
        """Return a zip archive of every file, named by their paths without the leading `/`."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in self.all_files(namespace):
                archive.writestr(path[1:], self.read(namespace, path))
        return buffer.getvalue()

    # -- writing ----------------------------------------------------------------------------

    def write(self, namespace: str, path: str, content: bytes) -> None:
        """Create or replace a file, creating its folders."""
        key = self._key(namespace, path)
        entry = self.storage.stat(key)
        if key == self._base(namespace) or (entry is not None and entry.is_dir):
            raise IllegalStateError(f"'{normalize(path)}' is a directory")
        self._check_folders(namespace, _parent(key))
        # The storage writes aside then swaps: a reader sees the old content or the new.
        with self.storage.writer(key) as stream:
            stream.write(content)

    def make_directory(self, namespace: str, path: str | None) -> None:
        """Create a folder and its parents; an existing folder is left as it is."""
        key = self._key(namespace, path)
        self._check_folders(namespace, key)
        self.storage.make_folder(key)

    def move(self, namespace: str, source: str, target: str) -> None:
        """Move (rename) a file or folder; the target must not exist."""
        origin = self._existing(namespace, source).key
        destination = self._key(namespace, target)
        base = self._base(namespace)
        if base in (origin, destination):
            raise IllegalStateError("The root folder cannot be moved, nor replaced")
        if self.storage.stat(destination) is not None:
            raise IllegalStateError(
                f"File '{normalize(target)}' already exists in namespace '{namespace}'"
            )
        if destination.startswith(origin + "/"):
            raise IllegalStateError(f"'{normalize(source)}' cannot be moved inside itself")
        self._check_folders(namespace, _parent(destination))
        self.storage.rename(origin, destination)

    def delete(self, namespace: str, path: str) -> None:
        """Delete a file or a folder with its content, then the folders it left empty.

        Deleting the root empties the namespace.
        """
        key = self._existing(namespace, path).key
        base = self._base(namespace)
        if key == base:
            for child in self.storage.children(base):
                self.storage.remove(child.key)
            return
        self.storage.remove(key)
        # Kestra keeps no empty folder behind a deleted file (the root stays).
        parent = _parent(key)
        while parent.startswith(base + "/") and not self.storage.children(parent):
            self.storage.remove(parent)
            parent = _parent(parent)

    # -- keys -------------------------------------------------------------------------------

    def _base(self, namespace: str) -> str:
        if len(namespace) > _MAX_NAMESPACE or not _NAMESPACE.fullmatch(namespace):
            raise LannerError(f"Invalid namespace '{_printable(namespace)}'")
        return f"namespaces/{namespace}/_files"

    def _key(self, namespace: str, path: str | None) -> str:
        """Return the storage key of a path, refusing reserved paths and any escape."""
        normalized = normalize(path)
        parts = PurePosixPath(normalized).parts[1:]
        if parts and parts[0] == FLOWS_FOLDER:
            raise LannerError(f"Forbidden path: {normalized}")
        base = self._base(namespace)
        key = "/".join((base, *parts))
        # A symbolic link inside the folder could point anywhere: judge the real location.
        if self.storage.escapes(key, base):
            raise LannerError(f"Invalid path '{normalized}': it leads outside the namespace")
        return key

    def _existing(self, namespace: str, path: str | None) -> Entry:
        entry = self.storage.stat(self._key(namespace, path))
        if entry is None:
            raise _not_found(namespace, path)
        return entry

    def _check_folders(self, namespace: str, folder: str) -> None:
        """Refuse a folder path that goes through a file."""
        base = self._base(namespace)
        while folder.startswith(base + "/"):
            entry = self.storage.stat(folder)
            if entry is not None and not entry.is_dir:
                relative = ROOT + folder[len(base) + 1 :]
                raise IllegalStateError(f"'{relative}' is a file, not a directory")
            folder = _parent(folder)


def _parent(key: str) -> str:
    return key.rsplit("/", 1)[0]


def _info(entry: Entry, path_or_name: str) -> FileInfo:
    name = PurePosixPath(path_or_name).name or "_files"
    return FileInfo(
        file_name=name,
        type=FileType.Directory if entry.is_dir else FileType.File,
        size=entry.size,
        last_modified_time=_millis(entry.modified),
        creation_time=_millis(entry.created),
    )


def _millis(seconds: float) -> int:
    return round(seconds * 1000)


def _not_found(namespace: str, path: str | None) -> NotFoundError:
    return NotFoundError(f"File '{normalize(path)}' was not found in namespace '{namespace}'")


def _printable(text: str) -> str:
    return text.replace("\0", "\\0")
