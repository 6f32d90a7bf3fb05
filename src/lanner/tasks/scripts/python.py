"""Python script tasks: an inline `script`, or `commands` that run Python files.

The inline script is written to a file of the working directory and run as
`<python> <file>` by the interpreter (`/bin/sh -c`), after the `beforeCommands`. `<python>` is
the `python` setting (`LANNER_PYTHON`), `python3` found on PATH by default: a script that does
`from kestra import Kestra` needs the PyPI `kestra` package installed for that interpreter.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from lanner.tasks.http_options import Text
from lanner.tasks.registry import register
from lanner.tasks.scripts.base import Commands as Built
from lanner.tasks.scripts.base import CommandsTask, ScriptTask, script_name

if TYPE_CHECKING:
    from lanner.context import RunContext

# Kestra sets these for Python: output unbuffered (lines stream live), quiet pip.
PYTHON_ENV = {
    "PYTHONUNBUFFERED": "true",
    "PIP_ROOT_USER_ACTION": "ignore",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
}


@register
class Script(ScriptTask):
    """Run an inline Python script."""

    TYPE = "io.kestra.plugin.scripts.python.Script"

    script: Annotated[Text, Field(min_length=1)]

    def build(self, ctx: RunContext, workdir: Path) -> Built:
        name = script_name(".py")
        python = shlex.quote(ctx.settings.python)
        return Built(
            [f"{python} {shlex.quote(str(workdir / name))}"], {name: ctx.render(self.script)}
        )

    def extra_env(self) -> dict[str, str]:
        return dict(PYTHON_ENV)


@register
class Commands(CommandsTask):
    """Run shell commands (`python3 main.py`...) with Python's environment variables."""

    TYPE = "io.kestra.plugin.scripts.python.Commands"

    def extra_env(self) -> dict[str, str]:
        return dict(PYTHON_ENV)
