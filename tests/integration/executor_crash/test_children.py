"""An executor dies after saving a child execution, before its claim commits.

The parent was saved with its Subflow or ForEachItem task run RUNNING, and the children's first
events went nowhere: the next executor must start each child once, under the id it was given.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from lanner.inputs.coercion import Upload
from lanner.queue import EventKind, ExecutorEvent
from lanner.states import State
from tests.integration.executor_crash.support import flow, lanner

pytestmark = pytest.mark.timeout(120)

CHILD = flow(
    "child",
    """inputs:
  - id: word
    type: STRING
tasks:
  - id: say
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.word }}"
outputs:
  - id: said
    type: STRING
    value: "{{ outputs.say.value }}"
""",
)

CALLER = flow(
    "caller",
    """tasks:
  - id: call
    type: io.kestra.plugin.core.flow.Subflow
    namespace: company.team
    flowId: child
    inputs:
      word: hello
""",
)

ECHO = flow(
    "echo",
    """inputs:
  - id: items
    type: STRING
tasks:
  - id: read
    type: io.kestra.plugin.core.debug.Return
    format: "{{ read(inputs.items) | trim }}"
""",
)


def each(wait: bool) -> str:
    return flow(
        "each",
        f"""inputs:
  - id: file
    type: FILE
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEachItem
    items: "{{{{ inputs.file }}}}"
    batch:
      rows: 2
    namespace: company.team
    flowId: echo
    wait: {str(wait).lower()}
    inputs:
      items: "{{{{ taskrun.items }}}}"
""",
    )


LINES = Upload("items.txt", b"a\nb\nc\nd\ne\n")  # three batches: a b, c d, e


def _starts_another(what: str, execution_id: str, items: Sequence[Any]) -> bool:
    """The claim of one execution sends the first event of another (a child it created)."""
    return what == "send" and any(
        isinstance(event, ExecutorEvent)
        and event.kind is EventKind.ADVANCE
        and event.execution_id != execution_id
        for event in items
    )


async def test_a_subflow_child_saved_by_an_executor_that_died_runs_once(
    postgres_url: str, tmp_path: Path
) -> None:
    async with lanner(postgres_url, tmp_path) as world:
        await world.save(CHILD, CALLER)
        parent = await world.start("caller")
        await world.executor_dies(_starts_another)
        [orphan] = await world.executions("child")
        assert orphan.current is State.CREATED  # saved, but its first event never went out
        world.executor()
        done = await world.ended(parent.id)
        children = await world.executions("child")
    assert done.current is State.SUCCESS
    assert [child.id for child in children] == [orphan.id]
    assert done.task_runs[0].outputs == {
        "executionId": orphan.id,
        "state": "SUCCESS",
        "outputs": {"said": "hello"},
    }


async def test_batches_an_executor_died_creating_each_run_once(
    postgres_url: str, tmp_path: Path
) -> None:
    saved: list[str] = []

    def second_batch_saved(what: str, execution_id: str, items: Sequence[Any]) -> bool:
        # Dies saving the second child: the first is in the store, the others are not.
        if what == "save" and items[0].flow_id == "echo":
            saved.append(execution_id)
        return len(saved) == 2

    async with lanner(postgres_url, tmp_path) as world:
        await world.save(ECHO, each(wait=True))
        parent = await world.start("each", {"file": LINES})
        await world.executor_dies(second_batch_saved)
        [orphan] = await world.executions("echo")
        world.executor()
        done = await world.ended(parent.id)
        children = await world.executions("echo")
    assert done.current is State.SUCCESS
    texts = sorted(str((child.task_runs[0].outputs or {}).get("value")) for child in children)
    assert texts == ["a\nb", "c\nd", "e"]
    assert orphan.id in {child.id for child in children}
    assert all(child.current is State.SUCCESS for child in children)
    [items] = [run for run in done.task_runs if run.task_id == "each_items"]
    assert items.outputs is not None
    assert items.outputs["numberOfBatches"] == 3
    assert items.outputs["iterations"] == {"CREATED": 0, "RUNNING": 0, "SUCCESS": 3}


async def test_children_started_before_the_executor_changed_are_not_started_again(
    postgres_url: str, tmp_path: Path
) -> None:
    async with lanner(postgres_url, tmp_path) as world:
        await world.save(ECHO, each(wait=False))
        parent = await world.start("each", {"file": LINES})

        def told_of_children(what: str, execution_id: str, items: Sequence[Any]) -> bool:
            # The children were created and the parent told, in a claim that committed; the
            # executor dies as the parent is about to hear of them, so the next one sees the
            # parent for the first time with its children already started.
            return (
                what == "claim"
                and execution_id == parent.id
                and any(event.kind is EventKind.CHILD for event in items)
            )

        await world.executor_dies(told_of_children)
        world.executor()
        done = await world.ended(parent.id)
        children = [await world.ended(child.id) for child in await world.executions("echo")]
    assert done.current is State.SUCCESS
    assert len(children) == 3
    [items] = [run for run in done.task_runs if run.task_id == "each_items"]
    assert items.outputs is not None
    # With wait: false each child counts as a success once created: once, not twice.
    assert items.outputs["iterations"] == {"RUNNING": 0, "SUCCESS": 3}
