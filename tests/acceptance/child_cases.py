"""The kit's `child-execution` cases: their parent flows are written here, then run.

The kit holds only the child flows; Kestra's tests start them from parents that are not in
the kit. Each parent below does what its `childOf.parentFlow` did upstream: a ForEachItem over
a file of lines in batches of 4, or Subflow tasks from a root flow down to the grandchild.
The case is then checked on one child execution, as `childOf` describes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from lanner.executions import Execution
from lanner.flowrepo import FlowRepository
from lanner.inputs.coercion import Upload
from lanner.runner import Runner
from lanner.store import Store

ITEMS = "".join(f"item {number}\n" for number in range(10)).encode()


def _for_each_item_parent(parent_id: str, namespace: str, child_id: str) -> str:
    return f"""id: {parent_id}
namespace: {namespace}
inputs:
  - id: file
    type: FILE
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEachItem
    items: "{{{{ inputs.file }}}}"
    batch:
      rows: 4
    namespace: {namespace}
    flowId: {child_id}
    wait: true
    transmitFailed: true
    inputs:
      items: "{{{{ taskrun.items }}}}"
"""


def _subflow_caller(flow_id: str, namespace: str, child_id: str) -> str:
    return f"""id: {flow_id}
namespace: {namespace}
tasks:
  - id: call
    type: io.kestra.plugin.core.flow.Subflow
    namespace: {namespace}
    flowId: {child_id}
"""


def parent_sources(case: Mapping[str, Any]) -> list[str]:
    """Return the flows that lead from the root to the case's flow, root first."""
    child_of = case["childOf"]
    namespace, flow_id = case["namespace"], case["flowId"]
    parent = child_of["parentFlow"]
    if "rootFlow" in child_of:
        root = child_of["rootFlow"]
        return [
            _subflow_caller(root, namespace, parent),
            _subflow_caller(parent, namespace, flow_id),
        ]
    return [_for_each_item_parent(parent, namespace, flow_id)]


async def run_child_case(
    runner: Runner, store: Store, case: Mapping[str, Any], child_source: str
) -> tuple[Execution, Execution]:
    """Run the case's root flow to its end; return it and the last child of the case's flow."""
    repo = FlowRepository(store)
    await repo.save(child_source)
    stored = [await repo.save(source) for source in parent_sources(case)]
    root = stored[0]
    inputs = {"file": Upload("items.txt", ITEMS)} if len(stored) == 1 else {}
    started = await runner.submit(root.flow, root.revision, inputs)
    ended = await runner.wait(started.id, timeout=60)
    page = await store.search_executions(
        namespace=case["namespace"], flow_id=case["flowId"], size=100
    )
    children = [
        item for item in page.results if item.labels_map().get("system.correlationId") == ended.id
    ]
    if not children:
        raise AssertionError(f"no execution of {case['flowId']} was started by {ended.id}")
    for child in children:
        await runner.wait(child.id, timeout=60)
    last = await store.get_execution(children[0].id)
    assert last is not None
    return ended, last


def check_child_of(case: Mapping[str, Any], child: Execution, root: Execution) -> Iterator[str]:
    """Check what `childOf` says of the child: inputs matching, correlation id of the root."""
    child_of = case["childOf"]
    for input_id, pattern in (child_of.get("inputMatches") or {}).items():
        value = str((child.inputs or {}).get(input_id))
        if not re.fullmatch(pattern, value):
            yield f"childOf.inputMatches[{input_id}]: {value!r} does not match {pattern!r}"
    if child_of.get("correlationIdIsRootExecutionId"):
        got = child.labels_map().get("system.correlationId")
        if got != root.id:
            yield f"childOf.correlationId: expected {root.id}, got {got}"
