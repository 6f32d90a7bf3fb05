"""The flow: a YAML document of typed inputs, tasks and their error and finally branches.

This module holds the typed record (`Flow`) and its semantic checks; reading YAML with line
numbers and turning validation errors into located problems lives in `flow_parser`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    Field,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
)

from lanner.executions import Label
from lanner.flow_checks import FlowCheck
from lanner.inputs import InputDeclaration, check_declarations, parse_input
from lanner.properties import YamlRecord
from lanner.retry import RetryPolicy
from lanner.sla import Sla
from lanner.tasks.base import FlowableTask, Task, TaskRef
from lanner.triggers.base import Trigger, TriggerRef

FLOW_ID_PATTERN = r"^[a-zA-Z0-9][a-zA-Z0-9._-]*$"
NAMESPACE_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"


def _validate_input(value: Any, handler: ValidatorFunctionWrapHandler) -> InputDeclaration:
    if isinstance(value, InputDeclaration):
        return value
    if not isinstance(value, Mapping):
        raise ValueError("expected an input (a mapping with id and type)")
    return parse_input(value)


InputRef = Annotated[InputDeclaration, WrapValidator(_validate_input)]


class FlowOutput(YamlRecord):
    """A flow output: `value` is rendered at the end of the execution, then coerced to `type`."""

    id: Annotated[str, Field(pattern=r"^[a-zA-Z0-9][.a-zA-Z0-9_-]*$")]
    type: str = "STRING"
    value: Any = None
    description: str | None = None
    display_name: str | None = None
    required: bool = True


class ConcurrencyBehavior(StrEnum):
    QUEUE = "QUEUE"
    CANCEL = "CANCEL"
    FAIL = "FAIL"


class Concurrency(YamlRecord):
    """At most `limit` running executions of the flow; `behavior` says what happens to others."""

    limit: Annotated[int, Field(gt=0)]
    behavior: ConcurrencyBehavior = ConcurrencyBehavior.QUEUE


class PluginDefault(YamlRecord):
    """Default property values for every task whose type starts with `type`."""

    type: str
    forced: bool = False
    values: dict[str, Any] = Field(default_factory=dict)


def _labels(value: Any) -> Any:
    """Accept labels as a map or as a list of {key, value}; keep them as Label records."""
    if value is None:
        return ()
    if isinstance(value, Mapping):
        return tuple(Label(str(key), _label_text(item)) for key, item in value.items())
    if isinstance(value, list):
        labels = []
        for item in value:
            if not isinstance(item, Mapping) or "key" not in item:
                raise ValueError("each label must be a mapping with key and value")
            labels.append(Label(str(item["key"]), _label_text(item.get("value"))))
        return tuple(labels)
    raise ValueError("labels must be a map or a list of {key, value}")


def _label_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


class Flow(YamlRecord):
    """A flow definition (spec flows.md §1)."""

    id: Annotated[str, Field(pattern=FLOW_ID_PATTERN, min_length=1, max_length=100)]
    namespace: Annotated[str, Field(pattern=NAMESPACE_PATTERN, min_length=1, max_length=150)]
    revision: int | None = Field(default=None, ge=1)
    description: str | None = None
    labels: tuple[Label, ...] = ()
    inputs: list[InputRef] | None = None
    variables: dict[str, Any] | None = None
    tasks: Annotated[list[TaskRef], Field(min_length=1)]
    errors: list[TaskRef] | None = None
    finally_: list[TaskRef] | None = Field(default=None, alias="finally")
    after_execution: list[TaskRef] | None = None
    outputs: list[FlowOutput] | None = None
    triggers: list[TriggerRef] | None = None
    plugin_defaults: list[PluginDefault] | None = None
    task_defaults: list[PluginDefault] | None = None
    checks: list[FlowCheck] | None = None
    concurrency: Concurrency | None = None
    retry: RetryPolicy | None = None
    sla: list[Sla] | None = None
    disabled: bool = False
    deleted: bool = False
    listeners: list[Any] | None = None
    template: Any = None

    _normalize_labels = field_validator("labels", mode="before")(_labels)

    def task_lists(self) -> Iterator[tuple[str, Sequence[Task]]]:
        """Yield each top-level list of tasks with the property that holds it."""
        yield "tasks", self.tasks
        for name, tasks in (
            ("errors", self.errors),
            ("finally", self.finally_),
            ("afterExecution", self.after_execution),
        ):
            if tasks:
                yield name, tasks

    def walk(self) -> Iterator[Task]:
        """Yield every task of the flow, nested ones included, depth first."""
        for _, tasks in self.task_lists():
            for task in tasks:
                yield from task.walk()

    def after_execution_ids(self) -> set[str]:
        """Return the ids of the `afterExecution` tasks, nested ones included."""
        return {task.id for top in self.after_execution or () for task in top.walk()}

    def find_trigger(self, trigger_id: str) -> Trigger | None:
        """Return the trigger with this id, or None."""
        return next((item for item in self.triggers or () if item.id == trigger_id), None)

    def find_task(self, task_id: str) -> Task:
        """Return the task with this id anywhere in the flow; KeyError if there is none."""
        for task in self.walk():
            if task.id == task_id:
                return task
        raise KeyError(task_id)

    def parent_of(self, task_id: str) -> FlowableTask | None:
        """Return the flowable task whose lists hold `task_id`, or None at the top level."""
        for task in self.walk():
            if isinstance(task, FlowableTask):
                for _, children in task.task_lists():
                    if any(child.id == task_id for child in children):
                        return task
        return None

    def semantic_problems(self) -> list[str]:
        """Return Kestra's flow-level violations (flows.md §1.1), each as one message."""
        problems: list[str] = []
        duplicates = _duplicates(task.id for task in self.walk())
        if duplicates:
            problems.append(f"Duplicate task id with name [{', '.join(duplicates)}]")
        trigger_ids = (trigger.id for trigger in self.triggers or ())
        duplicate_triggers = _duplicates(trigger_ids)
        if duplicate_triggers:
            problems.append(f"Duplicate trigger id with name [{', '.join(duplicate_triggers)}]")
        problems.extend(check_declarations(self.inputs or []))
        output_duplicates = _duplicates(output.id for output in self.outputs or ())
        if output_duplicates:
            problems.append(f"Duplicate output with name [{', '.join(output_duplicates)}]")
        for label in self.labels:
            if label.key.startswith("system.") and label.key != "system.readOnly":
                problems.append(
                    "System labels can only be set by Kestra itself, offending label: "
                    f"{label.key}={label.value}"
                )
        for task in self.walk():
            problems.extend(f"{task.id}: {message}" for message in _task_problems(task))
        return problems


def _task_problems(task: Task) -> list[str]:
    check = getattr(task, "problems", None)
    return list(check()) if callable(check) else []


def _duplicates(ids: Iterator[str] | Sequence[str]) -> list[str]:
    seen: set[str] = set()
    repeated: list[str] = []
    for item in ids:
        if item in seen and item not in repeated:
            repeated.append(item)
        seen.add(item)
    return repeated
