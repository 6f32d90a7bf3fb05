"""Child executions, the runner's side: create them, kill them with their parent, report back.

The executor asks for children (`ChildRequest`); here each request becomes an execution of the
child flow (looked up in the store, its inputs checked), or a refusal with Kestra's message.
When a child ends, its parent's task run hears of it through a `ChildEvent`, like a worker
result. Children carry Kestra's `trigger` (`variables.executionId`, `taskRunId`...), which is
how they are found again: to kill them with their parent, or to retry them on a restart.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lanner.children import ChildEvent, ChildEventKind, ChildRequest
from lanner.context import base_variables, task_variables
from lanner.exceptions import InputError, LannerError
from lanner.executions import Execution, Label
from lanner.expressions import render_value
from lanner.expressions.ion import write_ion
from lanner.flow_parser import parse_flow
from lanner.flowable import ExecutionIndex
from lanner.flows import Flow
from lanner.inputs import undeclared_inputs
from lanner.settings import Settings
from lanner.states import State
from lanner.storage import Storage, run_storage, task_prefix
from lanner.store import Store
from lanner.tasks.subflow import Subflow

Submit = Callable[..., Awaitable[Execution]]
Restart = Callable[[str], Awaitable[Execution]]


def parent_of(execution: Execution) -> tuple[str, str, int | None] | None:
    """Return (parent execution id, task run id, iteration) of a child, else None."""
    variables = (execution.trigger or {}).get("variables")
    if not isinstance(variables, Mapping) or "taskRunId" not in variables:
        return None
    iteration = variables.get("taskRunIteration")
    return str(variables["executionId"]), str(variables["taskRunId"]), iteration


@dataclass
class ChildExecutions:
    """Creates child executions for the runner and tells parents how they ended."""

    store: Store
    storage: Storage
    settings: Settings
    submit: Submit
    restart: Restart

    async def start(self, request: ChildRequest) -> ChildEvent:
        """Start (or, on a restart, retry) the child a request asks for; say what happened."""
        try:
            if request.reuse is not None:
                reused = await self._reuse(request)
                if reused is not None:
                    return reused
            return await self._create(request)
        except LannerError as exc:
            return _refused(request, exc)

    async def create(self, request: ChildRequest) -> ChildEvent:
        """Create the child a request asks for, under its id, never retrying a previous one."""
        try:
            return await self._create(request)
        except LannerError as exc:
            return _refused(request, exc)

    async def _create(self, request: ChildRequest) -> ChildEvent:
        flow, revision = await self._flow(request)
        try:
            child = await self.submit(
                flow,
                revision,
                request.inputs,
                _labels(request, flow),
                schedule_date=request.schedule_date,
                trigger=request.trigger,
                execution_id=request.child_id,
            )
        except InputError as exc:
            problems = "; ".join(exc.problems)
            raise LannerError(
                f"Task '{_task_id(request)}': invalid inputs for the subflow "
                f"{flow.namespace}.{flow.id}: {problems}"
            ) from exc
        ignored = undeclared_inputs(flow.inputs or [], request.inputs)
        warnings = tuple(
            f"Input {name} was provided by parent execution {request.parent_id} for subflow "
            f"{flow.namespace}.{flow.id} but isn't declared at the subflow inputs"
            for name in ignored
        )
        return ChildEvent(
            ChildEventKind.CREATED,
            request.task_run_id,
            child.id,
            request.iteration,
            warnings=warnings,
        )

    async def _flow(self, request: ChildRequest) -> tuple[Flow, int]:
        record = await self.store.get_flow(request.namespace, request.flow_id, request.revision)
        if record is None:
            raise LannerError(
                f"Unable to find flow '{request.namespace}'.'{request.flow_id}' "
                f"with revision '{request.revision or 0}'"
            )
        flow = parse_flow(record.source)
        if flow.disabled:
            raise LannerError("Cannot execute a flow which is disabled")
        return flow, record.revision

    async def _reuse(self, request: ChildRequest) -> ChildEvent | None:
        """Retry the failed child of a restarted parent (RETRY_FAILED); None: start a new one."""
        child = await self.previous(request)
        if child is None:
            return None
        if child.current is not State.FAILED:
            # It did not fail: the restarted task run takes its result as it is.
            return ChildEvent(
                ChildEventKind.ENDED,
                request.task_run_id,
                child.id,
                request.iteration,
                state=child.current,
                outputs=child.outputs,
            )
        restarted = await self.restart(child.id)
        return ChildEvent(
            ChildEventKind.CREATED, request.task_run_id, restarted.id, request.iteration
        )

    async def previous(self, request: ChildRequest) -> Execution | None:
        """Return the child a restarted parent retries (RETRY_FAILED), if there is one."""
        if request.reuse:
            return await self.store.get_execution(request.reuse)
        page = await self.store.search_executions(
            namespace=request.namespace, flow_id=request.flow_id, size=10_000
        )
        wanted = (request.parent_id, request.task_run_id, request.iteration)
        found = [item for item in page.results if parent_of(item) == wanted]
        return found[0] if len(found) == 1 else None

    # -- a child ended ----------------------------------------------------------------------

    async def ended(self, child: Execution, child_flow: Flow, parent_flow: Flow) -> ChildEvent:
        """Return the event that tells the parent how a child ended (a ForEachItem child's
        outputs are stored first, where the parent's `_merge` task reads them)."""
        parent = parent_of(child)
        assert parent is not None
        _, task_run_id, iteration = parent
        outputs = child.outputs
        task_id = str((child.trigger or {}).get("variables", {}).get("taskId"))
        if outputs is None and not child_flow.outputs:
            outputs = self._legacy_outputs(parent_flow, task_id, child, child_flow)
        if outputs is not None and iteration is not None:
            await run_storage(self.storage, self._keep_batch_outputs, child, outputs)
        return ChildEvent(
            ChildEventKind.ENDED,
            task_run_id,
            child.id,
            iteration,
            state=child.current,
            outputs=outputs,
        )

    def _legacy_outputs(
        self, parent_flow: Flow, task_id: str, child: Execution, child_flow: Flow
    ) -> Mapping[str, Any] | None:
        """Render a Subflow's deprecated `outputs` against the child that ended."""
        try:
            task = parent_flow.find_task(task_id)
        except KeyError:
            return None
        if not isinstance(task, Subflow) or not task.outputs:
            return None
        shared = base_variables(child_flow, child, self.settings)
        variables = task_variables(shared, ExecutionIndex(child), child_flow.tasks[0], None)
        try:
            rendered: Mapping[str, Any] = render_value(task.outputs, variables)
        except LannerError:
            return None
        return rendered

    def _keep_batch_outputs(self, child: Execution, outputs: Mapping[str, Any]) -> None:
        """Store a ForEachItem child's outputs where the `_merge` task gathers them."""
        variables = (child.trigger or {}).get("variables") or {}
        folder = task_prefix(
            str(variables["namespace"]),
            str(variables["flowId"]),
            str(variables["executionId"]),
            str(variables["taskId"]),
            str(variables["taskRunId"]),
        )
        line = write_ion(dict(outputs)) + "\n"
        self.storage.put(f"{folder}/{variables['taskRunIteration']}", "outputs.ion", line.encode())


def children_of(parent_id: str, executions: Iterable[Execution]) -> list[str]:
    """Return the ids of the executions started by a parent's Subflow or ForEachItem tasks."""
    found = []
    for execution in executions:
        parent = parent_of(execution)
        if parent is not None and parent[0] == parent_id:
            found.append(execution.id)
    return found


def _labels(request: ChildRequest, flow: Flow) -> Sequence[Label]:
    """Return a child's labels: inherited ones (those its flow does not set), then the task's."""
    own = {label.key for label in flow.labels}
    inherited = tuple(label for label in request.inherited if label.key not in own)
    return (*inherited, *request.labels)


def _refused(request: ChildRequest, exc: LannerError) -> ChildEvent:
    return ChildEvent(ChildEventKind.REFUSED, request.task_run_id, message=str(exc))


def _task_id(request: ChildRequest) -> str:
    variables = request.trigger.get("variables") or {}
    return str(variables.get("taskId"))


__all__ = ["ChildExecutions", "children_of", "parent_of"]
