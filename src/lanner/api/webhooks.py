"""Webhooks: `GET|POST|PUT /executions/webhook/{namespace}/{flowId}/{key}` (spec api.md §6).

The call starts an execution of the flow whose Webhook trigger has that key (rendered, so a key
may come from `secret()` or `kv()`), with the request as `trigger.body`, `trigger.headers` and
`trigger.parameters`, and answers with the execution. Conditions that do not hold answer 204.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response

from lanner.api.deps import ServicesDep
from lanner.api.execution_forms import base_url, execution_url
from lanner.api.models import ErrorModel, ExecutionModel
from lanner.exceptions import ExpressionError, FlowError, IllegalStateError, NotFoundError
from lanner.executions import Execution
from lanner.expressions import to_json
from lanner.flow_context import trigger_context
from lanner.flowrepo import StoredFlow
from lanner.scheduler import start_execution
from lanner.services import Services
from lanner.states import State
from lanner.triggers import Webhook
from lanner.triggers.webhook import parse_body

router = APIRouter(tags=["Executions"])

WEBHOOK = "/executions/webhook/{namespace}/{flowId}/{key}"
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": ExecutionModel, "description": "The execution started"},
    204: {"description": "The trigger's conditions do not hold: nothing started"},
    404: {"model": ErrorModel, "description": "Unknown flow or webhook key"},
    409: {"model": ErrorModel, "description": "The flow or the trigger is disabled, or invalid"},
}


@dataclass(frozen=True)
class WebhookCall:
    """What a webhook call carries into the execution."""

    body: Any
    headers: dict[str, list[str]]
    parameters: dict[str, list[str]]

    @classmethod
    async def read(cls, request: Request) -> WebhookCall:
        return cls(
            body=parse_body(await request.body()),
            headers=_lists(request.headers.items()),
            parameters=_lists(request.query_params.multi_items()),
        )


def _lists(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    return grouped


# One route per method: FastAPI names an operation after the first method of its route.
@router.get(WEBHOOK, summary="Start an execution from a webhook (GET)", responses=_RESPONSES)
@router.post(WEBHOOK, summary="Start an execution from a webhook", responses=_RESPONSES)
@router.put(WEBHOOK, summary="Start an execution from a webhook (PUT)", responses=_RESPONSES)
async def webhook(
    request: Request,
    services: ServicesDep,
    namespace: str,
    flow_id: Annotated[str, Path(alias="flowId")],
    key: str,
) -> Response:
    """Start the flow whose Webhook trigger has this key; answer with the execution."""
    stored = await _flow(services, namespace, flow_id)
    trigger, context = _matching(services, stored, key)
    await _refuse_disabled(services, stored, trigger)
    call = await WebhookCall.read(request)
    variables = Webhook.variables(call.body, call.headers, call.parameters)
    context["trigger"] = variables
    if not _conditions_hold(trigger, context, services):
        return Response(status_code=204)
    functions = services.scheduler.functions
    execution = await start_execution(
        services.runner, stored, trigger, variables, context, functions
    )
    return await _answer(request, services, trigger, execution)


async def _flow(services: Services, namespace: str, flow_id: str) -> StoredFlow:
    try:
        stored = await services.flows.get(namespace, flow_id)
    except NotFoundError as exc:
        raise NotFoundError("Flow not found") from exc
    except FlowError as exc:
        raise IllegalStateError(f"Cannot execute an invalid flow: {exc}") from exc
    if stored.flow.disabled:
        raise IllegalStateError("Cannot execute a disabled flow")
    return stored


def _matching(services: Services, stored: StoredFlow, key: str) -> tuple[Webhook, dict[str, Any]]:
    """Return the flow's Webhook trigger whose rendered key is `key`, with the render context."""
    context = trigger_context(stored.flow, stored.revision, services.settings)
    functions = services.scheduler.functions
    for trigger in stored.flow.triggers or ():
        if isinstance(trigger, Webhook) and _key_of(trigger, context, functions) == key:
            return trigger, context
    raise NotFoundError("Webhook not found")


def _key_of(trigger: Webhook, context: Mapping[str, Any], functions: Any) -> str | None:
    try:
        return trigger.rendered_key(context, functions)
    except ExpressionError:
        # A key that cannot render (a missing secret, say) matches no call.
        return None


async def _refuse_disabled(services: Services, stored: StoredFlow, trigger: Webhook) -> None:
    flow = stored.flow
    state = await services.store.get_trigger_state(flow.namespace, flow.id, trigger.id)
    if trigger.disabled or (state is not None and state.disabled):
        raise IllegalStateError(f"Cannot execute a disabled trigger '{trigger.id}'")


def _conditions_hold(trigger: Webhook, context: Mapping[str, Any], services: Services) -> bool:
    try:
        return trigger.conditions_hold(context, services.scheduler.functions)
    except ExpressionError as exc:
        raise ExpressionError(
            f"Unable to evaluate the conditions of '{trigger.id}': {exc}"
        ) from exc


async def _answer(
    request: Request, services: Services, trigger: Webhook, execution: Execution
) -> Response:
    """Answer with the execution; with `wait`, once it has ended (500 if it failed)."""
    if not trigger.wait:
        return _execution_response(request, services, execution)
    ended = await services.runner.wait(execution.id)
    status = 500 if ended.current is State.FAILED else 200
    if trigger.return_outputs:
        return _outputs_response(trigger, ended, status)
    return _execution_response(request, services, ended, status)


def _execution_response(
    request: Request, services: Services, execution: Execution, status: int = 200
) -> JSONResponse:
    body = execution.to_json()
    body["url"] = execution_url(base_url(request, services.settings.url), execution)
    return JSONResponse(body, status_code=status)


def _outputs_response(trigger: Webhook, execution: Execution, status: int) -> Response:
    outputs = dict(execution.outputs or {})
    if trigger.response_content_type == "text/plain":
        return Response(to_json(outputs), status_code=status, media_type="text/plain")
    return JSONResponse(outputs, status_code=status)
