"""Shell script tasks: an inline `script`, or a list of `commands`, run by `/bin/sh -c`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from lanner.tasks.http_options import Text
from lanner.tasks.registry import register
from lanner.tasks.scripts.base import Commands as Built
from lanner.tasks.scripts.base import CommandsTask, ScriptTask

if TYPE_CHECKING:
    from lanner.context import RunContext


@register
class Script(ScriptTask):
    """Run an inline shell script."""

    TYPE = "io.kestra.plugin.scripts.shell.Script"

    script: Annotated[Text, Field(min_length=1)]

    def build(self, ctx: RunContext, workdir: Path) -> Built:
        return Built([ctx.render(self.script)])


@register
class Commands(CommandsTask):
    """Run shell commands one after the other."""

    TYPE = "io.kestra.plugin.scripts.shell.Commands"
