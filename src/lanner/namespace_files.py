"""Namespace files: files a namespace shares with its flows (scripts, SQL, templates...).

The files of namespace `company.team` live under `<storage root>/namespaces/company.team/_files/`
and are named by `/`-rooted paths (`/scripts/etl.py`), as Kestra names them. A path can never
reach outside that folder: `..`, NUL and backslashes are refused, and so is any path whose real
location (after following symbolic links) is not inside it. Such refusals are `LannerError`s
(HTTP 422); an operation the files on disk do not allow (writing over a folder, moving onto an
existing file) is an `IllegalStateError` (HTTP 409); an absent file or folder is a
`NotFoundError` (HTTP 404).

The top folder `_flows` is reserved, as in Kestra: uploading `/_flows/<name>.yml` imports a flow
instead of storing a file (the API does that), and no other operation may touch it.

Everything here is synchronous file I/O: async callers run it in a thread.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import Any

from lanner.exceptions import IllegalStateError, LannerError, NotFoundError
from lanner.flows import NAMESPACE_PATTERN

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
# Uploads are written under this prefix then renamed: such files are not (yet) namespace files.
_PARTIAL = ".lanner-partial-"


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
    """The namespace files kept under one storage root."""

    def __init__(self, storage_root: Path) -> None:
        self.root = storage_root / "namespaces"

    # -- reading ----------------------------------------------------------------------------

    def read(self, namespace: str, path: str) -> bytes:
        """Return a file's content."""
        local = self._existing(namespace, path)
        if not local.is_file():
            raise _not_found(namespace, path)
        return local.read_bytes()

    def stats(self, namespace: str, path: str | None = None) -> FileInfo:
        """Describe a file or folder; the root folder always exists (it is made on demand)."""
        if normalize(path) == ROOT:
            self._base(namespace).mkdir(parents=True, exist_ok=True)
        return _info(self._existing(namespace, path), normalize(path))

    def listing(self, namespace: str, path: str | None = None) -> list[FileInfo]:
        """Describe the content of a folder, folders first, then by name."""
        if normalize(path) == ROOT:
            self._base(namespace).mkdir(parents=True, exist_ok=True)
        folder = self._existing(namespace, path)
        if not folder.is_dir():
            raise IllegalStateError(f"'{normalize(path)}' is a file, not a directory")
        children = [child for child in folder.iterdir() if not _partial(child)]
        children.sort(key=lambda child: (not child.is_dir(), child.name))
        return [_info(child, child.name) for child in children]

    def search(self, namespace: str, query: str) -> list[str]:
        """Return the paths of the files whose path contains `query`."""
        return [path for path in self.all_files(namespace) if query in path]

    def all_files(self, namespace: str) -> list[str]:
        """Return the path of every file of the namespace, sorted."""
        base = self._base(namespace)
        if not base.is_dir():
            return []
        found = (
            ROOT + local.relative_to(base).as_posix()
            for local in base.rglob("*")
            if local.is_file() and not _partial(local)
        )
        return sorted(found)

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
        local = self._local(namespace, path)
        if local == self._base(namespace) or local.is_dir():
            raise IllegalStateError(f"'{normalize(path)}' is a directory")
        self._make_folders(namespace, local.parent)
        # Write aside then rename: a reader sees the old content or the new, never half.
        handle, temporary = tempfile.mkstemp(dir=local.parent, prefix=_PARTIAL)
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(content)
            os.replace(temporary, local)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def make_directory(self, namespace: str, path: str | None) -> None:
        """Create a folder and its parents; an existing folder is left as it is."""
        self._make_folders(namespace, self._local(namespace, path))

    def move(self, namespace: str, source: str, target: str) -> None:
        """Move (rename) a file or folder; the target must not exist."""
        origin = self._existing(namespace, source)
        destination = self._local(namespace, target)
        base = self._base(namespace)
        if base in (origin, destination):
            raise IllegalStateError("The root folder cannot be moved, nor replaced")
        if destination.exists():
            raise IllegalStateError(
                f"File '{normalize(target)}' already exists in namespace '{namespace}'"
            )
        if destination.is_relative_to(origin):
            raise IllegalStateError(f"'{normalize(source)}' cannot be moved inside itself")
        self._make_folders(namespace, destination.parent)
        origin.rename(destination)

    def delete(self, namespace: str, path: str) -> None:
        """Delete a file or a folder with its content, then the folders it left empty.

        Deleting the root empties the namespace.
        """
        local = self._existing(namespace, path)
        base = self._base(namespace)
        if local == base:
            _empty(local)
        elif local.is_dir() and not local.is_symlink():
            shutil.rmtree(local)
        else:
            local.unlink()
        # Kestra keeps no empty folder behind a deleted file (the root stays).
        parent = local.parent
        while parent != base and parent.is_relative_to(base) and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent

    # -- paths ------------------------------------------------------------------------------

    def _base(self, namespace: str) -> Path:
        if len(namespace) > _MAX_NAMESPACE or not _NAMESPACE.fullmatch(namespace):
            raise LannerError(f"Invalid namespace '{_printable(namespace)}'")
        return self.root / namespace / "_files"

    def _local(self, namespace: str, path: str | None) -> Path:
        """Return where a path lives on disk, refusing reserved paths and any escape."""
        normalized = normalize(path)
        parts = PurePosixPath(normalized).parts[1:]
        if parts and parts[0] == FLOWS_FOLDER:
            raise LannerError(f"Forbidden path: {normalized}")
        base = self._base(namespace)
        local = base.joinpath(*parts)
        # A symbolic link inside the folder could point anywhere: judge the real location.
        if not local.resolve().is_relative_to(base.resolve()):
            raise LannerError(f"Invalid path '{normalized}': it leads outside the namespace")
        return local

    def _existing(self, namespace: str, path: str | None) -> Path:
        local = self._local(namespace, path)
        if not local.exists():
            raise _not_found(namespace, path)
        return local

    def _make_folders(self, namespace: str, folder: Path) -> None:
        base = self._base(namespace)
        for parent in (folder, *folder.parents):
            if parent == base:
                break
            if parent.exists() and not parent.is_dir():
                relative = ROOT + parent.relative_to(base).as_posix()
                raise IllegalStateError(f"'{relative}' is a file, not a directory")
        folder.mkdir(parents=True, exist_ok=True)


def _info(local: Path, path_or_name: str) -> FileInfo:
    status = local.stat()
    # Linux gives no creation time through os.stat on Python 3.11: fall back to ctime.
    created = getattr(status, "st_birthtime", status.st_ctime)
    is_dir = local.is_dir()
    name = PurePosixPath(path_or_name).name or "_files"
    return FileInfo(
        file_name=name,
        type=FileType.Directory if is_dir else FileType.File,
        size=0 if is_dir else status.st_size,
        last_modified_time=_millis(status.st_mtime),
        creation_time=_millis(created),
    )


def _partial(local: Path) -> bool:
    return local.name.startswith(_PARTIAL)


def _millis(seconds: float) -> int:
    return round(seconds * 1000)


def _empty(folder: Path) -> None:
    for child in folder.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def _not_found(namespace: str, path: str | None) -> NotFoundError:
    return NotFoundError(f"File '{normalize(path)}' was not found in namespace '{namespace}'")


def _printable(text: str) -> str:
    return text.replace("\0", "\\0")
