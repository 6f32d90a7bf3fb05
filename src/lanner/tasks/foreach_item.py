"""ForEachItem: split a file into batches and run a subflow for each batch.

As in Kestra, the task is a flowable with three tasks of its own, run one after another:
`<id>_split` cuts the `items` file into batch files (and lists them in `splits.txt`),
`<id>_items` starts one child execution per batch (`{{ taskrun.items }}` is the batch's URI,
`{{ taskrun.iteration }}` its index) and counts them by state in `iterations`, and
`<id>_merge` gathers the children's flow outputs into one ION file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, ClassVar

from lanner.children import (
    ChildEvent,
    ChildEventKind,
    ChildOutcome,
    ChildRequest,
    ChildScope,
    reuse_of,
)
from lanner.exceptions import LannerError, TaskError
from lanner.executions import Level, TaskRun
from lanner.flowable import resolve
from lanner.properties import YamlRecord
from lanner.states import State
from lanner.storage import SCHEME, Storage, run_storage, task_prefix
from lanner.tasks.base import ExecutableTask, FlowableTask, ResolvedTask, RunnableTask, Task
from lanner.tasks.registry import register
from lanner.tasks.subflow import ChildFlowTask

if TYPE_CHECKING:
    from lanner.context import RunContext
    from lanner.flowable import FlowableRun

_TERMINAL = ("SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED")
_UNITS = {"": 1, "B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}


class Batch(YamlRecord):
    """How the items are cut: `rows` per batch (1), or `bytes` per batch, or `partitions`."""

    rows: int | str | None = 1
    bytes: str | None = None
    partitions: int | str | None = None
    separator: str = "\n"


@register
class ForEachItem(ChildFlowTask, FlowableTask):
    """Start one execution of `namespace.flowId` per batch of lines of the `items` file."""

    TYPE = "io.kestra.plugin.core.flow.ForEachItem"

    items: str
    batch: Batch = Batch()

    @property
    def own_tasks(self) -> list[Task]:
        """The split, items and merge tasks Kestra runs for a ForEachItem."""
        kinds: list[tuple[str, type[_OwnTask]]] = [
            ("_split", ForEachItemSplit),
            ("_items", ForEachItemExecutable),
            ("_merge", ForEachItemMergeOutputs),
        ]
        # Built from this task's own properties, never read from YAML: no validation needed.
        return [
            kind.model_construct(id=self.id + suffix, type=kind.TYPE, owner=self)
            for suffix, kind in kinds
        ]

    def task_lists(self) -> Iterator[tuple[str, Sequence[Task]]]:
        yield "tasks", self.own_tasks
        yield from FlowableTask.task_lists(self)

    def resolve_nexts(self, run: FlowableRun) -> list[ResolvedTask]:
        return run.sequential_nexts(
            resolve(self.own_tasks), resolve(self.errors), resolve(self.finally_)
        )

    def resolve_state(self, run: FlowableRun) -> State | None:
        return run.resolve_state(
            resolve(self.own_tasks),
            resolve(self.errors),
            resolve(self.finally_),
            allow_failure=self.allow_failure,
            allow_warning=self.allow_warning,
        )


class _OwnTask(Task):
    """A task a ForEachItem runs for itself; `owner` is that ForEachItem."""

    owner: Any

    @property
    def parent(self) -> ForEachItem:
        owner: ForEachItem = self.owner
        return owner


class ForEachItemSplit(_OwnTask, RunnableTask):
    """Cut the items file into batch files; output `splits`, the URI of the list of them."""

    TYPE: ClassVar[str] = "io.kestra.plugin.core.flow.ForEachItem$ForEachItemSplit"

    async def run(self, ctx: RunContext) -> Mapping[str, Any] | None:
        uri = ctx.render(self.parent.items).strip()
        if not uri.startswith(SCHEME):
            message = f"Unable to split the items from {uri}, this is not an internal storage URI!"
            ctx.logger.error(message)
            raise TaskError(message)
        batch = self.parent.batch
        storage = ctx.storage
        lines = (await run_storage(storage, storage.read, uri)).decode("utf-8").splitlines()
        separator = ctx.render(batch.separator)
        groups = _groups(ctx, batch, lines)
        folder = task_prefix(
            ctx.execution.namespace,
            ctx.execution.flow_id,
            ctx.execution.id,
            self.id,
            ctx.task_run.id,
        )
        suffix = PurePosixPath(uri).suffix or ".tmp"
        splits = await run_storage(
            storage, _store_batches, storage, folder, suffix, groups, separator
        )
        return {"splits": splits}


def _store_batches(
    storage: Storage, folder: str, suffix: str, groups: list[list[str]], separator: str
) -> str:
    """Store each group of lines as a batch file, then the list of their URIs; return its URI.

    One function for all the files: a remote storage makes them in one thread hop."""
    batches = [
        storage.put(folder, f"batch-{index}{suffix}", _joined(group, separator))
        for index, group in enumerate(groups)
    ]
    listing = "\n".join(batches).encode("utf-8")
    return storage.put(folder, "splits.txt", listing)


def _groups(ctx: RunContext, batch: Batch, lines: list[str]) -> list[list[str]]:
    """Group the lines as `batch` says (Kestra reads `bytes`, then `partitions`, then `rows`)."""
    if batch.bytes is not None:
        limit = _size(ctx.render(batch.bytes))
        return _cut(lines, lambda size, _rows: size >= limit, ctx.render(batch.separator))
    if batch.partitions is not None:
        count = _count(ctx, batch.partitions, "partitions")
        parts: list[list[str]] = [[] for _ in range(count)]
        for index, line in enumerate(lines):
            parts[index % count].append(line)
        return [part for part in parts if part]
    rows = _count(ctx, batch.rows if batch.rows is not None else 1, "rows")
    return _cut(lines, lambda _size, count: count >= rows, ctx.render(batch.separator))


def _cut(lines: list[str], full: Any, separator: str) -> list[list[str]]:
    groups: list[list[str]] = []
    size = 0
    for line in lines:
        if not groups or full(size, len(groups[-1])):
            groups.append([])
            size = 0
        groups[-1].append(line)
        size += len((line + separator).encode("utf-8"))
    return groups


def _joined(lines: list[str], separator: str) -> bytes:
    return "".join(line + separator for line in lines).encode("utf-8")


def _count(ctx: RunContext, value: int | str, name: str) -> int:
    text = ctx.render(value) if isinstance(value, str) else str(value)
    try:
        count = int(text.strip())
    except ValueError:
        raise TaskError(f"batch.{name} must be a whole number, got '{text}'") from None
    if count < 1:
        raise TaskError(f"batch.{name} must be at least 1, got {count}")
    return count


def _size(text: str) -> int:
    """Read a size such as `10KB` or `1MB` (1024-based) or a plain number of bytes."""
    match = re.fullmatch(r"\s*(\d+)\s*([KMGT]?B?)\s*", text.upper())
    if match is None:
        raise TaskError(f"Invalid size with value '{text}'")
    return int(match[1]) * _UNITS[match[2] if match[2] != "K" else "KB"]


class ForEachItemExecutable(_OwnTask, ExecutableTask):
    """Start one child per batch; count them by state in `iterations`."""

    TYPE: ClassVar[str] = "io.kestra.plugin.core.flow.ForEachItem$ForEachItemExecutable"

    def plan_children(
        self, scope: ChildScope
    ) -> tuple[Mapping[str, Any] | None, list[ChildRequest]]:
        batches = self._batches(scope)
        if not batches:
            return None, []
        owner = self.parent
        reuse = reuse_of(owner.restart_behavior, scope.execution, scope.task_run)
        requests = []
        for iteration, uri in enumerate(batches):
            extra = {"items": uri, "iteration": iteration}
            inputs = scope.render(owner.inputs or {}, extra)
            request = owner.request(scope, inputs, iteration, "" if reuse is not None else None)
            requests.append(_as_own(request, self))
        started = {"CREATED": len(batches), "RUNNING": 0} if owner.wait else {"RUNNING": 0}
        return {"numberOfBatches": len(batches), "iterations": started}, requests

    def _batches(self, scope: ChildScope) -> list[str]:
        split_id = f"{self.parent.id}_split"
        split = next(
            (
                run
                for run in scope.execution.task_runs
                if run.task_id == split_id
                and run.parent_task_run_id == scope.task_run.parent_task_run_id
            ),
            None,
        )
        listing = (split.outputs or {}).get("splits") if split is not None else None
        if listing is None or scope.read_file is None:
            raise LannerError(f"Task '{self.id}': the batches of {split_id} are not known")
        text: str = scope.read_file(str(listing)).decode("utf-8")
        return [line for line in text.splitlines() if line]

    def child_event(self, run: TaskRun, event: ChildEvent) -> ChildOutcome:
        outputs = dict(run.outputs or {})
        iterations: dict[str, int] = dict(outputs.get("iterations") or {})
        total = int(outputs.get("numberOfBatches") or 0)
        owner = self.parent
        if event.kind is ChildEventKind.REFUSED:
            return ChildOutcome(run.outputs, State.FAILED, [(Level.ERROR, event.message or "")])
        if event.kind is ChildEventKind.CREATED:
            if owner.wait:
                return ChildOutcome(run.outputs)
            iterations["SUCCESS"] = iterations.get("SUCCESS", 0) + 1
        else:
            assert event.state is not None
            iterations["CREATED"] = iterations.get("CREATED", 0) - 1
            iterations[event.state.value] = iterations.get(event.state.value, 0) + 1
        outputs["iterations"] = iterations
        if sum(iterations.get(state, 0) for state in _TERMINAL) < total:
            return ChildOutcome(outputs)
        outputs["subflowOutputsBaseUri"] = task_prefix(
            run.namespace, run.flow_id, run.execution_id, run.task_id, run.id
        )
        return ChildOutcome(outputs, self._final_state(iterations))

    def _final_state(self, iterations: Mapping[str, int]) -> State:
        """Return the task run's state once every child ended (Kestra's order of precedence)."""
        owner = self.parent
        if not owner.transmit_failed:
            return State.SUCCESS
        if iterations.get("FAILED", 0) > 0:
            if owner.allow_failure:
                return State.SUCCESS if owner.allow_warning else State.WARNING
            return State.FAILED
        if iterations.get("KILLED", 0) > 0:
            return State.KILLED
        if iterations.get("WARNING", 0) > 0:
            return State.SUCCESS if owner.allow_warning else State.WARNING
        return State.SUCCESS


def _as_own(request: ChildRequest, task: ForEachItemExecutable) -> ChildRequest:
    """Name the `_items` task in the child's trigger, as Kestra does."""
    return replace(request, trigger={**request.trigger, "id": task.id, "type": task.TYPE})


