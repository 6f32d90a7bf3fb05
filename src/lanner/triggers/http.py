"""The HTTP polling trigger: call a URL every `interval`; start an execution when the response
satisfies `responseCondition` (spec http-tasks.md §4).

Each poll is a `Request` task run: the trigger holds a Request built from its own request
properties, with `options.allowFailed` forced on (the condition, not the status code, decides),
so building, sending, options and errors are the Request's. The scheduler runs the polls
(`lanner.polling`); this module only says what one poll does.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Self

from pydantic import PrivateAttr, ValidationError, field_validator, model_validator
from pydantic.alias_generators import to_camel
from pydantic_core import InitErrorDetails, PydanticCustomError

from lanner.durations import format_duration
from lanner.encryption import decrypt_outputs
from lanner.expressions import is_truthy_text, render
from lanner.properties import Duration, Dynamic
from lanner.tasks.http import Request
from lanner.tasks.http_options import HttpOptions, SslOptions, Text
from lanner.triggers.base import Trigger
from lanner.triggers.registry import register

if TYPE_CHECKING:
    from lanner.context import RunContext

__all__ = ["DEFAULT_CONDITION", "DEFAULT_INTERVAL", "HttpTrigger"]

DEFAULT_INTERVAL = timedelta(seconds=60)
DEFAULT_CONDITION = "{{ response.statusCode < 400 }}"

# The trigger's properties that are the Request's, handed to it as written.
_REQUEST_PROPERTIES = (
    "uri",
    "method",
    "params",
    "body",
    "form_data",
    "content_type",
    "headers",
    "ssl_options",
    "encrypt_body",
)


@register
class HttpTrigger(Trigger):
    """Poll an HTTP endpoint; start an execution when `responseCondition` holds."""

    TYPE: ClassVar[str] = "io.kestra.plugin.core.http.Trigger"

    uri: str
    method: str = "GET"
    params: Dynamic[dict[str, Any]] | None = None
    body: Text | None = None
    form_data: Dynamic[dict[str, Any]] | None = None
    content_type: str = "application/json"
    headers: Dynamic[dict[str, Any]] | None = None
    options: HttpOptions | None = None
    ssl_options: SslOptions | None = None
    encrypt_body: Dynamic[bool] = False
    interval: Duration = DEFAULT_INTERVAL
    response_condition: str = DEFAULT_CONDITION

    _request: Request = PrivateAttr()

    @field_validator("interval")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError(f"expected a positive duration, got {format_duration(value)}")
        return value

    @model_validator(mode="after")
    def _build_request(self) -> Self:
        """Check the request properties as the Request task does, and keep that Request."""
        given = {
            to_camel(name): getattr(self, name)
            for name in _REQUEST_PROPERTIES
            if name in self.model_fields_set
        }
        options = (self.options or HttpOptions()).model_copy(update={"allow_failed": True})
        source = {**given, "options": options, "id": self.id, "type": Request.TYPE}
        try:
            self._request = Request.model_validate(source)
        except ValidationError as exc:
            # The Request names the property at fault: keep its place for the flow's message.
            details = [
                InitErrorDetails(
                    type=PydanticCustomError("request", error["msg"]),
                    loc=error["loc"],
                    input=error["input"],
                )
                for error in exc.errors()
            ]
            raise ValidationError.from_exception_data("Trigger", details) from exc
        return self

    @property
    def request(self) -> Request:
        """Return the Request one poll runs."""
        return self._request

    async def poll(self, ctx: RunContext) -> dict[str, Any] | None:
        """Send the request; return the execution's `trigger.*` variables when the condition
        holds, None when it does not. Request and rendering errors raise."""
        outputs = dict(await self._request.run(ctx) or {})
        code = outputs.get("code")
        ctx.logger.debug(f"{outputs.get('uri')} respond with status code '{code}'")
        body = outputs.get("body")
        if "encryptedBody" in outputs:
            # The condition reads the plaintext; the execution keeps `trigger.encryptedBody`.
            key = ctx.settings.encryption_key
            body = decrypt_outputs(outputs["encryptedBody"], key, "response.body")
        return outputs if self.accepts(outputs, body, ctx.variables, ctx.functions) else None

    def accepts(
        self,
        outputs: Mapping[str, Any],
        body: Any,
        variables: Mapping[str, Any],
        functions: Mapping[str, Any],
    ) -> bool:
        """Render `responseCondition` with `response` = {statusCode, body, headers}."""
        response = {
            "statusCode": outputs.get("code"),
            "body": body,
            "headers": outputs.get("headers"),
        }
        text = render(self.response_condition, {**variables, "response": response}, functions)
        return is_truthy_text(text)
