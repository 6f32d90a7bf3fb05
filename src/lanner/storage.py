"""Internal storage: the files behind `kestra://` URIs, kept in a local directory."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import BinaryIO

from lanner.exceptions import NotFoundError

SCHEME = "kestra://"


def execution_prefix(namespace: str, flow_id: str, execution_id: str) -> str:
    """Return the storage folder of one execution, as Kestra lays it out."""
    return f"/{namespace.replace('.', '/')}/{flow_id}/executions/{execution_id}"


def task_run_prefix(execution_folder: str, task_id: str, task_run_id: str) -> str:
    """Return the storage folder of one task run, inside its execution's folder."""
    return f"{execution_folder}/tasks/{task_id}/{task_run_id}"


class LocalStorage:
    """Files under one root directory; a URI `kestra:///a/b` is the file `<root>/a/b`."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, uri: str) -> Path:
        """Return the local path of a `kestra://` URI, refusing any escape from the root."""
        if not uri.startswith(SCHEME):
            raise ValueError(f"not an internal storage URI: {uri}")
        relative = PurePosixPath(uri[len(SCHEME) :].lstrip("/"))
        if any(part == ".." for part in relative.parts):
            raise ValueError(f"'..' is not allowed in a storage URI: {uri}")
        return self.root.joinpath(*relative.parts)

    def put(self, folder: str, name: str, data: bytes) -> str:
        """Store bytes as `<folder>/<name>` and return the file's `kestra://` URI."""
        handle, uri = self.open_write(folder, name)
        with handle:
            handle.write(data)
        return uri

    def open_write(self, folder: str, name: str) -> tuple[BinaryIO, str]:
        """Open `<folder>/<name>` for writing; return the open file and its `kestra://` URI."""
        uri = f"{SCHEME}{folder.rstrip('/')}/{PurePosixPath(name).name}"
        path = self.path_of(uri)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path.open("wb"), uri

    def read(self, uri: str) -> bytes:
        path = self.path_of(uri)
        if not path.is_file():
            raise NotFoundError(f"Unable to find file '{uri}'")
        return path.read_bytes()

    def exists(self, uri: str) -> bool:
        return self.path_of(uri).is_file()

    def size(self, uri: str) -> int:
        path = self.path_of(uri)
        if not path.is_file():
            raise NotFoundError(f"Unable to find file '{uri}'")
        return path.stat().st_size
