"""The internal storage's contract: files behind `kestra://` URIs, kept under *keys*.

A key is a `/`-separated path relative to the storage's root, without leading `/`: the URI
`kestra:///company/team/f/executions/1/a.txt` is the key `company/team/f/executions/1/a.txt`.
Implementations provide a few operations on keys (`stat`, `children`, `reader`, `writer`,
`remove`...); everything about URIs (their checks, the NotFound messages, copies to and from
local files) is written once here, on top of them. Folders exist as far as the backend keeps
them: a directory on disk, a marker object in a bucket.

Reads and writes are streams: callers copy in chunks and never need a whole file in memory.
Every operation is blocking I/O. Async code makes its calls through `run_storage` (or always in
a thread): inline when the storage says its calls are quick local I/O (`Storage.quick_io`),
else in a thread, so that a storage behind a network (S3...) never stops the event loop for a
round trip.
"""

from __future__ import annotations

import asyncio
import contextvars
import re
import shutil
from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path, PurePosixPath
from typing import BinaryIO, ClassVar, ParamSpec, TypeVar

from lanner.exceptions import NotFoundError

SCHEME = "kestra://"
CHUNK = 1 << 20
"""Bytes copied at a time between storage and local files."""
STORAGE_THREADS = 64
"""Threads that carry the calls of a remote storage made from async code. A pool of their own:
in asyncio's default one (a few threads on a small machine) a burst of storage calls would
queue the host name lookups of HTTP tasks behind it. The threads mostly wait on the network,
and are only started when calls come."""

_P = ParamSpec("_P")
_T = TypeVar("_T")


def execution_prefix(namespace: str, flow_id: str, execution_id: str) -> str:
    """Return the storage folder of one execution, as Kestra lays it out."""
    return f"/{namespace.replace('.', '/')}/{flow_id}/executions/{execution_id}"


@lru_cache(maxsize=1024)
def slugify(name: str) -> str:
    """Turn an id into the folder name Kestra uses for it (`each_split` -> `each-split`)."""
    slug = re.sub(r"[\s_]+", "-", name)
    slug = re.sub(r"[^A-Za-z0-9-]", "", slug)
    return re.sub(r"-{2,}", "-", slug).strip("-").lower()


def task_prefix(
    namespace: str, flow_id: str, execution_id: str, task_id: str, task_run_id: str
) -> str:
    """Return the storage folder of one task run, as Kestra lays it out."""
    execution = execution_prefix(namespace, flow_id, execution_id)
    return f"{execution}/tasks/{slugify(task_id)}/{task_run_id}"


def key_of(uri: str) -> str:
    """Return the key of a `kestra://` URI; ValueError for another scheme or a `..` part."""
    if not uri.startswith(SCHEME):
        raise ValueError(f"not an internal storage URI: {uri}")
    # The parts a PurePosixPath of the path would have (empty and `.` parts dropped), split
    # without building one: every file a task writes or reads comes through here.
    parts = [part for part in uri[len(SCHEME) :].split("/") if part and part != "."]
    if ".." in parts:
        raise ValueError(f"'..' is not allowed in a storage URI: {uri}")
    return "/".join(parts)


def file_uri(folder: str, name: str) -> str:
    """Return the URI of the file `name` (its last segment only) in a `/`-rooted folder."""
    return f"{SCHEME}{folder.rstrip('/')}/{PurePosixPath(name).name}"


def join(*parts: str) -> str:
    """Join key parts, skipping empty ones (the root is the empty key)."""
    return "/".join(part.strip("/") for part in parts if part.strip("/"))


def checked_parts(key: str) -> list[str]:
    """Split a key into its parts, refusing `..` (keys built by code get the check too)."""
    parts = [part for part in key.split("/") if part]
    if ".." in parts:
        raise ValueError(f"'..' is not allowed in a storage key: {key}")
    return parts


@dataclass(frozen=True)
class Entry:
    """A file or folder of the storage; times in epoch seconds (0 when the backend has none)."""

    key: str
    is_dir: bool
    size: int
    modified: float
    created: float

    @property
    def name(self) -> str:
        return self.key.rsplit("/", 1)[-1]


