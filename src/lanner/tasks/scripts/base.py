"""What every script task shares: its properties, the task runner, and one run from start to end.

A run (Kestra's CommandsWrapper): make a working directory; render the commands with
`workingDir`, `outputDir` and `outputFiles` as extra variables; put the namespace files and
input files in place; run the command with the Process runner, its lines becoming logs,
outputs and metrics; store the output files; remove the directory. The outputs are Kestra's
ScriptOutput: `vars`, `exitCode` and `outputFiles`, kept even when the command fails.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field, TypeAdapter, ValidationInfo, field_validator

from lanner.exceptions import TaskError
from lanner.properties import Dynamic, Expr, YamlRecord
from lanner.states import State
from lanner.tasks.base import RunnableTask
from lanner.tasks.http_options import Text, resolve
from lanner.tasks.scripts import files
from lanner.tasks.scripts.process import run_process
from lanner.tasks.scripts.protocol import LineConsumer

if TYPE_CHECKING:
    from lanner.context import RunContext

PROCESS_RUNNER = "io.kestra.plugin.core.runner.Process"
_PROCESS_RUNNERS = frozenset(
    {
        PROCESS_RUNNER,
        "io.kestra.core.models.tasks.runners.types.ProcessTaskRunner",
        "io.kestra.plugin.core.runner.ProcessTaskRunner",
    }
)
_BOOL: TypeAdapter[bool] = TypeAdapter(bool)
_STRINGS: TypeAdapter[list[str]] = TypeAdapter(list[str])
_FILES: TypeAdapter[dict[str, str | None]] = TypeAdapter(dict[str, str | None])

StringList = Dynamic[list[Text]]
"""A list of strings, or a template rendering to one (a list, or its JSON text)."""


class NamespaceFilesOptions(YamlRecord):
    """Which namespace files of the flow's namespace are copied into the working directory."""

    enabled: Dynamic[bool] = True
    include: list[Text] | None = None
    exclude: list[Text] | None = None


