"""The properties every trigger has, and `TriggerRef`, which picks a trigger class by `type`.

A trigger decides *when* an execution starts; the scheduler (Schedule) and the webhook route
(Webhook) do the starting. What a trigger adds to the execution is its `variables`, exposed to
the flow as `trigger.*`, its `inputs` and its `labels`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

from pydantic import (
    Field,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
)

from lanner.executions import Label, Level
from lanner.expressions import Function
from lanner.properties import YamlRecord
from lanner.states import State
from lanner.triggers import registry
from lanner.triggers.conditions import ConditionRef

__all__ = ["TRIGGER_ID_PATTERN", "Trigger", "TriggerRef", "parse_labels"]

TRIGGER_ID_PATTERN = r"^[a-zA-Z0-9][a-zA-Z0-9_-]*$"


class Trigger(YamlRecord):
    """Properties every trigger accepts (spec flows.md §10)."""

    # Canonical Kestra type name, set by each concrete trigger class.
    TYPE: ClassVar[str] = ""

    id: Annotated[str, Field(pattern=TRIGGER_ID_PATTERN, max_length=100)]
    type: str
    description: str | None = None
    conditions: list[ConditionRef] | None = None
    disabled: bool = False
    log_level: Level | None = None
    min_log_level: Level | None = None
    log_to_file: bool = False
    worker_group: Mapping[str, Any] | None = None
    stop_after: list[State] | None = None
    inputs: dict[str, Any] | None = None
    labels: tuple[Label, ...] = ()

    @field_validator("labels", mode="before")
    @classmethod
    def _normalize_labels(cls, value: Any) -> Any:
        return parse_labels(value)

    def conditions_hold(
        self, variables: Mapping[str, Any], functions: Mapping[str, Function]
    ) -> bool:
        """Say whether every condition holds (rendering errors raise ExpressionError)."""
        return all(condition.test(variables, functions) for condition in self.conditions or ())

    def stops_after(self, state: State) -> bool:
        """Say whether an execution ending in `state` disables this trigger."""
        return state in (self.stop_after or ())


def parse_labels(value: Any) -> tuple[Label, ...]:
    """Read labels written as a map or as a list of {key, value}."""
    if value is None:
        return ()
    if isinstance(value, Mapping):
        return tuple(Label(str(key), _label_text(item)) for key, item in value.items())
    if isinstance(value, list | tuple):
        return tuple(_list_label(item) for item in value)
    raise ValueError("labels must be a map or a list of {key, value}")


def _list_label(item: Any) -> Label:
    if isinstance(item, Label):
        return item
    if not isinstance(item, Mapping) or "key" not in item:
        raise ValueError("each label must be a mapping with key and value")
    return Label(str(item["key"]), _label_text(item.get("value")))


def _label_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _validate_trigger(value: Any, handler: ValidatorFunctionWrapHandler) -> Trigger:
    """Validate a trigger mapping with the class its `type` names (aliases included)."""
    trigger: Trigger = registry.TRIGGERS.validate(value, handler, Trigger)
    return trigger


TriggerRef = Annotated[Trigger, WrapValidator(_validate_trigger)]
"""A trigger of any registered type, chosen by its `type` property."""
