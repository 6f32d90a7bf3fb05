"""Tasks on internal storage: Write stores text as a file of the task run, Size measures a
file, Delete removes one, PurgeCurrentExecutionFiles removes every file of the execution.

Size reads any file the execution may use (see `lanner.execution_files`); Delete removes only
the execution's own files, never a namespace file nor a parent execution's.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from lanner.exceptions import TaskError
from lanner.execution_files import ExecutionFiles
from lanner.properties import Dynamic
from lanner.storage import SCHEME, Storage, key_of, run_storage
from lanner.tasks.base import RunnableTask, flag
from lanner.tasks.registry import register

if TYPE_CHECKING:
    from lanner.context import RunContext

# Kestra's temporary files end so when no extension is given.
_DEFAULT_EXTENSION = ".tmp"


@register
class Write(RunnableTask):
    """Store the rendered `content` (UTF-8) as a new file of the task run; output its `uri`."""

    TYPE = "io.kestra.plugin.core.storage.Write"

    content: str
    extension: str | None = None

    async def run(self, ctx: RunContext) -> Mapping[str, Any] | None:
        data = ctx.render(self.content).encode("utf-8")
        extension = _DEFAULT_EXTENSION
        if self.extension is not None:
            given = ctx.render(self.extension).strip()
            # `txt` and `.txt` both give a `.txt` file.
            extension = given if not given or given.startswith(".") else f".{given}"
        name = uuid.uuid4().hex + extension
        uri = await run_storage(ctx.storage, ctx.storage.put, ctx.folder(), name, data)
        return {"uri": uri}


@register
class Size(RunnableTask):
    """Output the `size` in bytes of the file `uri` names."""

    TYPE = "io.kestra.plugin.core.storage.Size"

    uri: str

    async def run(self, ctx: RunContext) -> Mapping[str, Any] | None:
        files = ExecutionFiles(ctx.storage, ctx.execution)
        uri = ctx.render(self.uri)
        return {"size": await run_storage(ctx.storage, files.size, "The task's 'uri'", uri)}


@register
class Delete(RunnableTask):
    """Delete the file `uri` names, a file of this execution; output it and whether it was there.

    A missing file fails the task only with `errorOnMissing`.
    """

    TYPE = "io.kestra.plugin.core.storage.Delete"

    uri: str
    error_on_missing: Dynamic[bool] = False

    async def run(self, ctx: RunContext) -> Mapping[str, Any] | None:
        files = ExecutionFiles(ctx.storage, ctx.execution)
        uri = ctx.render(self.uri)
        if not uri.startswith(files.own + "/"):
            raise TaskError(
                f"Unable to delete the file '{uri}': it does not belong to this execution"
            )
        found = await run_storage(ctx.storage, ctx.storage.exists, uri)
        if not found and flag(ctx, self.error_on_missing, "errorOnMissing"):
            raise TaskError(f"Unable to find the file '{uri}'")
        if found:
            await run_storage(ctx.storage, ctx.storage.delete, uri)
        return {"uri": uri, "deleted": found}


@register
class PurgeCurrentExecutionFiles(RunnableTask):
    """Delete every file of this execution (inputs, task outputs, HAR records); output their
    `uris`. An execution without files is not an error."""

    TYPE = "io.kestra.plugin.core.storage.PurgeCurrentExecutionFiles"

    # Accepted as Kestra accepts them; this execution's own files are all lanner keeps.
    include_child_executions: Dynamic[bool] = False
    include_states: Dynamic[bool] = False

    async def run(self, ctx: RunContext) -> Mapping[str, Any] | None:
        folder = ExecutionFiles(ctx.storage, ctx.execution).own
        uris = await run_storage(ctx.storage, _purge, ctx.storage, folder)
        return {"uris": uris}


def _purge(storage: Storage, folder: str) -> list[str]:
    """Delete the folder `folder` (a `kestra://` URI) with its files; return their URIs."""
    uris = [SCHEME + "/" + key for key in storage.files_under(key_of(folder))]
    storage.delete(folder)
    return sorted(uris)
