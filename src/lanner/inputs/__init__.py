"""Typed flow inputs: their declarations, how submitted values are read, and resolution.

declarations   one frozen pydantic record per input type, `parse_input`, flow-level checks
coercion       a submitted string or native value -> the Python value of the declared type
resolve        the order of work for one execution: defaults, dependsOn, required, nesting;
               `check_inputs` reports on each input of a form instead of raising
"""

from __future__ import annotations

from lanner.inputs.coercion import TYPE_NAMES, CoercionError, Upload, coerce_value
from lanner.inputs.declarations import (
    INPUT_TYPES,
    ArrayInput,
    BooleanInput,
    DateInput,
    DateTimeInput,
    DependsOn,
    DurationInput,
    EmailInput,
    EnumInput,
    FileInput,
    FloatInput,
    InputDeclaration,
    IntInput,
    JsonInput,
    MultiselectInput,
    SecretInput,
    SelectInput,
    StringInput,
    TimeInput,
    UriInput,
    YamlInput,
    check_declarations,
    parse_input,
    secret_input_ids,
)
from lanner.inputs.resolve import (
    InputCheck,
    RenderTyped,
    StoreFile,
    accepted_values,
    check_inputs,
    resolve_inputs,
    undeclared_inputs,
)

__all__ = [
    "INPUT_TYPES",
    "TYPE_NAMES",
    "ArrayInput",
    "BooleanInput",
    "CoercionError",
    "DateInput",
    "DateTimeInput",
    "DependsOn",
    "DurationInput",
    "EmailInput",
    "EnumInput",
    "FileInput",
    "FloatInput",
    "InputCheck",
    "InputDeclaration",
    "IntInput",
    "JsonInput",
    "MultiselectInput",
    "RenderTyped",
    "SecretInput",
    "SelectInput",
    "StoreFile",
    "StringInput",
    "TimeInput",
    "Upload",
    "UriInput",
    "YamlInput",
    "accepted_values",
    "check_declarations",
    "check_inputs",
    "coerce_value",
    "parse_input",
    "resolve_inputs",
    "secret_input_ids",
    "undeclared_inputs",
]
