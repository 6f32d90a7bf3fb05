"""Render an expression against a finished (or running) execution: "Debug Outputs".

The template sees what the task run saw when it ran: the same variables (`outputs`, `inputs`,
`taskrun`, `parents`, `vars`, `labels`...) and functions as the worker gives it. Secrets never
come back: `secret()` renders as `********`, and the values of SECRET inputs are masked in the
result and in error messages.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lanner.context import (
    MASK,
    Masker,
    base_variables,
    error_logs_function,
    runtime_functions,
    secret_values,
    task_variables,
)
from lanner.exceptions import LannerError
from lanner.executions import Execution, LogEntry, TaskRun
from lanner.expressions import CallContext, Function, render
from lanner.flowable import ExecutionIndex
from lanner.flows import Flow
from lanner.settings import Settings
from lanner.storage import Storage
from lanner.store.kv import KVStore


@dataclass(frozen=True)
class Evaluation:
    """The rendered text, or the error that stopped the render and its stack trace."""

    result: str | None = None
    error: str | None = None
    stack_trace: str | None = None

    def to_json(self) -> dict[str, str]:
        """Return Kestra's EvalResult JSON, null fields left out."""
        fields = {"result": self.result, "error": self.error, "stackTrace": self.stack_trace}
        return {key: value for key, value in fields.items() if value is not None}


@dataclass(frozen=True)
class EvaluationScope:
    """Where a template is rendered: a task run of an execution, or the execution itself."""

    flow: Flow
    execution: Execution
    task_run: TaskRun | None = None
    error_logs: Sequence[LogEntry] = ()
    """The execution's ERROR lines, for `errorLogs()`."""


def evaluate(
    template: str,
    scope: EvaluationScope,
    settings: Settings,
    kv: KVStore | None = None,
    storage: Storage | None = None,
) -> Evaluation:
    """Render `template` as text in `scope`; never raises for a template that does not render.

    Raises KeyError when the task run's task is not in the flow.
    """
    masker = Masker(secret_values(scope.flow, scope.execution.inputs or {}))
    variables, functions = _context(scope, settings, kv, storage)
    try:
        return Evaluation(result=masker.mask(render(template, variables, functions)))
    except LannerError as exc:
        trace = "".join(traceback.format_exception(exc, chain=True, limit=0))
        return Evaluation(error=masker.mask(str(exc)), stack_trace=masker.mask(trace))


def _context(
    scope: EvaluationScope, settings: Settings, kv: KVStore | None, storage: Storage | None
) -> tuple[Mapping[str, Any], dict[str, Function]]:
    flow, execution, task_run = scope.flow, scope.execution, scope.task_run
    index = ExecutionIndex(execution)
    # Without a task run, the execution's own variables, as flow outputs are rendered with.
    task = flow.find_task(task_run.task_id) if task_run is not None else flow.tasks[0]
    shared = base_variables(flow, execution, settings)
    variables = task_variables(shared, index, task, task_run, settings.encryption_key)
    extra = {
        "secret": _masked_secret,
        "errorLogs": error_logs_function(execution, scope.error_logs),
    }
    functions = runtime_functions(index, task_run, Masker(), extra, kv=kv, storage=storage)
    return variables, functions


def _masked_secret(call: CallContext, *_: Any, **__: Any) -> str:
    return MASK
