"""Trigger conditions: tests a trigger must pass before it starts an execution.

Only the conditions that need nothing but the trigger's variables are here: `Expression`
(formerly `VariableCondition`), `Not` and `Or`. Kestra's other condition types (dates, flows,
executions, holidays...) are refused when the flow is validated, naming the type, rather than
accepted and silently ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import InitErrorDetails, PydanticCustomError

from lanner.expressions import Function, is_truthy_text, render
from lanner.tasks.registry import canonical_type

__all__ = ["Condition", "ConditionRef", "ExpressionCondition", "NotCondition", "OrCondition"]

_PACKAGE = "io.kestra.plugin.core.condition."
# Kestra's condition types that lanner does not evaluate, so their refusal says so.
_NOT_SUPPORTED = frozenset(
    _PACKAGE + name
    for name in (
        "DateTimeBetween",
        "DayWeek",
        "DayWeekInMonth",
        "ExecutionFlow",
        "ExecutionLabels",
        "ExecutionNamespace",
        "ExecutionOutputs",
        "ExecutionStatus",
        "Flow",
        "FlowNamespace",
        "HasRetryAttempt",
        "Multiple",
        "PublicHoliday",
        "TimeBetween",
        "Weekend",
    )
)

ConditionClass = TypeVar("ConditionClass", bound="type[Condition]")
_CONDITIONS: dict[str, type[Condition]] = {}


def condition_type(name: str) -> str:
    """Return the current name of a condition type (`...condition.ExpressionCondition` too)."""
    current = canonical_type(name)
    if current.startswith(_PACKAGE) and current.endswith("Condition"):
        current = current.removesuffix("Condition")
    return current


def _register(cls: ConditionClass) -> ConditionClass:
    _CONDITIONS[cls.TYPE] = cls
    return cls


class Condition(BaseModel):
    """Properties every condition accepts."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        validate_by_alias=True,
        validate_by_name=False,
        alias_generator=to_camel,
    )

    TYPE: ClassVar[str] = ""

    type: str

    def test(self, variables: Mapping[str, Any], functions: Mapping[str, Function]) -> bool:
        """Say whether the condition holds; an expression that cannot render raises."""
        raise NotImplementedError


def _validate_condition(value: Any, handler: ValidatorFunctionWrapHandler) -> Condition:
    if isinstance(value, Condition):
        return value
    if not isinstance(value, Mapping):
        raise PydanticCustomError("condition", "expected a condition (a mapping with a type)")
    type_name = value.get("type")
    if type_name is None:
        details = InitErrorDetails(type="missing", loc=("type",), input=dict(value))
        raise ValidationError.from_exception_data("Condition", [details])
    current = condition_type(str(type_name))
    cls = _CONDITIONS.get(current)
    if cls is None:
        extra = " (lanner does not evaluate this condition)" if current in _NOT_SUPPORTED else ""
        error = PydanticCustomError(
            "unknown_condition_type",
            "Invalid type: {type}{extra}",
            {"type": type_name, "extra": extra},
        )
        details = InitErrorDetails(type=error, loc=("type",), input=type_name)
        raise ValidationError.from_exception_data("Condition", [details])
    return cls.model_validate({**value, "type": cls.TYPE})


ConditionRef = Annotated[Condition, WrapValidator(_validate_condition)]
"""A condition of any supported type, chosen by its `type` property."""


def lookup_condition(name: str) -> type[Condition] | None:
    """Return the condition class for a type name or one of its aliases."""
    return _CONDITIONS.get(condition_type(name))


@_register
class ExpressionCondition(Condition):
    """Holds when `expression` renders to a truthy text (flows.md §5)."""

    TYPE: ClassVar[str] = _PACKAGE + "Expression"

    expression: str

    def test(self, variables: Mapping[str, Any], functions: Mapping[str, Function]) -> bool:
        return is_truthy_text(render(self.expression, variables, functions))


@_register
class NotCondition(Condition):
    """Holds when none of its conditions holds."""

    TYPE: ClassVar[str] = _PACKAGE + "Not"

    conditions: Annotated[list[ConditionRef], Field(min_length=1)]

    def test(self, variables: Mapping[str, Any], functions: Mapping[str, Function]) -> bool:
        return not any(item.test(variables, functions) for item in self.conditions)


@_register
class OrCondition(Condition):
    """Holds when at least one of its conditions holds."""

    TYPE: ClassVar[str] = _PACKAGE + "Or"

    conditions: Annotated[list[ConditionRef], Field(min_length=1)]

    def test(self, variables: Mapping[str, Any], functions: Mapping[str, Function]) -> bool:
        return any(item.test(variables, functions) for item in self.conditions)
