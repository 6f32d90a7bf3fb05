"""Registries of typed plugin classes (tasks, triggers), chosen by a `type` property.

A flow names each task and trigger by its Kestra type (or a legacy alias of it). A registry
maps the current names to classes, suggests a close name for a typo, and gives the pydantic
annotation that validates a mapping with the class its `type` names, so that errors inside a
nested task keep their location.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from pydantic import ValidationError, ValidatorFunctionWrapHandler
from pydantic_core import InitErrorDetails, PydanticCustomError


class Typed(Protocol):
    """A pydantic model class with a canonical Kestra type name."""

    TYPE: ClassVar[str]

    @classmethod
    def model_validate(cls, obj: Any) -> Any: ...


M = TypeVar("M", bound=type[Typed])


class TypeRegistry(Generic[M]):
    """Classes of one kind (tasks, triggers) by canonical type name."""

    def __init__(
        self,
        kind: str,
        builtin_modules: tuple[str, ...],
        canonical: Callable[[str], str],
        refused: Mapping[str, str] | None = None,
    ) -> None:
        """`refused` maps Kestra types that are refused on purpose to the reason given."""
        self.kind = kind
        self._refused = dict(refused or {})
        self._builtin_modules = builtin_modules
        self._canonical = canonical
        self._classes: dict[str, M] = {}
        self._loaded = False

    def _load_builtins(self) -> None:
        """Import the built-in modules once; importing them registers their classes."""
        if not self._loaded:
            self._loaded = True
            for module in self._builtin_modules:
                importlib.import_module(module)

    def register(self, cls: M) -> M:
        """Register a class under its canonical `TYPE` (a class decorator)."""
        if not cls.TYPE:
            raise ValueError(f"{cls.__name__} has no TYPE")
        self._classes[cls.TYPE] = cls
        return cls

    def lookup(self, name: str) -> M | None:
        """Return the class for a type name or one of its aliases."""
        self._load_builtins()
        return self._classes.get(self._canonical(name))

    def known_types(self) -> list[str]:
        """Return every registered canonical type name, sorted."""
        self._load_builtins()
        return sorted(self._classes)

    def suggest(self, name: str) -> str | None:
        """Return the registered type whose class name is close to that of `name`.

        Only class names are compared: registered types share most of their package, which
        would make any `io.kestra...` name look close to one of them.
        """
        short = {
            candidate.rsplit(".", 1)[-1].lower(): candidate for candidate in self.known_types()
        }
        tail = name.rsplit(".", 1)[-1].lower()
        close = difflib.get_close_matches(tail, list(short), n=1, cutoff=0.6)
        return short[close[0]] if close else None

    def validate(self, value: Any, handler: ValidatorFunctionWrapHandler, base: type) -> Any:
        """Validate a mapping with the class its `type` names, errors located at `type`."""
        if isinstance(value, base):
            return value
        title = self.kind.capitalize()
        if not isinstance(value, Mapping):
            raise PydanticCustomError(
                f"{self.kind}_type", f"expected a {self.kind} (a mapping with id and type)"
            )
        type_name = value.get("type")
        if type_name is None:
            details = InitErrorDetails(type="missing", loc=("type",), input=dict(value))
            raise ValidationError.from_exception_data(title, [details])
        cls = self.lookup(type_name) if isinstance(type_name, str) else None
        if cls is None:
            reason = self._refused.get(self._canonical(str(type_name)))
            hint = None if reason else self.suggest(str(type_name))
            extra = f" ({reason})" if reason else f" (did you mean {hint}?)" if hint else ""
            error = PydanticCustomError(
                f"unknown_{self.kind}_type",
                "Invalid type: {type}{extra}",
                {"type": type_name, "extra": extra},
            )
            details = InitErrorDetails(type=error, loc=("type",), input=type_name)
            raise ValidationError.from_exception_data(title, [details])
        return cls.model_validate({**value, "type": cls.TYPE})
