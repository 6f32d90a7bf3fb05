"""Path parameters of the execution routes, and the words they must not swallow.

Starlette takes the first route that matches, whatever the order routers are mounted in.
Kestra routes by literal segments first: `POST /executions/{id}/restart` is a restart, not an
execution of a flow named `restart`. Two convertors keep that meaning here: a flow id is never
one of the action verbs, and an execution id never one of the literal collection routes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Path
from starlette.convertors import Convertor, register_url_convertor

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])

# Second segments of `POST|DELETE /executions/{executionId}/<verb>`.
ACTION_VERBS = (
    "change-status",
    "eval",
    "force-run",
    "kill",
    "labels",
    "pause",
    "replay",
    "restart",
    "resume",
    "resume-from-breakpoint",
    "state",
    "unqueue",
)
# Literal routes of the form `/executions/<word>`.
COLLECTION_WORDS = ("by-ids", "by-query", "latest", "namespaces", "search")


def _excluding(words: tuple[str, ...]) -> str:
    alternatives = "|".join(word.replace("-", r"\-") for word in words)
    return rf"(?!(?:{alternatives})(?:/|$))[^/]+"


class _Segment(Convertor[str]):
    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


class _FlowIdSegment(_Segment):
    regex = _excluding(ACTION_VERBS)


class _ExecutionIdSegment(_Segment):
    regex = _excluding(COLLECTION_WORDS)


register_url_convertor("flow_id", _FlowIdSegment())
register_url_convertor("execution_id", _ExecutionIdSegment())

ExecutionId = Annotated[str, Path(alias="executionId", description="The execution id")]
TaskRunId = Annotated[str, Path(alias="taskRunId", description="The task run id")]
Namespace = Annotated[str, Path(description="The flow namespace")]
FlowId = Annotated[str, Path(alias="flowId", description="The flow id")]

EXECUTION = "/executions/{executionId:execution_id}"
"""The path of one execution; routes under it append their own segments."""


def action_route(
    router: APIRouter, verb: str, *, methods: Sequence[str] = ("POST",), **route: Any
) -> Callable[[Endpoint], Endpoint]:
    """Declare `…/executions/{id}/<verb>` and Kestra 2.0's `…/{id}/actions/<verb>` on one
    endpoint, once per method (`route` as for `APIRouter.add_api_route`)."""

    def declare(endpoint: Endpoint) -> Endpoint:
        for path in (f"{EXECUTION}/{verb}", f"{EXECUTION}/actions/{verb}"):
            for method in methods:  # one route per method: each has its own operation id
                router.add_api_route(path, endpoint, methods=[method], **route)
        return endpoint

    return declare
