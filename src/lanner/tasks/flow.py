"""Flowable core tasks: Sequential, Parallel, AllowFailure, If, Switch, ForEach and its elders, Dag.

They run nothing themselves: the executor asks each one which children to create next and,
once its children are done, what its own state is.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from lanner.exceptions import TaskError
from lanner.expressions import is_truthy_text, to_json, to_text
from lanner.flowable import enabled, resolve
from lanner.properties import Expr, looks_like_template
from lanner.states import State
from lanner.tasks.base import FlowableTask, ResolvedTask, Task, TaskRef
from lanner.tasks.registry import register

if TYPE_CHECKING:
    from lanner.flowable import FlowableRun


class _ListFlowable(FlowableTask):
    """A flowable whose children are one `tasks` list."""

    tasks: list[TaskRef]

    def task_lists(self) -> Iterator[tuple[str, Sequence[Task]]]:
        yield "tasks", self.tasks
        yield from super().task_lists()

    def branches(self, run: FlowableRun) -> tuple[list[ResolvedTask], ...]:
        """Return the resolved (tasks, errors, finally) of this task run."""
        return resolve(self.tasks), resolve(self.errors), resolve(self.finally_)

    def resolve_state(self, run: FlowableRun) -> State | None:
        tasks, errors, finally_ = self.branches(run)
        return run.resolve_state(
            tasks,
            errors,
            finally_,
            allow_failure=self.allow_failure,
            allow_warning=self.allow_warning,
        )


@register
class Sequential(_ListFlowable):
    """Run the tasks one after another."""

    TYPE = "io.kestra.plugin.core.flow.Sequential"

    def resolve_nexts(self, run: FlowableRun) -> list[ResolvedTask]:
        return run.sequential_nexts(*self.branches(run))


@register
class Parallel(_ListFlowable):
    """Run the tasks at the same time, at most `concurrent` at once (0: no limit)."""

    TYPE = "io.kestra.plugin.core.flow.Parallel"

    concurrent: int = Field(default=0, ge=0)

    def resolve_nexts(self, run: FlowableRun) -> list[ResolvedTask]:
        tasks, errors, finally_ = self.branches(run)
        return run.concurrent_nexts(tasks, errors, finally_, self.concurrent)


@register
class AllowFailure(_ListFlowable):
    """Run the tasks in order; a failure among them ends this task WARNING, not FAILED."""

    TYPE = "io.kestra.plugin.core.flow.AllowFailure"

    def resolve_nexts(self, run: FlowableRun) -> list[ResolvedTask]:
        return run.sequential_nexts(*self.branches(run))

    def resolve_state(self, run: FlowableRun) -> State | None:
        tasks, errors, finally_ = self.branches(run)
        state = run.resolve_state(tasks, errors, finally_, allow_failure=True)
        if state is State.WARNING and self.allow_warning:
            return State.SUCCESS
        return state


class _Branching(FlowableTask):
    """A flowable that runs one chosen list of tasks, in order (If, Switch)."""

    def _chosen(self, run: FlowableRun) -> list[ResolvedTask]:
        raise NotImplementedError

    def resolve_nexts(self, run: FlowableRun) -> list[ResolvedTask]:
        return run.sequential_nexts(self._chosen(run), resolve(self.errors), resolve(self.finally_))

    def resolve_state(self, run: FlowableRun) -> State | None:
        return run.resolve_state(
            self._chosen(run),
            resolve(self.errors),
            resolve(self.finally_),
            allow_failure=self.allow_failure,
            allow_warning=self.allow_warning,
        )


@register
class If(_Branching):
    """Run `then` when `condition` renders truthy, else `else`."""

    TYPE = "io.kestra.plugin.core.flow.If"

    condition: str | bool | int | float
    then: list[TaskRef] = Field(min_length=1)
    else_: list[TaskRef] | None = Field(default=None, alias="else")

    def task_lists(self) -> Iterator[tuple[str, Sequence[Task]]]:
        yield "then", self.then
        if self.else_:
            yield "else", self.else_
        yield from super().task_lists()

    def evaluate(self, run: FlowableRun) -> bool:
        condition = self.condition
        text = run.render(condition) if isinstance(condition, str) else to_text(condition)
        return is_truthy_text(text)

    def _chosen(self, run: FlowableRun) -> list[ResolvedTask]:
        outputs = run.task_run.outputs if run.task_run is not None else None
        result = outputs.get("evaluationResult") if outputs else None
        if result is None:
            result = self.evaluate(run)
        return resolve(self.then if result else self.else_)

    def outputs(self, run: FlowableRun) -> Mapping[str, Any] | None:
        return {"evaluationResult": self.evaluate(run)}


@register
class Switch(_Branching):
    """Run the tasks of the case matching the rendered `value`, else `defaults`."""

    TYPE = "io.kestra.plugin.core.flow.Switch"

    value: str | int | float | bool
    cases: dict[str, list[TaskRef]] | None = None
    defaults: list[TaskRef] | None = None

    @field_validator("cases", mode="before")
    @classmethod
    def _string_keys(cls, value: Any) -> Any:
        # YAML reads `1:` and `true:` as non-strings; Kestra compares rendered text.
        if isinstance(value, Mapping):
            return {to_text(key): tasks for key, tasks in value.items()}
        return value

    def task_lists(self) -> Iterator[tuple[str, Sequence[Task]]]:
        for key, tasks in (self.cases or {}).items():
            yield f"cases.{key}", tasks
        if self.defaults:
            yield "defaults", self.defaults
        yield from super().task_lists()

    def problems(self) -> list[str]:
        if not any((self.cases or {}).values()) and not self.defaults:
            return ["No task defined, neither cases or default have any tasks"]
        return []

    def _rendered(self, run: FlowableRun) -> str:
        outputs = run.task_run.outputs if run.task_run is not None else None
        if outputs and "value" in outputs:
            return str(outputs["value"])
        value = self.value
        return run.render(value) if isinstance(value, str) else to_text(value)

    def _chosen(self, run: FlowableRun) -> list[ResolvedTask]:
        rendered = self._rendered(run)
        cases = self.cases or {}
        if rendered in cases:
            return resolve(cases[rendered])
        if self.defaults is None:
            raise TaskError(
                f"Switch value '{rendered}' doesn't match any cases and no defaults are defined"
            )
        return resolve(self.defaults)

    def outputs(self, run: FlowableRun) -> Mapping[str, Any] | None:
        rendered = self._rendered(run)
        return {"value": rendered, "defaults": rendered not in (self.cases or {})}


# -- loops ----------------------------------------------------------------------------------------


def java_string(value: Any) -> str:
    """Format a value the way Java's `toString` prints collections (for Kestra's messages)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{key}={java_string(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(java_string(item) for item in value) + "]"
    return to_text(value)


def loop_values(run: FlowableRun, values: Any) -> list[str]:
    """Render a loop's values (a list, or a JSON list as text) into distinct strings."""
    if isinstance(values, Expr):
        values = values.source
    if isinstance(values, str):
        rendered = run.render(values) if looks_like_template(values) else values
        try:
            items = json.loads(rendered)
        except json.JSONDecodeError as exc:
            raise TaskError(f"Invalid JSON list for values: {rendered}") from exc
    elif isinstance(values, list):
        items = [run.render(item) if isinstance(item, str) else item for item in values]
    else:
        raise TaskError(f"values must be a list or a JSON list, got {to_text(values)}")
    if not isinstance(items, list):
        items = [items]
    nulls = sum(1 for item in items if item is None)
    if nulls:
        raise TaskError(f"Found '{nulls}' null values on Each, with values={java_string(items)}")
    texts = [item if isinstance(item, str) else to_json(item) for item in items]
    return list(dict.fromkeys(texts))


class _Loop(_ListFlowable):
    """A flowable that runs its tasks once per value."""

    def values_source(self) -> Any:
        raise NotImplementedError

    def frozen_values(self, run: FlowableRun) -> tuple[str, ...] | None:
        return tuple(loop_values(run, self.values_source()))

    def branches(self, run: FlowableRun) -> tuple[list[ResolvedTask], ...]:
        # The values are rendered once, when the loop starts, and kept on its task run; their
        # expansion into child tasks is cached for the next steps.
        return run.remember("branches", lambda: self._expand(run))

    def _expand(self, run: FlowableRun) -> tuple[list[ResolvedTask], ...]:
        stored = run.task_run.loop_values if run.task_run is not None else None
        values = stored if stored is not None else loop_values(run, self.values_source())
        each = enabled(ResolvedTask(task, value) for value in values for task in self.tasks)
        return each, enabled(resolve(self.errors)), enabled(resolve(self.finally_))


@register
class ForEach(_Loop):
    """Run the tasks for each value; `concurrencyLimit` values at once (1 by default, 0: all)."""

    TYPE = "io.kestra.plugin.core.flow.ForEach"

    values: Any
    concurrency_limit: int = Field(default=1, ge=0)

    def values_source(self) -> Any:
        return self.values

    def resolve_nexts(self, run: FlowableRun) -> list[ResolvedTask]:
        tasks, errors, finally_ = self.branches(run)
        if self.concurrency_limit == 1:
            return run.sequential_nexts(tasks, errors, finally_)
        return run.grouped_nexts(tasks, errors, finally_, self.concurrency_limit)


@register
class EachSequential(_Loop):
    """Run the tasks for each value, one after another (deprecated: use ForEach)."""

    TYPE = "io.kestra.plugin.core.flow.EachSequential"

    value: Any

    def values_source(self) -> Any:
        return self.value

    def resolve_nexts(self, run: FlowableRun) -> list[ResolvedTask]:
        return run.sequential_nexts(*self.branches(run))


@register
class EachParallel(_Loop):
    """Run every task of every value at once (deprecated: use ForEach)."""

    TYPE = "io.kestra.plugin.core.flow.EachParallel"

    value: Any
    concurrent: int = Field(default=0, ge=0)

    def values_source(self) -> Any:
        return self.value

    def resolve_nexts(self, run: FlowableRun) -> list[ResolvedTask]:
        tasks, errors, finally_ = self.branches(run)
        return run.concurrent_nexts(tasks, errors, finally_, self.concurrent)


# -- Dag ------------------------------------------------------------------------------------------


class DagTask(BaseModel):
    """A Dag node: a task and the ids of the nodes it waits for."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        validate_by_alias=True,
        validate_by_name=False,
        alias_generator=to_camel,
    )

    task: TaskRef
    depends_on: list[str] | None = None


@register
class Dag(FlowableTask):
    """Run tasks as soon as the tasks they depend on have succeeded."""

    TYPE = "io.kestra.plugin.core.flow.Dag"

    tasks: list[DagTask] = Field(min_length=1)
    concurrent: int = Field(default=0, ge=0)

    def task_lists(self) -> Iterator[tuple[str, Sequence[Task]]]:
        yield "tasks", [node.task for node in self.tasks]
        yield from super().task_lists()

    def problems(self) -> list[str]:
        ids = {node.task.id for node in self.tasks}
        problems = [
            f"Task '{node.task.id}' depends on the unknown task '{dep}'"
            for node in self.tasks
            for dep in node.depends_on or ()
            if dep not in ids
        ]
        cycle = self._cycle()
        if cycle:
            problems.append(f"Cyclic dependency between tasks [{', '.join(cycle)}]")
        return problems

    def _cycle(self) -> list[str]:
        graph = {node.task.id: list(node.depends_on or ()) for node in self.tasks}
        visiting: list[str] = []
        done: set[str] = set()

        def visit(node: str) -> list[str]:
            if node in visiting:
                return [*visiting[visiting.index(node) :], node]
            if node in done or node not in graph:
                return []
            visiting.append(node)
            for dep in graph[node]:
                found = visit(dep)
                if found:
                    return found
            visiting.pop()
            done.add(node)
            return []

        for node in graph:
            found = visit(node)
            if found:
                return found
        return []

    def resolve_nexts(self, run: FlowableRun) -> list[ResolvedTask]:
        tasks = resolve([node.task for node in self.tasks])
        name, current = run.branch(tasks, resolve(self.errors), resolve(self.finally_))
        if name != "tasks":
            return run.sequential_nexts(tasks, resolve(self.errors), resolve(self.finally_))
        states = {item.task_id: item.current for item in run.runs_for(current)}
        active = sum(1 for state in states.values() if not state.is_terminated())
        ready = [
            ResolvedTask(node.task)
            for node in self.tasks
            if not node.task.disabled
            and node.task.id not in states
            and all(
                states.get(dep) in (State.SUCCESS, State.WARNING, State.SKIPPED)
                for dep in node.depends_on or ()
            )
        ]
        if self.concurrent > 0:
            ready = ready[: max(self.concurrent - active, 0)]
        return ready

    def resolve_state(self, run: FlowableRun) -> State | None:
        return run.resolve_state(
            resolve([node.task for node in self.tasks]),
            resolve(self.errors),
            resolve(self.finally_),
            allow_failure=self.allow_failure,
            allow_warning=self.allow_warning,
        )
