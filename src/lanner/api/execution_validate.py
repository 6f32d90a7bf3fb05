"""Check the inputs of a would-be execution, or of a resume, without starting anything.

Both routes answer 200 with one item per declared input, in declaration order, whether the
values are valid or not: `{id, namespace, inputs: [{input, value, enabled, errors}]}`, where
`id` and `namespace` are the flow's. For a new execution, `checks` lists the flow's checks it
would fail (`{message, style, behavior}`), once every input is accepted. A form is fixed by
reading the `errors` of each input; the request itself fails only when there is nothing to
check against (unknown flow or execution: 404; disabled flow, or an execution that is not
PAUSED: 409; a bad label or revision: 422).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from lanner.api import execution_ops as ops
from lanner.api.deps import ServicesDep
from lanner.api.execution_filters import INT_MAX, LABELS
from lanner.api.execution_forms import INPUTS_BODY, parse_labels, read_inputs
from lanner.api.execution_paths import ExecutionId, FlowId, Namespace, action_route
from lanner.api.execution_watch import load
from lanner.api.models import ErrorModel
from lanner.engine_support import checks_judge, new_execution_checks, paused_resume_checks
from lanner.flow_checks import FlowCheck
from lanner.flowjson import plain
from lanner.flowrepo import StoredFlow
from lanner.ids import new_id
from lanner.inputs import InputCheck, Upload, accepted_values
from lanner.jsonvalues import jsonable
from lanner.services import Services

router = APIRouter(tags=["Executions"])

# What a SECRET input's value is shown as: a form check must not echo a secret back.
SECRET_MASK = "********"

_NEW_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorModel, "description": "Unknown flow (or revision)"},
    409: {"model": ErrorModel, "description": "The flow is disabled"},
    422: {"model": ErrorModel, "description": "Invalid request (a system label, say)"},
}
_RESUME_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorModel, "description": "Unknown execution"},
    409: {"model": ErrorModel, "description": "The execution is not PAUSED"},
    422: {"model": ErrorModel, "description": "Invalid request"},
}


class InputErrorModel(BaseModel):
    """One reason a value was refused."""

    message: str


class InputAndValueModel(BaseModel):
    """One declared input, the value it resolved to, and why it was refused if it was."""

    input: dict[str, Any] = Field(description="The input declaration, as in the flow's JSON")
    value: Any = Field(
        default=None,
        description="The typed value, or the submitted one when refused; absent when none",
    )
    enabled: bool = Field(description="False when the input's dependsOn leaves it out")
    errors: list[InputErrorModel] = Field(description="Empty when the value is accepted")


class FailedCheckModel(BaseModel):
    """One of the flow's `checks` that the execution would fail."""

    message: str
    style: str = Field(description="ERROR, SUCCESS, WARNING or INFO")
    behavior: str = Field(description="BLOCK_EXECUTION, FAIL_EXECUTION or CREATE_EXECUTION")


class ValidateInputsModel(BaseModel):
    """The inputs of a flow (or of a paused task's onResume), each checked."""

    id: str = Field(description="The flow id")
    namespace: str
    inputs: list[InputAndValueModel]
    checks: list[FailedCheckModel] | None = Field(
        default=None,
        description="The flow's checks the new execution would fail (new executions only)",
    )


@router.post(
    "/executions/{namespace}/{flowId:flow_id}/validate",
    summary="Validate the inputs of a new execution of a flow, without creating it",
    response_model=ValidateInputsModel,
    responses=_NEW_ERRORS,
    openapi_extra=INPUTS_BODY,
)
async def validate_new_execution_inputs(
    request: Request,
    services: ServicesDep,
    namespace: Namespace,
    flow_id: FlowId,
    labels: Annotated[list[str] | None, LABELS] = None,
    revision: Annotated[int | None, Query(ge=1, le=INT_MAX)] = None,
) -> JSONResponse:
    stored = await ops.executable_flow(services, namespace, flow_id, revision)
    parse_labels(labels or ())  # refused as on create, though nothing keeps them
    submitted = await read_inputs(request, stored.flow, services.settings.max_request_bytes)
    checks = new_execution_checks(stored.flow, new_id(), submitted)
    answer = _answer(stored.flow.id, stored.flow.namespace, checks)
    answer["checks"] = [
        failed.to_json() for failed in _failed_flow_checks(services, stored, checks)
    ]
    return JSONResponse(answer)


def _failed_flow_checks(
    services: Services, stored: StoredFlow, checks: Sequence[InputCheck]
) -> list[FlowCheck]:
    """The flow's `checks` a new execution with these inputs fails; none while an input is
    refused (its own error says what to fix first)."""
    judge = checks_judge(stored.flow, stored.revision, services.settings, services.store)
    values = accepted_values(checks)
    if judge is None or values is None:
        return []
    return judge(values)


@action_route(
    router,
    "resume/validate",
    summary="Validate the onResume inputs of a paused execution, without resuming it",
    response_model=ValidateInputsModel,
    responses=_RESUME_ERRORS,
    openapi_extra=INPUTS_BODY,
)
async def validate_resume_inputs(
    request: Request, services: ServicesDep, execution_id: ExecutionId
) -> JSONResponse:
    execution = await load(services, execution_id)
    stored = await services.flows.get(
        execution.namespace, execution.flow_id, execution.flow_revision, allow_deleted=True
    )
    submitted = await read_inputs(request, stored.flow, services.settings.max_request_bytes)
    checks = paused_resume_checks(stored.flow, execution, submitted)
    return JSONResponse(_answer(execution.flow_id, execution.namespace, checks))


def _answer(flow_id: str, namespace: str, checks: Sequence[InputCheck]) -> dict[str, Any]:
    return {"id": flow_id, "namespace": namespace, "inputs": [_item(check) for check in checks]}


def _item(check: InputCheck) -> dict[str, Any]:
    item: dict[str, Any] = {"input": plain(check.declaration)}
    value = _shown_value(check)
    if value is not None:  # Kestra leaves null properties out of its JSON
        item["value"] = value
    item["enabled"] = check.enabled
    item["errors"] = [{"message": problem} for problem in check.problems]
    return item


def _shown_value(check: InputCheck) -> Any:
    if check.value is None:
        return None
    if check.declaration.type == "SECRET":
        return SECRET_MASK
    if isinstance(check.value, Upload):  # a file refused before it had a URI
        return check.value.filename
    return jsonable(check.value)
