"""The files of internal storage one execution may use, and how a path names one of them.

A `kestra://` URI must name a file of the execution, of the execution that started it (a
Subflow's or ForEachItem's parent, as Kestra allows), or a namespace file of the flow's
namespace; any other text is the path of a namespace file of the flow's namespace. The
expression functions (`read()`, `fileSize()`...) and the storage tasks go through these rules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from lanner.exceptions import LannerError, NotFoundError
from lanner.executions import Execution
from lanner.namespace_files import NamespaceFiles, normalize
from lanner.storage import SCHEME, Storage, execution_prefix

__all__ = ["ExecutionFiles", "FileAccessError"]

T = TypeVar("T")


class FileAccessError(LannerError):
    """A path that names no file the execution may use, or a file that is not there."""


class ExecutionFiles:
    """Resolves paths and URIs to the files an execution may use (blocking storage calls)."""

    def __init__(self, storage: Storage, execution: Execution) -> None:
        self.storage = storage
        self.namespace = execution.namespace
        self.own = SCHEME + execution_prefix(execution.namespace, execution.flow_id, execution.id)
        readable = [self.own + "/"]
        parent = (execution.trigger or {}).get("variables") or {}
        if {"namespace", "flowId", "executionId"} <= parent.keys():
            folder = execution_prefix(parent["namespace"], parent["flowId"], parent["executionId"])
            readable.append(SCHEME + folder + "/")
        self.files_root = f"{SCHEME}/namespaces/{self.namespace}/_files/"
        self.readable = (*readable, self.files_root)

    def uri(self, what: str, path: object) -> str:
        """Return the URI `path` names; FileAccessError when it is none the execution may use.

        `what` names the caller in messages (`The 'read' function`, `The task's 'uri'`).
        """
        if not isinstance(path, str) or not path:
            raise FileAccessError(f"{what} expects a file path or URI.")
        if path.startswith(SCHEME):
            if not path.startswith(self.readable):
                raise FileAccessError(
                    f"Unable to read the file '{path}': it does not belong to this execution"
                )
            return path
        try:
            normalized = normalize(path)
        except LannerError as exc:
            raise FileAccessError(f"Invalid namespace file path '{path}': {exc}") from exc
        return self.files_root + normalized.lstrip("/")

    def existing(self, what: str, path: object) -> tuple[str, bool]:
        """Return the URI `path` names and whether a file is there."""
        uri = self.uri(what, path)
        # A namespace file is also checked by NamespaceFiles (reserved folders, symbolic links).
        if uri.startswith(self.files_root):
            try:
                NamespaceFiles(self.storage).stats(self.namespace, uri[len(self.files_root) - 1 :])
            except NotFoundError:
                return uri, False
            except LannerError as exc:
                raise FileAccessError(str(exc)) from exc
        try:
            return uri, self.storage.exists(uri)
        except ValueError as exc:
            raise FileAccessError(str(exc)) from exc

    def size(self, what: str, path: object) -> int:
        """Return the size in bytes of the file `path` names; FileAccessError when missing."""
        return self._of_file(what, path, self.storage.size)

    def read(self, what: str, path: object) -> bytes:
        """Return the bytes of the file `path` names; FileAccessError when missing."""
        return self._of_file(what, path, self.storage.read)

    def _of_file(self, what: str, path: object, call: Callable[[str], T]) -> T:
        uri, found = self.existing(what, path)
        if not found:
            raise missing(uri)
        try:
            return call(uri)
        except NotFoundError:  # removed meanwhile
            raise missing(uri) from None


def missing(uri: str) -> FileAccessError:
    return FileAccessError(f"Unable to find the file '{uri}'")
