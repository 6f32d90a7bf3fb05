"""Resolve the values of a flow's inputs for one execution.

The steps are Kestra's: take the submitted value, else the `defaults`; resolve `dependsOn`
inputs first and drop an input whose dependency is dropped or whose condition is not `true`;
render the SELECT/MULTISELECT `expression`; refuse a missing required value; coerce and
validate; nest dotted ids. Every problem is collected before `InputError` is raised, so a user
fixes a form in one go. `check_inputs` runs the same steps and reports on each input instead of
raising, for the routes that validate a form without starting anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lanner.exceptions import ExpressionError, InputError
from lanner.inputs.coercion import CoercionError, StoreUpload, Upload, coerce_value, display_value
from lanner.inputs.declarations import (
    FileInput,
    InputDeclaration,
    MultiselectInput,
    SelectInput,
)

__all__ = [
    "InputCheck",
    "RenderTyped",
    "StoreFile",
    "check_inputs",
    "resolve_inputs",
    "undeclared_inputs",
]

RenderTyped = Callable[[str, Mapping[str, Any]], Any]
"""Render a template against variables and return the typed result (`{{ 1 + 1 }}` -> 2)."""

StoreFile = Callable[[str, str, bytes], str]
"""Store an uploaded file `(input_id, filename, data)` and return its `kestra://` URI."""

_MASK = "********"


def resolve_inputs(
    decls: Sequence[InputDeclaration],
    submitted: Mapping[str, Any],
    *,
    render_typed: RenderTyped,
    store_file: StoreFile | None = None,
) -> dict[str, Any]:
    """Return the typed values of `decls`, nested by dotted id (`a.b` -> `{"a": {"b": ...}}`).

    `submitted` maps input ids to strings (CLI, multipart) or native values (JSON API); a FILE
    value may be `bytes` or an `Upload`, stored through `store_file`. Templates (`defaults`,
    `dependsOn.condition`, `expression`) are rendered with `render_typed` against
    `{"inputs": <inputs resolved so far>}`; the caller adds any other variables it wants.
    Inputs dropped by `dependsOn` are left out; submitted ids that are not declared are ignored.
    Raises InputError listing every problem, in declaration order.
    """
    resolver = _Resolver(decls, submitted, render_typed, store_file)
    return resolver.run()


@dataclass(frozen=True)
class InputCheck:
    """What resolution made of one declared input, for a form checked without running.

    `declaration` is the input as resolved (a SELECT's rendered `values`); `enabled` is false
    when `dependsOn` drops the input; `value` is the typed value, or the submitted one when
    the input has problems or is dropped; `problems` is empty when the value is accepted.
    """

    declaration: InputDeclaration
    value: Any
    enabled: bool
    problems: tuple[str, ...]


def check_inputs(
    decls: Sequence[InputDeclaration],
    submitted: Mapping[str, Any],
    *,
    render_typed: RenderTyped,
) -> list[InputCheck]:
    """Resolve `decls` as `resolve_inputs` does and report on each one, in declaration order.

    Nothing is raised for a bad value: its problem is in its `InputCheck`. Nothing is stored
    either: a FILE value must already be a `kestra://` URI.
    """
    resolver = _Resolver(decls, submitted, render_typed, None)
    resolver.resolve_all()
    return resolver.checks()


def accepted_values(checks: Sequence[InputCheck]) -> dict[str, Any] | None:
    """Return the typed values of checked inputs, nested as `resolve_inputs` nests them, or
    None when one of them was refused."""
    if any(check.problems for check in checks):
        return None
    return _nest((check.declaration.id, check.value) for check in checks if check.enabled)


def undeclared_inputs(decls: Sequence[InputDeclaration], submitted: Mapping[str, Any]) -> list[str]:
    """Return the submitted ids that no declaration has, which resolution ignores."""
    declared = {decl.id for decl in decls}
    return [input_id for input_id in submitted if input_id not in declared]


@dataclass(frozen=True)
class _Outcome:
    """What became of one input: kept with a value, dropped, or refused with a problem."""

    enabled: bool
    value: Any = None
    problem: str | None = None

    @property
    def usable(self) -> bool:
        """Whether the input has a value that other inputs and the execution may use."""
        return self.enabled and self.problem is None


_DROPPED = _Outcome(enabled=False)


class _Rejected(Exception):
    """Stops the resolution of one input with the problem to report.

    `enabled` is false when the `dependsOn` condition itself cannot be rendered: the input is
    then reported as left out, with that problem.
    """

    def __init__(self, problem: str, *, enabled: bool = True) -> None:
        super().__init__(problem)
        self.problem = problem
        self.enabled = enabled


class _Resolver:
    def __init__(
        self,
        decls: Sequence[InputDeclaration],
        submitted: Mapping[str, Any],
        render_typed: RenderTyped,
        store_file: StoreFile | None,
    ) -> None:
        self._decls: dict[str, InputDeclaration] = {}
        for decl in decls:
            self._decls.setdefault(decl.id, decl)
        self._submitted = submitted
        self._render_typed = render_typed
        self._store_file = store_file
        self._outcomes: dict[str, _Outcome] = {}
        # The declarations as resolved: with the choices a SELECT/MULTISELECT `expression` gave.
        self._rendered: dict[str, InputDeclaration] = {}
        self._resolving: set[str] = set()

    def run(self) -> dict[str, Any]:
        outcomes = self.resolve_all()
        problems = [outcome.problem for outcome in outcomes if outcome.problem is not None]
        if problems:
            raise InputError(problems)
        return _nest(
            (input_id, outcome.value)
            for input_id, outcome in zip(self._decls, outcomes, strict=True)
            if outcome.enabled
        )

    def resolve_all(self) -> list[_Outcome]:
        """Resolve every declaration; return their outcomes in declaration order."""
        for decl in self._decls.values():
            self._resolve(decl)
        return [self._outcomes[input_id] for input_id in self._decls]

    def checks(self) -> list[InputCheck]:
        """Report on every declaration, once `resolve_all` has run."""
        reports = []
        for input_id, decl in self._decls.items():
            outcome = self._outcomes[input_id]
            value = outcome.value if outcome.usable else self._submitted.get(input_id)
            problems = () if outcome.problem is None else (outcome.problem,)
            declaration = self._rendered.get(input_id, decl)
            reports.append(InputCheck(declaration, value, outcome.enabled, problems))
        return reports

    def _resolve(self, decl: InputDeclaration) -> _Outcome | None:
        """Resolve `decl` once; None while it is being resolved (a cycle, reported elsewhere)."""
        if decl.id in self._outcomes:
            return self._outcomes[decl.id]
        if decl.id in self._resolving:
            return None
        self._resolving.add(decl.id)
        try:
            outcome = self._evaluate(decl)
        except _Rejected as rejected:
            outcome = _Outcome(enabled=rejected.enabled, problem=rejected.problem)
        self._resolving.discard(decl.id)
        self._outcomes[decl.id] = outcome
        return outcome

    def _evaluate(self, decl: InputDeclaration) -> _Outcome:
        if not self._dependencies_enabled(decl) or not self._condition_holds(decl):
            return _DROPPED
        decl = self._with_rendered_choices(decl)
        self._rendered[decl.id] = decl
        value = self._raw_value(decl)
        if value is None:
            if decl.required:
                raise _Rejected(_invalid(decl, "missing required input", None))
            return _Outcome(enabled=True)
        return _Outcome(enabled=True, value=self._typed(decl, value))

    def _dependencies_enabled(self, decl: InputDeclaration) -> bool:
        # A failed dependency counts as dropped: it is reported already, and the problems of
        # its dependents would only add noise.
        for dependency_id in decl.dependencies():
            dependency = self._decls.get(dependency_id)
            if dependency is None or dependency_id == decl.id:
                continue
            outcome = self._resolve(dependency)
            if outcome is not None and not outcome.usable:
                return False
        return True

    def _condition_holds(self, decl: InputDeclaration) -> bool:
        condition = decl.depends_on.condition if decl.depends_on is not None else None
        if condition is None:
            return True
        try:
            return self._render(condition) is True
        except ExpressionError as exc:
            raise _Rejected(f"{decl.id}: Invalid condition: {exc}", enabled=False) from exc

    def _with_rendered_choices(self, decl: InputDeclaration) -> InputDeclaration:
        """Return `decl` with the values its `expression` renders to, when it has one."""
        if not isinstance(decl, SelectInput | MultiselectInput) or decl.expression is None:
            return decl
        try:
            rendered = self._render(decl.expression)
        except ExpressionError as exc:
            reason = f"Cannot render 'expression'. Cause: {exc}"
            raise _Rejected(_invalid(decl, reason, decl.expression)) from exc
        if not isinstance(rendered, list | tuple):
            kind = _java_type_name(rendered)
            reason = f"Invalid expression result. Expected a list of strings, but received {kind}"
            raise _Rejected(_invalid(decl, reason, decl.expression))
        values = tuple(display_value(item) for item in rendered if item is not None)
        update: dict[str, Any] = {"values": values}
        if isinstance(decl, MultiselectInput):
            update["options"] = None
        return decl.model_copy(update=update)

    def _raw_value(self, decl: InputDeclaration) -> Any:
        value = self._submitted.get(decl.id)
        if value is not None or decl.defaults is None:
            return value
        if not isinstance(decl.defaults, str) or "{{" not in decl.defaults:
            return decl.defaults
        try:
            return self._render(decl.defaults)
        except ExpressionError as exc:
            reason = f"Cannot render 'defaults'. Cause: {exc}"
            raise _Rejected(_invalid(decl, reason, decl.defaults)) from exc

    def _typed(self, decl: InputDeclaration, value: Any) -> Any:
        if isinstance(decl, FileInput) and isinstance(value, bytes):
            value = Upload(filename=decl.upload_name(), data=value)
        try:
            typed = coerce_value(
                decl.type, value, item_type=decl.element_type(), store=self._store_for(decl)
            )
        except CoercionError as exc:
            raise _Rejected(_invalid(decl, exc.reason, value)) from exc
        reason = decl.check_value(typed)
        if reason is not None:
            raise _Rejected(_invalid(decl, reason, value))
        return typed

    def _store_for(self, decl: InputDeclaration) -> StoreUpload | None:
        store_file = self._store_file
        if store_file is None:
            return None
        return lambda upload: store_file(decl.id, upload.filename, upload.data)

    def _render(self, template: str) -> Any:
        resolved = (
            (input_id, outcome.value)
            for input_id, outcome in self._outcomes.items()
            if outcome.usable
        )
        return self._render_typed(template, {"inputs": _nest(resolved)})


def _invalid(decl: InputDeclaration, reason: str, value: Any) -> str:
    """Write Kestra's input error: ``id: Invalid input for `id`, reason, but received `v` ``."""
    # A secret must not leak through the error that refuses it.
    shown = _MASK if decl.type == "SECRET" and value is not None else display_value(value)
    return f"{decl.id}: Invalid input for `{decl.id}`, {reason}, but received `{shown}`"


def _java_type_name(value: Any) -> str:
    names = {str: "String", bool: "Boolean", int: "Integer", float: "Double", dict: "Map"}
    if value is None:
        return "<null>"
    return names.get(type(value), type(value).__name__)


def _nest(entries: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """Turn `(dotted id, value)` pairs into nested maps: `a.b.c` -> `{"a": {"b": {"c": ...}}}`."""
    nested: dict[str, Any] = {}
    for input_id, value in entries:
        *parents, leaf = input_id.split(".")
        node = nested
        for parent in parents:
            child = node.get(parent)
            if not isinstance(child, dict):
                child = node[parent] = {}
            node = child
        node[leaf] = value
    return nested