class ForEachItemMergeOutputs(_OwnTask, RunnableTask):
    """Gather the children's flow outputs, in batch order, into one ION file."""

    TYPE: ClassVar[str] = "io.kestra.plugin.core.flow.ForEachItem$ForEachItemMergeOutputs"

    async def run(self, ctx: RunContext) -> Mapping[str, Any] | None:
        items_id = f"{self.parent.id}_items"
        items = next(
            (
                run
                for run in ctx.execution.task_runs
                if run.task_id == items_id
                and run.parent_task_run_id == ctx.task_run.parent_task_run_id
            ),
            None,
        )
        base = (items.outputs or {}).get("subflowOutputsBaseUri") if items else None
        if base is None:
            return None
        target = task_prefix(
            ctx.execution.namespace,
            ctx.execution.flow_id,
            ctx.execution.id,
            self.id,
            ctx.task_run.id,
        )
        storage = ctx.storage
        merged = await run_storage(storage, _merge_outputs, storage, f"{SCHEME}{base}", target)
        return None if merged is None else {"subflowOutputs": merged}


def _merge_outputs(storage: Storage, folder: str, target: str) -> str | None:
    """Join the `outputs.ion` of each batch folder under `folder`, in batch order, into
    `<target>/outputs.ion`; return its URI, None when no batch left one.

    One function for all the reads and the write: a remote storage makes them in one thread
    hop."""
    batches = [name for name in storage.list_folders(folder) if name.isdigit()]
    parts = [
        storage.read(f"{folder}/{name}/outputs.ion")
        for name in sorted(batches, key=int)
        if storage.exists(f"{folder}/{name}/outputs.ion")
    ]
    if not parts:
        return None
    return storage.put(target, "outputs.ion", b"".join(parts))