class Storage(ABC):
    """Files under keys; a URI `kestra:///a/b` is the key `a/b`."""

    location: str
    """Where the files are, for people: a directory or a URL (never with credentials)."""

    quick_io: ClassVar[bool] = False
    """True when every call is quick local I/O that async code makes on the event loop (a
    thread hop would cost more than the call); False, the safe choice for a backend, when a
    call may wait on the network: `run_storage` then runs it in a thread."""

    # -- what each backend provides ----------------------------------------------------------

    @abstractmethod
    def stat(self, key: str) -> Entry | None:
        """Describe the file or folder at `key`; None when there is none."""

    @abstractmethod
    def children(self, key: str) -> list[Entry]:
        """Describe what the folder `key` holds directly; [] when it is absent or empty."""

    @abstractmethod
    def files_under(self, key: str) -> list[str]:
        """Return the key of every file below the folder `key`, at any depth."""

    @abstractmethod
    def reader(self, key: str) -> BinaryIO:
        """Open the file at `key` for reading; FileNotFoundError (or IsADirectoryError)."""

    @abstractmethod
    def writer(self, key: str) -> AbstractContextManager[BinaryIO]:
        """Write the file at `key` (creating its folders) through the handle given.

        Readers see the old content or the new one, never part of it. When the block
        raises, nothing of the new content is kept: a local directory and object stores keep
        the old content, an fsspec file system that writes in place is left without the file.
        """

    @abstractmethod
    def make_folder(self, key: str) -> None:
        """Create the folder `key` and its parents; an existing folder is left as it is."""

    @abstractmethod
    def remove(self, key: str) -> None:
        """Remove the file or the folder (with its content) at `key`; nothing when absent."""

    @abstractmethod
    def rename(self, source: str, target: str) -> None:
        """Move a file or folder to a key that does not exist yet, creating its parents."""

    def escapes(self, key: str, within: str) -> bool:
        """Say whether `key` really leads outside the folder `within` (a symbolic link)."""
        return False

    # -- `kestra://` URIs --------------------------------------------------------------------

    def put(self, folder: str, name: str, data: bytes) -> str:
        """Store bytes as `<folder>/<name>` and return the file's `kestra://` URI."""
        uri = file_uri(folder, name)
        with self.open_write(uri) as handle:
            handle.write(data)
        return uri

    def open_write(self, uri: str) -> AbstractContextManager[BinaryIO]:
        """Write the file behind `uri`: see `writer`."""
        return self.writer(key_of(uri))

    def open_read(self, uri: str) -> BinaryIO:
        """Open the file behind `uri` for reading; NotFoundError when there is none."""
        try:
            return self.reader(key_of(uri))
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise NotFoundError(f"Unable to find file '{uri}'") from None

    def read(self, uri: str) -> bytes:
        """Return the whole content of a file: for small files only (use `open_read`)."""
        with self.open_read(uri) as handle:
            return handle.read()

    def exists(self, uri: str) -> bool:
        entry = self.stat(key_of(uri))
        return entry is not None and not entry.is_dir

    def size(self, uri: str) -> int:
        entry = self.stat(key_of(uri))
        if entry is None or entry.is_dir:
            raise NotFoundError(f"Unable to find file '{uri}'")
        return entry.size

    def list_folders(self, uri: str) -> list[str]:
        """Return the names of the folders directly under a `kestra://` folder URI."""
        return sorted(entry.name for entry in self.children(key_of(uri)) if entry.is_dir)

    def delete(self, uri: str) -> None:
        """Delete the file or folder (with its content) behind `uri`; nothing when absent."""
        key = key_of(uri)
        if not key:
            raise ValueError(f"the root of the internal storage cannot be deleted: {uri}")
        self.remove(key)

    def download(self, uri: str, target: Path) -> None:
        """Copy the file behind `uri` to a local file, chunk by chunk."""
        with self.open_read(uri) as source, target.open("wb") as local:
            shutil.copyfileobj(source, local, CHUNK)

    def upload(self, source: Path, folder: str, name: str) -> str:
        """Copy a local file to `<folder>/<name>`, chunk by chunk; return its URI."""
        uri = file_uri(folder, name)
        with source.open("rb") as local, self.open_write(uri) as target:
            shutil.copyfileobj(local, target, CHUNK)
        return uri


# Its threads start with the first calls, not at import.
_POOL = ThreadPoolExecutor(STORAGE_THREADS, thread_name_prefix="lanner-storage")


async def run_storage(
    storage: Storage, call: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs
) -> _T:
    """Make a storage call (or a function that makes several) from async code.

    A quick storage is called inline. Otherwise the call runs in a thread of the storage pool
    and the event loop goes on meanwhile. A call once made is carried to its end even when the
    caller is cancelled (the caller still gets CancelledError at once): a write asked for, or a
    cleanup made while a task is being killed, is not dropped half way.
    """
    if storage.quick_io:
        return call(*args, **kwargs)
    loop = asyncio.get_running_loop()
    # As asyncio.to_thread: the call sees the caller's context variables.
    context = contextvars.copy_context()
    work = loop.run_in_executor(_POOL, partial(context.run, call, *args, **kwargs))
    return await asyncio.shield(work)
