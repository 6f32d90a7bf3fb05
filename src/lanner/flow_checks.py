"""A flow's `checks`: conditions on a new execution's inputs, judged before it is created.

Each check has a condition (a template that must render to `true`) and a message shown when it
does not. What a failed check does is its `behavior`; when several fail, the strongest wins:
BLOCK_EXECUTION (nothing is created), then FAIL_EXECUTION (the execution is created FAILED and
no task runs), then CREATE_EXECUTION (it runs anyway; the message is only shown). A condition
that cannot be rendered fails as a blocking check whose message says why.

Checks are judged for executions asked for by a person (REST API, UI, command line), with the
inputs already typed; the form checks of `…/validate` report them without creating anything.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field, model_validator

from lanner.exceptions import LannerError
from lanner.expressions import Function, render_typed
from lanner.properties import YamlRecord

__all__ = [
    "BLOCKED",
    "FAILED_BY_CHECKS",
    "CheckBehavior",
    "CheckStyle",
    "ChecksBlockedError",
    "FlowCheck",
    "Judge",
    "failed_checks",
    "outcome",
]

BLOCKED = "Flow execution blocked: one or more condition checks evaluated to false."
FAILED_BY_CHECKS = "Flow execution failed because one or more condition checks evaluated to false."


class CheckStyle(StrEnum):
    """How the UI shows a failed check's message."""

    ERROR = "ERROR"
    SUCCESS = "SUCCESS"
    WARNING = "WARNING"
    INFO = "INFO"


class CheckBehavior(StrEnum):
    """What a failed check does to the execution; declared from the strongest to the weakest."""

    BLOCK_EXECUTION = "BLOCK_EXECUTION"
    FAIL_EXECUTION = "FAIL_EXECUTION"
    CREATE_EXECUTION = "CREATE_EXECUTION"


_STRENGTH = {behavior: rank for rank, behavior in enumerate(CheckBehavior)}


def _schema_with_when(schema: dict[str, Any]) -> None:
    """Let the editor's schema accept `when` in place of `condition`, as the model does."""
    properties = schema.get("properties", {})
    if "condition" in properties:
        properties["when"] = dict(properties["condition"])
        schema["required"] = [name for name in schema.get("required", []) if name != "condition"]
        schema["oneOf"] = [{"required": ["condition"]}, {"required": ["when"]}]


class FlowCheck(YamlRecord):
    """One entry of a flow's `checks`."""

    model_config = ConfigDict(**YamlRecord.model_config, json_schema_extra=_schema_with_when)

    condition: str = Field(min_length=1)
    """A template that must render to boolean `true` (`when` is the same property)."""
    message: str = Field(min_length=1)
    """What the person starting the execution is told when the condition is not `true`."""
    style: CheckStyle = CheckStyle.INFO
    """How the UI shows the message."""
    behavior: CheckBehavior = CheckBehavior.BLOCK_EXECUTION
    """What happens to the execution when the condition is not `true`."""

    @model_validator(mode="before")
    @classmethod
    def _when_names_the_condition(cls, data: Any) -> Any:
        # Newer Kestra releases spell `condition` as `when`; both are read, not both at once.
        if isinstance(data, Mapping) and "when" in data:
            if "condition" in data:
                raise ValueError("give `condition` or `when`, not both")
            data = {("condition" if key == "when" else key): value for key, value in data.items()}
        return data

    def to_json(self) -> dict[str, str]:
        """The check as the validate route reports a failed one."""
        return {"message": self.message, "style": self.style.value, "behavior": self.behavior}


class ChecksBlockedError(LannerError):
    """A new execution was refused by its flow's checks (nothing was created)."""

    def __init__(self, failed: Sequence[FlowCheck]) -> None:
        self.failed = tuple(failed)
        messages = ", ".join(check.message for check in failed)
        super().__init__(f"{BLOCKED}\nFailed checks: {messages}")


Judge = Callable[[Mapping[str, Any]], list[FlowCheck]]
"""Return the checks a new execution with these typed inputs fails."""


def failed_checks(
    checks: Sequence[FlowCheck],
    variables: Mapping[str, Any],
    functions: Mapping[str, Function],
) -> list[FlowCheck]:
    """Return the checks whose condition is not `true` with these variables, in flow order."""
    failed: list[FlowCheck] = []
    for check in checks:
        try:
            holds = render_typed(check.condition, variables, functions) is True
        except LannerError as exc:
            failed.append(_unreadable(exc))
            continue
        if not holds:
            failed.append(check)
    return failed


def outcome(failed: Sequence[FlowCheck]) -> CheckBehavior:
    """Return what the failed checks do together: the strongest behavior among them."""
    if not failed:
        return CheckBehavior.CREATE_EXECUTION
    return min((check.behavior for check in failed), key=_STRENGTH.__getitem__)


def _unreadable(exc: LannerError) -> FlowCheck:
    return FlowCheck.model_validate(
        {
            "condition": "false",
            "message": f"Failed to evaluate check condition. Cause: {exc}",
            "style": CheckStyle.ERROR,
            "behavior": CheckBehavior.BLOCK_EXECUTION,
        }
    )
