"""The SseRequest task: read a Server-Sent Events stream to its end (spec http-tasks.md §5).

The request is built and sent by `HttpTask`, as for `Request`; the body is cut into events by
`lanner.sse` as it arrives. Each event's data is read as JSON when it is JSON, else kept as
text. With `concatJqExpression`, a jq program runs on each event (`{data, id, name, ...}`) and
the texts it gives are concatenated into `result`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

import httpx
import jq
from pydantic import TypeAdapter

from lanner.durations import format_duration
from lanner.exceptions import TaskError
from lanner.expressions.values import to_json
from lanner.properties import Dynamic
from lanner.sse import LineSplitter, SseEvent, SseParser
from lanner.tasks.http import HttpTask, check_status, read_body
from lanner.tasks.http_options import Text, resolve
from lanner.tasks.registry import register

if TYPE_CHECKING:
    from lanner.context import RunContext

_BOOL: TypeAdapter[bool] = TypeAdapter(bool)
# Jackson's names for the JSON types a jq result may have, used in the error message.
_JSON_TYPES = {type(None): "NULL", dict: "OBJECT", list: "ARRAY"}


@register
class SseRequest(HttpTask):
    """Consume the events of a Server-Sent Events endpoint until the stream ends."""

    TYPE = "io.kestra.plugin.core.http.SseRequest"

    concat_jq_expression: Text | None = None
    failed_on_missing_jq: Dynamic[bool] = True

    async def run(self, ctx: RunContext) -> Mapping[str, Any] | None:
        expression, program = self._program(ctx)
        options = self.resolve_options(ctx)
        async with self.exchange(ctx, options) as exchange:
            response, code = exchange.response, exchange.response.status_code
            ctx.logger.debug(f"Stream '{exchange.uri}' with the response code '{code}'")
            if not options.accepts(code):
                body = await read_body(response, options.max_content_length)
                check_status(options, code, body.decode("utf-8", errors="replace"))
            events = [event_json(event) async for event in read_events(response)]
        outputs: dict[str, Any] = {"uri": exchange.uri, "size": len(events)}
        texts = self._texts(ctx, expression, program, events) if program is not None else []
        # As Kestra: `events` only when jq gave nothing, `result` only when it gave something.
        if texts:
            outputs["result"] = "".join(texts)
        else:
            outputs["events"] = events
        return outputs

    def _program(self, ctx: RunContext) -> tuple[str, Any]:
        if self.concat_jq_expression is None:
            return "", None
        expression = ctx.render(self.concat_jq_expression)
        try:
            return expression, jq.compile(expression)
        except ValueError as exc:
            raise TaskError(f"Invalid jq expression '{expression}' (concatJqExpression)") from exc

    def _texts(
        self, ctx: RunContext, expression: str, program: Any, events: list[dict[str, Any]]
    ) -> list[str]:
        strict = resolve(ctx, self.failed_on_missing_jq, _BOOL, "failedOnMissingJq")
        texts: list[str] = []
        for event in events:
            try:
                text = jq_text(program, event)
            except ValueError as exc:
                error = (
                    f"Failed to resolve JQ expression '{expression}' and value '{to_json(event)}'"
                )
                if strict:
                    raise TaskError(f"{error}: {exc}") from exc
                ctx.logger.debug(f"{error}. Skipping this event.")
                continue
            if text is not None:
                texts.append(text)
        return texts


async def read_events(response: httpx.Response) -> AsyncIterator[SseEvent]:
    """Yield the events of a streamed response as their blank lines arrive."""
    splitter, parser = LineSplitter(), SseParser()
    async for chunk in response.aiter_bytes():
        for line in splitter.feed(chunk):
            event = parser.line(line)
            if event is not None:
                yield event


def event_json(event: SseEvent) -> dict[str, Any]:
    """Return an event as Kestra prints it: data parsed when it is JSON, no null fields."""
    found: dict[str, Any] = {
        "data": _parse_data(event.data),
        "id": event.id,
        "name": event.name,
        "comment": event.comment,
        "retry": format_duration(event.retry) if event.retry is not None else None,
    }
    return {key: value for key, value in found.items() if value is not None}


def _parse_data(text: str) -> Any:
    if not text:
        return None
    try:
        return json.loads(text, parse_constant=_no_constant)
    except ValueError:
        return text


def _no_constant(name: str) -> Any:
    # NaN and Infinity are not JSON: such data stays text, as with Jackson.
    raise ValueError(name)


def jq_text(program: Any, event: Mapping[str, Any]) -> str | None:
    """Run jq on one event; return the text of its last result (None when it gives none).

    Only strings, numbers and booleans have a text; any other result raises ValueError.
    """
    text: str | None = None
    for value in program.input_value(dict(event)).all():
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, str | int | float):
            text = str(value)
        else:
            kind = _JSON_TYPES.get(type(value), type(value).__name__)
            raise ValueError(f"Expected text value from JQ expression but got: {kind}")
    return text
