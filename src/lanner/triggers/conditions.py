"""Trigger conditions: tests a trigger must pass before it starts an execution.

The conditions here need nothing but the variables a trigger renders with: `Expression`
(formerly `VariableCondition`), `Not`, `Or`, the flow being started (`Flow`, `FlowNamespace`),
and, for Flow triggers, the upstream execution in `trigger.*` (`ExecutionFlow`,
`ExecutionStatus`, `ExecutionNamespace`, `ExecutionLabels`, `ExecutionOutputs`). Kestra's other
condition types (dates, holidays, multiple conditions) are refused when the flow is validated,
naming the type, rather than accepted and silently ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
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
from lanner.states import State
from lanner.tasks.registry import canonical_type

__all__ = [
    "Condition",
    "ConditionRef",
    "ExecutionFlowCondition",
    "ExecutionLabelsCondition",
    "ExecutionNamespaceCondition",
    "ExecutionOutputsCondition",
    "ExecutionStatusCondition",
    "ExpressionCondition",
    "FlowCondition",
    "FlowNamespaceCondition",
    "NotCondition",
    "OrCondition",
]

_PACKAGE = "io.kestra.plugin.core.condition."
# Kestra's condition types that lanner does not evaluate, so their refusal says so.
_NOT_SUPPORTED = frozenset(
    _PACKAGE + name
    for name in (
        "DateTimeBetween",
        "DayWeek",
        "DayWeekInMonth",
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


# -- conditions on the flow being started -------------------------------------------------------


def _flow_variable(variables: Mapping[str, Any], key: str) -> Any:
    return (variables.get("flow") or {}).get(key)


@_register
class FlowCondition(Condition):
    """Holds when the flow being started is `namespace`.`flowId`."""

    TYPE: ClassVar[str] = _PACKAGE + "Flow"

    namespace: str
    flow_id: str

    def test(self, variables: Mapping[str, Any], functions: Mapping[str, Function]) -> bool:
        return (_flow_variable(variables, "namespace"), _flow_variable(variables, "id")) == (
            self.namespace,
            self.flow_id,
        )


class Comparison(StrEnum):
    EQUALS = "EQUALS"
    PREFIX = "PREFIX"
    SUFFIX = "SUFFIX"


def _namespace_matches(
    namespace: Any, wanted: str, comparison: Comparison | None, prefix: bool
) -> bool:
    if not isinstance(namespace, str):
        return False
    how = comparison or (Comparison.PREFIX if prefix else Comparison.EQUALS)
    if how is Comparison.PREFIX:
        return namespace.startswith(wanted)
    if how is Comparison.SUFFIX:
        return namespace.endswith(wanted)
    return namespace == wanted


@_register
class FlowNamespaceCondition(Condition):
    """Holds when the flow being started is in `namespace` (or under it, with `prefix`)."""

    TYPE: ClassVar[str] = _PACKAGE + "FlowNamespace"

    namespace: str
    prefix: bool = False

    def test(self, variables: Mapping[str, Any], functions: Mapping[str, Function]) -> bool:
        found = _flow_variable(variables, "namespace")
        return _namespace_matches(found, self.namespace, None, self.prefix)


# -- conditions on the upstream execution of a Flow trigger (its `trigger.*` variables) ----------


def _upstream(variables: Mapping[str, Any]) -> Mapping[str, Any]:
    """Return the upstream execution's variables; empty outside a Flow trigger (never holds)."""
    trigger = variables.get("trigger")
    if isinstance(trigger, Mapping) and "executionId" in trigger:
        return trigger
    return {}


@_register
class ExecutionFlowCondition(Condition):
    """Holds when the upstream execution is one of flow `namespace`.`flowId`."""

    TYPE: ClassVar[str] = _PACKAGE + "ExecutionFlow"

    namespace: str
    flow_id: str

    def test(self, variables: Mapping[str, Any], functions: Mapping[str, Function]) -> bool:
        upstream = _upstream(variables)
        return (upstream.get("namespace"), upstream.get("flowId")) == (self.namespace, self.flow_id)


@_register
class ExecutionStatusCondition(Condition):
    """Holds when the upstream execution's state is in `in` and not in `notIn`."""

    TYPE: ClassVar[str] = _PACKAGE + "ExecutionStatus"

    in_: list[State] | None = Field(default=None, alias="in")
    not_in: list[State] | None = None

    def test(self, variables: Mapping[str, Any], functions: Mapping[str, Function]) -> bool:
        state = _upstream(variables).get("state")
        if state is None:
            return False
        names = {item.value for item in self.in_ or ()}
        excluded = {item.value for item in self.not_in or ()}
        return (not names or state in names) and state not in excluded


@_register
class ExecutionNamespaceCondition(Condition):
    """Holds when the upstream execution's namespace equals (starts, ends with) `namespace`."""

    TYPE: ClassVar[str] = _PACKAGE + "ExecutionNamespace"

    namespace: str
    comparison: Comparison | None = None
    prefix: bool = False

    def test(self, variables: Mapping[str, Any], functions: Mapping[str, Function]) -> bool:
        found = _upstream(variables).get("namespace")
        return _namespace_matches(found, self.namespace, self.comparison, self.prefix)


@_register
class ExecutionLabelsCondition(Condition):
    """Holds when the upstream execution carries every label of `labels`."""

    TYPE: ClassVar[str] = _PACKAGE + "ExecutionLabels"

    labels: dict[str, str] | list[dict[str, str]]

    def test(self, variables: Mapping[str, Any], functions: Mapping[str, Function]) -> bool:
        carried = _upstream(variables).get("executionLabels")
        if not isinstance(carried, Mapping):
            return False
        wanted = (
            self.labels
            if isinstance(self.labels, dict)
            else {item.get("key", ""): item.get("value", "") for item in self.labels}
        )
        return all(str(carried.get(key)) == str(value) for key, value in wanted.items())


@_register
class ExecutionOutputsCondition(Condition):
    """Holds when the upstream execution has outputs and `expression` renders truthy."""

    TYPE: ClassVar[str] = _PACKAGE + "ExecutionOutputs"

    expression: str

    def test(self, variables: Mapping[str, Any], functions: Mapping[str, Function]) -> bool:
        if not _upstream(variables).get("outputs"):
            return False
        return is_truthy_text(render(self.expression, variables, functions))
