"""Flow input declarations: one frozen record per input type, as written in a flow's YAML.

The field names are Kestra's (camelCase in YAML, snake_case in Python). Each class knows the
rule its values must follow (`check_value`); reading a submitted value as the type is done by
`coercion`, and the order of work by `resolve`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import InitErrorDetails, PydanticCustomError

from lanner.durations import parse_duration
from lanner.inputs.coercion import TYPE_NAMES, as_utc, display_value

__all__ = [
    "INPUT_TYPES",
    "ArrayInput",
    "BooleanInput",
    "DateInput",
    "DateTimeInput",
    "DependsOn",
    "DurationInput",
    "EmailInput",
    "EnumInput",
    "FileInput",
    "FloatInput",
    "InputDeclaration",
    "IntInput",
    "JsonInput",
    "MultiselectInput",
    "SecretInput",
    "SelectInput",
    "StringInput",
    "TimeInput",
    "UriInput",
    "YamlInput",
    "check_declarations",
    "parse_input",
    "secret_input_ids",
]

INPUT_ID_PATTERN = r"^[a-zA-Z0-9][.a-zA-Z0-9_-]*$"

# Kestra's email rule; the empty string passes so that an optional field may be left blank.
_EMAIL = re.compile(r"^$|^[a-zA-Z0-9_!#$%&’*+/=?`{|}~^.-]+@[a-zA-Z0-9.-]+$")


def _regex(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"invalid regular expression: {exc}") from exc
    return pattern


def _type_name(name: str) -> str:
    if name not in TYPE_NAMES:
        raise _invalid_type(name)
    return name


def _duration(value: Any) -> Any:
    return parse_duration(value) if isinstance(value, str) else value


def _text(value: Any) -> Any:
    # Jackson reads YAML scalars into String fields (`values: [1, 2]`); so do we.
    if isinstance(value, bool | int | float):
        return display_value(value)
    return value


Regex = Annotated[str, AfterValidator(_regex)]
TypeName = Annotated[str, AfterValidator(_type_name)]
Moment = Annotated[datetime, AfterValidator(as_utc)]
Duration = Annotated[timedelta, BeforeValidator(_duration)]
Choices = tuple[Annotated[str, BeforeValidator(_text)], ...]


class _Record(BaseModel):
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        validate_by_alias=True,
        validate_by_name=False,
        alias_generator=to_camel,
    )


class DependsOn(_Record):
    """Inputs that must be resolved first, and a condition that enables this input."""

    inputs: tuple[str, ...] = ()
    condition: str | None = None


class InputDeclaration(_Record):
    """What every input type declares; subclasses add their own validation properties."""

    id: str = Field(validation_alias=AliasChoices("id", "name"), pattern=INPUT_ID_PATTERN)
    type: str
    description: str | None = None
    display_name: str | None = Field(default=None, max_length=64)
    required: bool = True
    defaults: Any = None
    prefill: Any = None
    depends_on: DependsOn | None = None

    def check_value(self, value: Any) -> str | None:
        """Return why the typed `value` breaks this input's rules, or None when it does not."""
        return None

    def element_type(self) -> str | None:
        """Return the type of the elements, for the types whose values are lists."""
        return None

    def dependencies(self) -> tuple[str, ...]:
        """Return the ids of the inputs this one depends on."""
        return self.depends_on.inputs if self.depends_on is not None else ()


class _PatternInput(InputDeclaration):
    validator: Regex | None = None

    def check_value(self, value: Any) -> str | None:
        if self.validator is not None and re.fullmatch(self.validator, value) is None:
            return f"it must match the pattern `{self.validator}`"
        return None


class StringInput(_PatternInput):
    """A string, optionally matched in full by the `validator` regular expression."""

    type: Literal["STRING"] = "STRING"


class SecretInput(_PatternInput):
    """A string whose value is masked wherever it would be shown."""

    type: Literal["SECRET"] = "SECRET"


class EmailInput(InputDeclaration):
    """An email address."""

    type: Literal["EMAIL"] = "EMAIL"

    def check_value(self, value: Any) -> str | None:
        return None if _EMAIL.fullmatch(value) else "The input must be a valid email"


class _RangeInput(InputDeclaration):
    """A value between `min` and `max`, both included."""

    # Kestra's DURATION message starts with a capital, the others do not.
    _verb: ClassVar[str] = "it must be"

    def _limits(self) -> tuple[Any, Any]:
        raise NotImplementedError

    def check_value(self, value: Any) -> str | None:
        low, high = self._limits()
        if low is not None and value < low:
            return f"{self._verb} more than `{display_value(low)}`"
        if high is not None and value > high:
            return f"{self._verb} less than `{display_value(high)}`"
        return None


class IntInput(_RangeInput):
    """An integer."""

    type: Literal["INT"] = "INT"
    min: int | None = None
    max: int | None = None

    def _limits(self) -> tuple[Any, Any]:
        return self.min, self.max


