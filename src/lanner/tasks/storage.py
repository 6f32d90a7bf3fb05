"""Tasks on internal storage: Write stores text as a file of the task run."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from lanner.storage import run_storage
from lanner.tasks.base import RunnableTask
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
