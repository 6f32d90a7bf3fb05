"""What a request to create an execution carries: labels, inputs and where to show the result.

Inputs come as Kestra's clients send them: `multipart/form-data` with one text part per input
and one file part per FILE input (keyed by its part name, or by its file name for the old
`files` part), `application/x-www-form-urlencoded`, a JSON object, or no body at all.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request

from lanner.api.flow_search import label_filter
from lanner.exceptions import LannerError
from lanner.executions import Execution, Label
from lanner.flows import Flow
from lanner.inputs import Upload

CORRELATION_ID = "system.correlationId"
SYSTEM_PREFIX = "system."
# The part name Kestra's older clients use for every file, each keyed by its file name.
FILES_PART = "files"
# The OpenAPI request body of the routes that read inputs (`read_inputs`).
INPUTS_BODY: dict[str, Any] = {
    "requestBody": {
        "required": False,
        "description": "The inputs: one part per input, a file part per FILE input",
        "content": {
            "multipart/form-data": {
                "schema": {"type": "object", "additionalProperties": {"type": "string"}}
            },
            "application/x-www-form-urlencoded": {
                "schema": {"type": "object", "additionalProperties": {"type": "string"}}
            },
        },
    }
}


def parse_labels(values: Iterable[str]) -> list[Label]:
    """Read `key:value` query values; only `system.correlationId` may be a system label."""
    labels = [Label(key, value) for key, value in label_filter(values).items()]
    refuse_system_labels([label for label in labels if label.key != CORRELATION_ID])
    return labels


def refuse_system_labels(labels: Sequence[Label], allowed: Sequence[Label] = ()) -> None:
    """Raise unless every `system.*` label is one of `allowed`: only lanner sets them."""
    for label in labels:
        if label.key.startswith(SYSTEM_PREFIX) and label not in allowed:
            raise LannerError(
                "System labels can only be set by Kestra itself, offending label: "
                f"{label.key}={label.value}"
            )


async def read_inputs(request: Request, flow: Flow, max_part_size: int) -> dict[str, Any]:
    """Return the submitted inputs of a create request, file parts as `Upload`s."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        return await _json_inputs(request)
    async with request.form(max_part_size=max_part_size) as form:
        return await _form_inputs(form, {decl.id for decl in flow.inputs or ()})


async def _json_inputs(request: Request) -> dict[str, Any]:
    body = await request.body()
    if not body.strip():
        return {}
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise LannerError("Invalid json: the inputs must be a JSON object") from exc
    if not isinstance(data, dict):
        raise LannerError("Invalid json: the inputs must be a JSON object")
    return data


async def _form_inputs(form: FormData, declared: set[str]) -> dict[str, Any]:
    # A part sent twice counts once, the last one, as in a map of parts.
    values: dict[str, Any] = {}
    for name, part in form.multi_items():
        if isinstance(part, UploadFile):
            input_id, upload = await _upload(name, part, declared)
            values[input_id] = upload
        else:
            values[name] = part
    return values


async def _upload(name: str, part: UploadFile, declared: set[str]) -> tuple[str, Upload]:
    filename = part.filename or name
    input_id = filename if name == FILES_PART and name not in declared else name
    return input_id, Upload(filename=filename, data=await part.read())


def execution_url(base: str, execution: Execution) -> str:
    """Return the UI page of an execution."""
    return (
        f"{base.rstrip('/')}/ui/executions/{execution.namespace}/{execution.flow_id}/{execution.id}"
    )


def base_url(request: Request, configured: str | None) -> str:
    """Return the server's public URL: the configured one, else the one the client used."""
    return configured or str(request.base_url)
