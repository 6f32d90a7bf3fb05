"""Internal storage: the files behind `kestra://` URIs, kept in a local directory."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from lanner.exceptions import NotFoundError

SCHEME = "kestra://"


def execution_prefix(namespace: str, flow_id: str, execution_id: str) -> str:
    """Return the storage folder of one execution, as Kestra lays it out."""
    return f"/{namespace.replace('.', '/')}/{flow_id}/executions/{execution_id}"


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

    def list_folders(self, uri: str) -> list[str]:
        """Return the names of the folders directly under a `kestra://` folder URI."""
        path = self.path_of(uri)
        if not path.is_dir():
            return []
        return sorted(child.name for child in path.iterdir() if child.is_dir())

    def exists(self, uri: str) -> bool:
        return self.path_of(uri).is_file()

    def size(self, uri: str) -> int:
        path = self.path_of(uri)
        if not path.is_file():
            raise NotFoundError(f"Unable to find file '{uri}'")
        return path.stat().st_size