class FloatInput(_RangeInput):
    """A floating-point number."""

    type: Literal["FLOAT"] = "FLOAT"
    min: float | None = None
    max: float | None = None

    def _limits(self) -> tuple[Any, Any]:
        return self.min, self.max


class DurationInput(_RangeInput):
    """An ISO-8601 duration such as `PT5M6S`."""

    _verb: ClassVar[str] = "It must be"
    type: Literal["DURATION"] = "DURATION"
    min: Duration | None = None
    max: Duration | None = None

    def _limits(self) -> tuple[Any, Any]:
        return self.min, self.max


class _PeriodInput(InputDeclaration):
    """A moment between `after` and `before`, both included."""

    def _bounds(self) -> tuple[Any, Any]:
        raise NotImplementedError

    def check_value(self, value: Any) -> str | None:
        after, before = self._bounds()
        if after is not None and value < after:
            return f"it must be after `{display_value(after)}`"
        if before is not None and value > before:
            return f"it must be before `{display_value(before)}`"
        return None


class DateTimeInput(_PeriodInput):
    """An instant, such as `2019-10-06T18:27:49Z`; read as UTC."""

    type: Literal["DATETIME"] = "DATETIME"
    after: Moment | None = None
    before: Moment | None = None

    def _bounds(self) -> tuple[Any, Any]:
        return self.after, self.before


class DateInput(_PeriodInput):
    """A calendar date, such as `2019-10-06`."""

    type: Literal["DATE"] = "DATE"
    after: date | None = None
    before: date | None = None

    def _bounds(self) -> tuple[Any, Any]:
        return self.after, self.before


class TimeInput(_PeriodInput):
    """A time of day, such as `18:27:49`."""

    type: Literal["TIME"] = "TIME"
    after: time | None = None
    before: time | None = None

    def _bounds(self) -> tuple[Any, Any]:
        return self.after, self.before


class BooleanInput(InputDeclaration):
    """A boolean; `BOOL` is the newer name of `BOOLEAN`."""

    type: Literal["BOOLEAN", "BOOL"] = "BOOLEAN"


class FileInput(InputDeclaration):
    """A file, stored in internal storage and passed on as its `kestra://` URI."""

    type: Literal["FILE"] = "FILE"
    extension: str | None = None

    def upload_name(self) -> str:
        """Return the file name given to an upload that came without one."""
        extension = self.extension or ".upl"
        return self.id + (extension if extension.startswith(".") else f".{extension}")


class JsonInput(InputDeclaration):
    """A JSON document, passed on parsed."""

    type: Literal["JSON"] = "JSON"


class YamlInput(InputDeclaration):
    """A YAML document, passed on parsed."""

    type: Literal["YAML"] = "YAML"


class UriInput(InputDeclaration):
    """A URI with a scheme and a host, such as `https://kestra.io`."""

    type: Literal["URI"] = "URI"


class ArrayInput(InputDeclaration):
    """A list (a JSON array when submitted as text) whose elements are of `itemType`."""

    type: Literal["ARRAY"] = "ARRAY"
    item_type: TypeName

    def element_type(self) -> str | None:
        return self.item_type


class _ChoiceInput(InputDeclaration):
    """One value out of a list of `values`."""

    values: Choices | None = None
    allow_custom_value: bool = False

    def choices(self) -> tuple[str, ...]:
        """Return the values a user may pick from."""
        return self.values or ()

    def check_value(self, value: Any) -> str | None:
        if self.allow_custom_value or value in self.choices():
            return None
        return f"it must match the values `{display_value(self.choices())}`"


class SelectInput(_ChoiceInput):
    """One value out of `values`, or out of the list the `expression` renders to."""

    type: Literal["SELECT"] = "SELECT"
    expression: str | None = None
    is_radio: bool = False
    auto_select_first: bool = False

    @model_validator(mode="after")
    def _has_values(self) -> SelectInput:
        if self.values is None and self.expression is None:
            raise ValueError("one of `values` or `expression` must be set")
        return self


class EnumInput(_ChoiceInput):
    """One value out of `values`; the deprecated name of SELECT."""

    type: Literal["ENUM"] = "ENUM"
    values: Choices


class MultiselectInput(_ChoiceInput):
    """Several values out of `values` (old name `options`) or out of the `expression`'s list."""

    type: Literal["MULTISELECT"] = "MULTISELECT"
    options: Choices | None = None
    expression: str | None = None
    item_type: TypeName = "STRING"
    auto_select_first: bool = False

    @model_validator(mode="after")
    def _has_values(self) -> MultiselectInput:
        if self.values is not None and self.options is not None:
            raise ValueError("you can't define both `values` and `options`")
        if self.values is None and self.options is None and self.expression is None:
            raise ValueError("one of `values`, `options` or `expression` must be set")
        return self

    def choices(self) -> tuple[str, ...]:
        return self.values or self.options or ()

    def element_type(self) -> str | None:
        return self.item_type

    def check_value(self, value: Any) -> str | None:
        for element in value:
            reason = super().check_value(display_value(element))
            if reason is not None:
                return reason
        return None