class ScriptTask(RunnableTask):
    """Properties and run shared by the Python and Shell script tasks."""

    task_runner: dict[str, Any] | None = None
    runner: str | None = None
    container_image: Text | None = None
    docker: dict[str, Any] | None = None
    before_commands: StringList | None = None
    env: dict[str, Text] | None = None
    warning_on_std_err: Dynamic[bool] = True
    interpreter: StringList = Field(default_factory=lambda: ["/bin/sh", "-c"])
    fail_fast: Dynamic[bool] = True
    namespace_files: NamespaceFilesOptions | None = None
    input_files: dict[str, Text | None] | Text | None = None
    output_files: StringList | None = None
    output_directory: Dynamic[bool] | None = None
    target_os: str | None = Field(default=None, alias="targetOS")

    @field_validator("task_runner", mode="before")
    @classmethod
    def _process_runner_only(cls, value: Any, info: ValidationInfo) -> Any:
        kind = value.get("type") if isinstance(value, Mapping) else None
        if kind not in _PROCESS_RUNNERS:
            raise ValueError(
                f"task '{info.data.get('id', '?')}': the task runner '{kind}' is not supported;"
                f" lanner runs scripts as local processes (type: {PROCESS_RUNNER})"
            )
        return value

    @field_validator("runner", mode="before")
    @classmethod
    def _process_only(cls, value: Any, info: ValidationInfo) -> Any:
        if value != "PROCESS":
            raise ValueError(
                f"task '{info.data.get('id', '?')}': runner '{value}' is not supported;"
                f" lanner runs scripts as local processes (runner: PROCESS)"
            )
        return value

    @field_validator("target_os", mode="before")
    @classmethod
    def _unix_only(cls, value: Any) -> Any:
        if value not in ("AUTO", "LINUX"):
            raise ValueError(f"targetOS '{value}' is not supported; use AUTO or LINUX")
        return value

    # -- what each task type says -----------------------------------------------------------

    def build(self, ctx: RunContext, workdir: Path) -> Commands:
        """Return the rendered commands, and the files they need (an inline script)."""
        raise NotImplementedError

    def extra_env(self) -> dict[str, str]:
        """Return the environment variables this task type adds."""
        return {}

    # -- the run ----------------------------------------------------------------------------

    async def run(self, ctx: RunContext) -> Mapping[str, Any] | None:
        with_output_dir = bool(
            self.output_directory is not None
            and resolve(ctx, self.output_directory, _BOOL, "outputDirectory")
        )
        workdir = await asyncio.to_thread(files.WorkingDirectory, with_output_dir)
        try:
            return await self._run_in(ctx, workdir)
        finally:
            # Shielded: a second cancellation must not leave the directory behind.
            await asyncio.shield(asyncio.to_thread(workdir.remove))

    async def _run_in(self, ctx: RunContext, workdir: files.WorkingDirectory) -> dict[str, Any]:
        patterns = self._strings(ctx, self.output_files, "outputFiles")
        scoped = ctx.with_variables(_extra_variables(workdir, patterns))
        inputs = self._input_files(scoped)
        commands = self.build(scoped, workdir.path)
        argv = self._argv(scoped, commands.lines)
        argv = await asyncio.to_thread(self._prepare, scoped, workdir, inputs, commands, argv)
        env = self._environment(scoped, workdir)
        consumer = LineConsumer(ctx)
        ctx.logger.debug(f"Starting command [{' '.join(argv)}]")
        _, code = await run_process(argv, workdir.path, env, consumer.accept)
        outputs = {
            "vars": consumer.vars,
            "exitCode": code,
            "outputFiles": await asyncio.to_thread(self._collect, ctx, workdir, patterns),
        }
        if code != 0:
            raise TaskError(f"Command failed with exit code {code}", outputs=outputs)
        ctx.logger.debug(f"Command succeed with exit code {code}")
        warn = resolve(ctx, self.warning_on_std_err, _BOOL, "warningOnStdErr")
        if warn and consumer.stderr_lines:
            ctx.final_state = State.WARNING
        return outputs

    def _argv(self, ctx: RunContext, commands: list[str]) -> list[str]:
        """Interpreter + one script: `set -e` (failFast), the beforeCommands, the commands."""
        lines = self._strings(ctx, self.before_commands, "beforeCommands")
        if resolve(ctx, self.fail_fast, _BOOL, "failFast"):
            lines.insert(0, "set -e")
        lines.extend(commands)
        interpreter = self._strings(ctx, self.interpreter, "interpreter")
        if not interpreter:
            raise TaskError(f"Task '{self.id}': 'interpreter' must name a program")
        return [*interpreter, "\n".join(lines)]

    def _environment(self, ctx: RunContext, workdir: files.WorkingDirectory) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.extra_env())
        env.update({name: ctx.render(value) for name, value in (self.env or {}).items()})
        env["WORKING_DIR"] = str(workdir.path)
        if workdir.output_dir is not None:
            env["OUTPUT_DIR"] = str(workdir.output_dir)
        return env

    def _input_files(self, ctx: RunContext) -> dict[str, str | None]:
        """Render `inputFiles`: a map of name -> content, or a template giving one (JSON)."""
        given = self.input_files
        if given is None:
            return {}
        if isinstance(given, str):
            rendered = ctx.render_typed(given)
            value = _json_if_text(rendered)
            try:
                given = _FILES.validate_python(value)
            except ValueError as exc:
                raise TaskError(
                    f"Task '{self.id}': 'inputFiles' must render to a map of file names to"
                    f" contents, got {rendered!r}"
                ) from exc
        return {
            ctx.render(name): None if content is None else ctx.render(content)
            for name, content in given.items()
        }

    def _prepare(
        self,
        ctx: RunContext,
        workdir: files.WorkingDirectory,
        inputs: dict[str, str | None],
        commands: Commands,
        argv: list[str],
    ) -> list[str]:
        """Put the files in place; return argv with `kestra://` URIs turned into local paths."""
        options = self.namespace_files
        if options is not None and resolve(ctx, options.enabled, _BOOL, "namespaceFiles.enabled"):
            include = [ctx.render(pattern) for pattern in options.include or []]
            exclude = [ctx.render(pattern) for pattern in options.exclude or []]
            files.copy_namespace_files(ctx, workdir.path, include, exclude)
        files.write_input_files(ctx, workdir.path, inputs)
        for name, content in commands.files.items():
            (workdir.path / name).write_text(files.localize_uris(ctx, workdir.path, content))
        return [files.localize_uris(ctx, workdir.path, arg) for arg in argv]

    def _collect(
        self, ctx: RunContext, workdir: files.WorkingDirectory, patterns: list[str]
    ) -> dict[str, str]:
        found = files.upload_output_files(ctx, workdir.path, patterns) if patterns else {}
        if workdir.output_dir is not None:
            found.update(files.upload_output_dir(ctx, workdir.output_dir))
        return found

    def _strings(self, ctx: RunContext, value: list[str] | Expr | None, name: str) -> list[str]:
        """Render a list-of-strings property, item by item or as one template."""
        if value is None:
            return []
        if isinstance(value, Expr):
            rendered = _json_if_text(ctx.render_typed(value))
            try:
                return [str(item) for item in _STRINGS.validate_python(rendered)]
            except ValueError as exc:
                raise TaskError(
                    f"Task '{self.id}': '{name}' must render to a list of strings, got {rendered!r}"
                ) from exc
        return [ctx.render(item) for item in value]


class CommandsTask(ScriptTask):
    """A script task that runs a list of `commands` (Python and Shell `Commands`)."""

    commands: StringList

    def build(self, ctx: RunContext, workdir: Path) -> Commands:
        return Commands(self._strings(ctx, self.commands, "commands"))


def _extra_variables(workdir: files.WorkingDirectory, patterns: list[str]) -> dict[str, Any]:
    """Return `workingDir`, `outputDir` (when enabled) and `outputFiles` (plain names only)."""
    extra: dict[str, Any] = {"workingDir": str(workdir.path)}
    if workdir.output_dir is not None:
        extra["outputDir"] = str(workdir.output_dir)
    plain = {p: str(workdir.path / p) for p in patterns if not any(c in p for c in "*?[{")}
    if plain:
        extra["outputFiles"] = plain
    return extra


def _json_if_text(value: Any) -> Any:
    """Read a rendered JSON list or map given as text, as Kestra reads such properties."""
    if isinstance(value, str) and value.strip().startswith(("[", "{")):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


@dataclass(frozen=True, slots=True)
class Commands:
    """The rendered commands of a task, and the files (name -> content) they run."""

    lines: list[str]
    files: dict[str, str] = field(default_factory=dict)


def script_name(suffix: str) -> str:
    """Return a fresh file name for an inline script."""
    return f"script-{os.urandom(6).hex()}{suffix}"
