"""Every error lanner raises on purpose.

    LannerError
    ├── FlowError                 a flow that cannot be parsed or validated
    ├── InputError                submitted inputs that do not match the flow's declarations
    ├── ExpressionError           a template that cannot be parsed or rendered
    │   ├── ExpressionSyntaxError
    │   └── UndefinedVariableError
    ├── TaskError                 a task run that failed while running
    │   ├── TaskTimeoutError
    │   └── HttpError
    │       ├── HttpRequestError  the request could not be sent or answered (transport)
    │       └── HttpResponseError the server answered with a status the task does not accept
    ├── NotFoundError             an unknown flow, execution or task run
    ├── IllegalStateError         an operation the object's state does not allow (kill a
    │                             finished execution, run a disabled flow)
    ├── AuthenticationError       missing or wrong credentials
    ├── CurlError                 a cURL command that cannot be translated to a Request task
    └── StoreError                the database refused an operation
        ├── KVKeyError            a KV key that breaks Kestra's key rule
        ├── KVConflictError       a KV write that may not replace an existing key
        └── MessageTooBigError    an execution larger than `max_message_bytes`

Each class's docstring is its default message. Errors a user can cause say where (file,
line:column, task id, input id, expression) in their message. Kill and pause are not errors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


class LannerError(Exception):
    """lanner failed."""

    def __init__(self, message: str | None = None) -> None:
        self.message = message if message is not None else (type(self).__doc__ or "").strip()
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a flow, at a place in its YAML source."""

    path: str
    message: str
    line: int | None = None
    column: int | None = None

    def location(self) -> str:
        """Return `line:column`, or an empty string when the place is unknown."""
        if self.line is None:
            return ""
        return f"{self.line}:{self.column or 1}"

    def describe(self) -> str:
        """Return `path: message` (or the message alone when there is no path)."""
        return f"{self.path}: {self.message}" if self.path else self.message

    def __str__(self) -> str:
        where = self.location()
        return f"{where}: {self.describe()}" if where else self.describe()


class FlowError(LannerError):
    """The flow is invalid."""

    def __init__(self, problems: Sequence[Problem], source_name: str | None = None) -> None:
        self.problems = list(problems)
        self.source_name = source_name
        super().__init__(self._describe())

    def _describe(self) -> str:
        lines = [self._line(problem) for problem in self.problems]
        return "\n".join(lines) if lines else "The flow is invalid."

    def _line(self, problem: Problem) -> str:
        """Format one problem compiler-style: `file:line:column: path: message`."""
        where = problem.location()
        if self.source_name:
            place = f"{self.source_name}:{where}" if where else self.source_name
        else:
            place = where
        return f"{place}: {problem.describe()}" if place else problem.describe()


class InputError(LannerError):
    """The inputs are invalid."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems) if self.problems else None)


class ExpressionError(LannerError):
    """The expression cannot be rendered."""


class ExpressionSyntaxError(ExpressionError):
    """The expression is not valid Pebble syntax."""


class UndefinedVariableError(ExpressionError):
    """The expression reads a variable that does not exist."""


class TaskError(LannerError):
    """The task failed."""

    def __init__(self, message: str | None = None, outputs: Mapping[str, Any] | None = None):
        super().__init__(message)
        # What the task produced before failing, kept on the task run as Kestra keeps it.
        self.outputs = outputs


class TaskTimeoutError(TaskError):
    """The task exceeded its timeout."""


class HttpError(TaskError):
    """The HTTP request failed."""


class HttpRequestError(HttpError):
    """The HTTP request could not be completed."""


class HttpResponseError(HttpError):
    """The HTTP server answered with a status the task does not accept."""

    def __init__(self, message: str, status_code: int) -> None:
        self.status_code = status_code
        super().__init__(message)


class NotFoundError(LannerError):
    """Not found."""


class IllegalStateError(LannerError):
    """The operation is not allowed in the current state."""


class AuthenticationError(LannerError):
    """Authentication required."""


class CurlError(LannerError):
    """The cURL command cannot be translated."""


class StoreError(LannerError):
    """The store refused the operation."""


class KVKeyError(StoreError):
    """The KV key is invalid."""


class KVConflictError(StoreError):
    """The KV key already exists."""


class MessageTooBigError(StoreError):
    """The execution is larger than the largest message the engine keeps."""
