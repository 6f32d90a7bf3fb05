"""Runnable core tasks: Log, Return, Echo, OutputValues, Fail, Assert, Sleep."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from lanner.exceptions import ExpressionError, TaskError
from lanner.executions import Level
from lanner.expressions import is_truthy_text
from lanner.properties import DynamicDuration
from lanner.tasks.base import RunnableTask
from lanner.tasks.registry import register

if TYPE_CHECKING:
    from lanner.context import RunContext


@register
class Log(RunnableTask):
    """Write one log line per message, at `level`."""

    TYPE = "io.kestra.plugin.core.log.Log"

    message: str | list[str]
    level: Level = Level.INFO

    async def run(self, ctx: RunContext) -> Mapping[str, Any] | None:
        messages = self.message if isinstance(self.message, list) else [self.message]
        for message in messages:
            ctx.logger.log(self.level, ctx.render(message))
        return None


@register
class Return(RunnableTask):
    """Render `format` and return it as the output `value`."""

    TYPE = "io.kestra.plugin.core.debug.Return"

    format: str | None = None

    async def run(self, ctx: RunContext) -> Mapping[str, Any] | None:
        return {"value": ctx.render(self.format)}


@register
class Echo(RunnableTask):
    """Log the rendered `format` (deprecated: use Log)."""

    TYPE = "io.kestra.plugin.core.debug.Echo"

    format: str
    level: Level = Level.INFO

    async def run(self, ctx: RunContext) -> Mapping[str, Any] | None:
        ctx.logger.log(self.level, ctx.render(self.format))
        return None


@register
class OutputValues(RunnableTask):
    """Render a map of values and return it as the output `values`."""

    TYPE = "io.kestra.plugin.core.output.OutputValues"

    values: dict[str, Any] | None = None

    async def run(self, ctx: RunContext) -> Mapping[str, Any] | None:
        return {"values": ctx.render_value(self.values or {})}


@register
class Fail(RunnableTask):
    """Fail the task run, always or when `condition` renders truthy."""

    TYPE = "io.kestra.plugin.core.execution.Fail"

    condition: str | bool | None = None
    error_message: str = "Task failure"

    async def run(self, ctx: RunContext) -> Mapping[str, Any] | None:
        if self.condition is None:
            raise TaskError(ctx.render(self.error_message))
        condition = self.condition
        rendered = ctx.render(condition) if isinstance(condition, str) else str(condition).lower()
        if is_truthy_text(rendered):
            ctx.logger.error(ctx.render(self.error_message))
            raise TaskError("Fail on a condition")
        return None


@register
class Assert(RunnableTask):
    """Check `conditions`, each a template that must render truthy; fail naming how many did not.

    Every condition is checked, each failed one logged at ERROR; the counters `success` and
    `failed` say how many of each there were.
    """

    TYPE = "io.kestra.plugin.core.execution.Assert"

    conditions: list[str]
    error_message: str | None = None

    async def run(self, ctx: RunContext) -> Mapping[str, Any] | None:
        failed = 0
        for condition in self.conditions:
            try:
                holds = is_truthy_text(ctx.render(condition))
            except ExpressionError as exc:
                ctx.logger.error(f"Assertion `{condition}` failed, failed to render `{exc}`")
                failed += 1
                continue
            if not holds:
                ctx.logger.error(f"Assertion `{condition}` failed!")
                failed += 1
        ctx.metric("success", len(self.conditions) - failed)
        ctx.metric("failed", failed)
        if failed:
            message = f"{failed} assertion{'s' if failed > 1 else ''} failed!"
            if self.error_message is not None:
                message += "\n" + ctx.render(self.error_message)
            raise TaskError(message)
        return None


@register
class Sleep(RunnableTask):
    """Wait for `duration`."""

    TYPE = "io.kestra.plugin.core.flow.Sleep"

    duration: DynamicDuration

    async def run(self, ctx: RunContext) -> Mapping[str, Any] | None:
        duration = ctx.duration(self.duration)
        if duration is not None:
            await asyncio.sleep(max(duration.total_seconds(), 0.0))
        return None
