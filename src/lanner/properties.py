"""Typed task properties that may also be written as expressions.

Kestra lets most typed properties hold a template instead of a literal (`delay: "{{ inputs.d }}"`).
`Dynamic[T]` accepts either a valid `T` or a string that contains a template; the template is
kept as an `Expr` and turned into a `T` when the task runs (see `coerce`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, TypeAlias, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer, WrapValidator
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from lanner.durations import format_duration, parse_duration

T = TypeVar("T")


class YamlRecord(BaseModel):
    """A record read from a flow's YAML, as strictly as Kestra reads it.

    Unknown properties are errors, properties are spelled as in Kestra (camelCase: the
    snake_case Python names are refused), numbers given to text properties become text, and
    records are immutable once read.
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        validate_by_alias=True,
        validate_by_name=False,
        coerce_numbers_to_str=True,
        alias_generator=to_camel,
        arbitrary_types_allowed=True,
        validate_default=False,
    )


@dataclass(frozen=True, slots=True)
class Expr:
    """A property value that is a template, rendered when the task runs."""

    source: str

    def __str__(self) -> str:
        return self.source


def looks_like_template(text: str) -> bool:
    """Say whether a string holds a Pebble tag."""
    return "{{" in text or "{%" in text


def _keep_templates(value: Any, handler: Any) -> Any:
    if isinstance(value, Expr):
        return value
    if isinstance(value, str) and looks_like_template(value):
        return Expr(value)
    return handler(value)


def _to_duration(value: Any) -> Any:
    if isinstance(value, str) and not looks_like_template(value):
        try:
            return parse_duration(value)
        except ValueError as exc:
            raise PydanticCustomError(
                "duration",
                "expected an ISO-8601 duration like PT5M, got '{value}'",
                {"value": value},
            ) from exc
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    return value


Duration: TypeAlias = Annotated[
    timedelta,
    BeforeValidator(_to_duration),
    PlainSerializer(format_duration, return_type=str),
]
"""A duration written in ISO-8601 (`PT1S`, `PT0.25s`, `P1D`)."""

Dynamic: TypeAlias = Annotated[T | Expr, WrapValidator(_keep_templates)]
"""A property of type T, or a template rendered to a T at run time."""

DynamicDuration: TypeAlias = Annotated[Duration | Expr, WrapValidator(_keep_templates)]


def coerce_duration(value: Any) -> timedelta:
    """Turn a rendered value into a duration, or raise ValueError."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    if isinstance(value, str):
        return parse_duration(value.strip())
    raise ValueError(f"expected a duration, got {value!r}")