INPUT_TYPES: dict[str, type[InputDeclaration]] = {
    "STRING": StringInput,
    "INT": IntInput,
    "FLOAT": FloatInput,
    "BOOLEAN": BooleanInput,
    "BOOL": BooleanInput,
    "DATETIME": DateTimeInput,
    "DATE": DateInput,
    "TIME": TimeInput,
    "DURATION": DurationInput,
    "FILE": FileInput,
    "JSON": JsonInput,
    "YAML": YamlInput,
    "URI": UriInput,
    "SECRET": SecretInput,
    "ARRAY": ArrayInput,
    "SELECT": SelectInput,
    "ENUM": EnumInput,
    "MULTISELECT": MultiselectInput,
    "EMAIL": EmailInput,
}


def parse_input(raw: Mapping[str, Any]) -> InputDeclaration:
    """Build the declaration of one input from its YAML mapping, choosing the class by `type`.

    Raises pydantic's ValidationError, whose locations name the YAML keys; an unknown type is
    reported at `type` as `Invalid type: <type>`.
    """
    type_name = raw.get("type")
    if type_name is None:
        details = InitErrorDetails(type="missing", loc=("type",), input=dict(raw))
        raise ValidationError.from_exception_data(InputDeclaration.__name__, [details])
    declaration_class = INPUT_TYPES.get(type_name) if isinstance(type_name, str) else None
    if declaration_class is None:
        details = InitErrorDetails(type=_invalid_type(type_name), loc=("type",), input=type_name)
        raise ValidationError.from_exception_data(InputDeclaration.__name__, [details])
    return declaration_class.model_validate(raw)


def _invalid_type(type_name: object) -> PydanticCustomError:
    return PydanticCustomError(
        "invalid_type",
        "Invalid type: {type} (known types: {known})",
        {"type": display_value(type_name), "known": ", ".join(TYPE_NAMES)},
    )


def secret_input_ids(decls: Sequence[InputDeclaration]) -> set[str]:
    """Return the ids of the inputs whose values must be masked in logs."""
    return {decl.id for decl in decls if decl.type == "SECRET"}


def check_declarations(decls: Sequence[InputDeclaration]) -> list[str]:
    """Return what is wrong with a flow's inputs taken together (Kestra's flow validation)."""
    problems = _duplicates(decls)
    problems += _dependency_problems(decls)
    problems += [problem for decl in decls for problem in _own_problems(decl)]
    problems += _nesting_conflicts(decls)
    return problems


def _duplicates(decls: Sequence[InputDeclaration]) -> list[str]:
    seen: set[str] = set()
    repeated: dict[str, None] = {}
    for decl in decls:
        if decl.id in seen:
            repeated[decl.id] = None
        seen.add(decl.id)
    if not repeated:
        return []
    return [f"Duplicate input with name [{', '.join(repeated)}]"]


def _own_problems(decl: InputDeclaration) -> Iterator[str]:
    if isinstance(decl, FileInput) and decl.defaults is not None:
        yield "no `defaults` can be set for inputs of type 'FILE'"
    if isinstance(decl, ArrayInput) and decl.item_type == "ARRAY":
        yield "`itemType` cannot be `ARRAY`"


def _dependency_problems(decls: Sequence[InputDeclaration]) -> list[str]:
    graph: dict[str, tuple[str, ...]] = {}
    for decl in decls:
        graph[decl.id] = graph.get(decl.id, ()) + decl.dependencies()
    problems: list[str] = []
    for input_id, dependencies in graph.items():
        problems += [
            f"Input with id '{input_id}' depends on a non-existent input '{missing}'."
            for missing in dependencies
            if missing not in graph
        ]
        cycle = _find_cycle(input_id, graph, [], set())
        if cycle is not None:
            path = ", ".join(cycle)
            problems.append(f"Cycle dependency detected for input with id '{input_id}': [{path}]")
    return problems


def _find_cycle(
    input_id: str, graph: Mapping[str, tuple[str, ...]], path: list[str], done: set[str]
) -> list[str] | None:
    """Return the first cycle reachable from `input_id`, from where it starts, or None."""
    if input_id in path:
        return path[path.index(input_id) :]
    if input_id in done:
        return None
    path.append(input_id)
    for dependency in graph.get(input_id, ()):
        cycle = _find_cycle(dependency, graph, path, done)
        if cycle is not None:
            return cycle
    path.pop()
    done.add(input_id)
    return None


def _nesting_conflicts(decls: Sequence[InputDeclaration]) -> list[str]:
    # `a` and `a.b` cannot both exist: `inputs.a` would be a value and a map at once.
    ids = {decl.id for decl in decls}
    return [
        f"Input with id '{decl.id}' conflicts with input '{prefix}'"
        for decl in decls
        for prefix in _prefixes(decl.id)
        if prefix in ids
    ]


def _prefixes(input_id: str) -> Iterator[str]:
    parts = input_id.split(".")
    for end in range(1, len(parts)):
        yield ".".join(parts[:end])
