"""Subflow: child executions created by the runner, their end fed back to the parent."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from lanner.exceptions import FlowError
from lanner.flow_parser import parse_flow
from lanner.states import State
from tests.integration.children.support import engine, flow

CHILD = flow(
    "child",
    """inputs:
  - id: who
    type: STRING
  - id: times
    type: INT
    defaults: 1
tasks:
  - id: hello
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.who }} x{{ inputs.times }}"
outputs:
  - id: greeting
    type: STRING
    value: "{{ outputs.hello.value }}"
""",
)

FAILING = flow(
    "failing",
    """tasks:
  - id: boom
    type: io.kestra.plugin.core.execution.Fail
""",
)


def caller(flow_id: str, properties: str, extra: str = "") -> str:
    return flow(
        flow_id,
        extra
        + """tasks:
  - id: call
    type: io.kestra.plugin.core.flow.Subflow
    namespace: company.team
"""
        + properties,
    )


async def test_a_subflow_waits_for_its_child_and_gets_its_outputs(tmp_path: Path) -> None:
    parent = caller(
        "parent",
        """    flowId: child
    inputs:
      who: "{{ flow.id }}"
      times: 3
    labels:
      team: data
""",
        extra="labels:\n  owner: me\n",
    )
    async with engine(tmp_path, CHILD, parent) as lanner:
        done = await lanner.run("parent")
        [child] = await lanner.children("child")
    assert done.current is State.SUCCESS
    run = done.task_runs[0]
    assert run.outputs == {
        "executionId": child.id,
        "state": "SUCCESS",
        "outputs": {"greeting": "parent x3"},
    }
    assert len(run.attempts) == 1
    assert child.inputs == {"who": "parent", "times": 3}
    assert child.trigger == {
        "id": "call",
        "type": "io.kestra.plugin.core.flow.Subflow",
        "variables": {
            "executionId": done.id,
            "namespace": "company.team",
            "flowId": "parent",
            "flowRevision": 1,
            "taskRunId": run.id,
            "taskId": "call",
        },
    }
    # Without inheritLabels, a child gets the task's labels and the root's correlation id only.
    assert child.labels_map() == {"team": "data", "system.correlationId": done.id}


async def test_inherit_labels_passes_the_parents_labels_on(tmp_path: Path) -> None:
    parent = caller(
        "parent",
        "    flowId: child\n    inputs:\n      who: x\n    inheritLabels: true\n",
        extra="labels:\n  owner: me\n",
    )
    async with engine(tmp_path, CHILD, parent) as lanner:
        done = await lanner.run("parent")
        [child] = await lanner.children("child")
    assert child.labels_map() == {"owner": "me", "system.correlationId": done.id}


@pytest.mark.parametrize(
    ("properties", "state", "task_state"),
    [
        ("", State.FAILED, State.FAILED),
        ("    transmitFailed: false\n", State.SUCCESS, State.SUCCESS),
        ("    allowFailure: true\n", State.WARNING, State.WARNING),
    ],
    ids=["transmit", "no-transmit", "allow-failure"],
)
async def test_a_failed_child_fails_the_task_as_transmit_failed_says(
    tmp_path: Path, properties: str, state: State, task_state: State
) -> None:
    parent = caller("parent", "    flowId: failing\n" + properties)
    async with engine(tmp_path, FAILING, parent) as lanner:
        done = await lanner.run("parent")
        [child] = await lanner.children("failing")
        logs = await lanner.logs(done, "call")
    assert (done.current, done.task_runs[0].current) == (state, task_state)
    assert done.task_runs[0].outputs == {"executionId": child.id, "state": "FAILED"}
    if task_state is State.FAILED:
        assert logs == [f"Subflow execution {child.id} ends in FAILED state"]


async def test_without_wait_the_task_ends_once_the_child_exists(tmp_path: Path) -> None:
    slow = flow(
        "slow",
        "tasks:\n  - id: nap\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: PT2S\n",
    )
    parent = caller("parent", "    flowId: slow\n    wait: false\n")
    async with engine(tmp_path, slow, parent) as lanner:
        done = await lanner.run("parent")
        [child] = await lanner.children("slow")
        assert done.current is State.SUCCESS
        assert done.task_runs[0].outputs == {"executionId": child.id}
        assert not child.current.is_terminated()
        ended = await lanner.runner.wait(child.id, timeout=30)
    assert ended.current is State.SUCCESS


async def test_an_unknown_flow_fails_the_task_with_kestras_message(tmp_path: Path) -> None:
    parent = caller("parent", "    flowId: nowhere\n    revision: 4\n")
    async with engine(tmp_path, parent) as lanner:
        done = await lanner.run("parent")
        logs = await lanner.logs(done, "call")
    assert done.current is State.FAILED
    assert logs == ["Unable to find flow 'company.team'.'nowhere' with revision '4'"]


async def test_invalid_inputs_name_the_task_and_the_input(tmp_path: Path) -> None:
    parent = caller("parent", "    flowId: child\n    inputs:\n      times: many\n      x: 1\n")
    async with engine(tmp_path, CHILD, parent) as lanner:
        done = await lanner.run("parent")
        logs = await lanner.logs(done, "call")
        children = await lanner.children("child")
    assert done.current is State.FAILED
    assert children == []
    [message] = logs
    assert message.startswith(
        "Task 'call': invalid inputs for the subflow company.team.child: who: "
    )
    assert "times: Invalid input for `times`" in message


async def test_an_undeclared_input_is_ignored_with_a_warning(tmp_path: Path) -> None:
    parent = caller("parent", "    flowId: child\n    inputs:\n      who: a\n      extra: 1\n")
    async with engine(tmp_path, CHILD, parent) as lanner:
        done = await lanner.run("parent")
        logs = await lanner.logs(done, "call")
    assert done.current is State.SUCCESS
    assert logs == [
        f"Input extra was provided by parent execution {done.id} for subflow "
        "company.team.child but isn't declared at the subflow inputs"
    ]


async def test_legacy_outputs_are_rendered_against_the_child(tmp_path: Path) -> None:
    child = flow(
        "plain",
        "tasks:\n  - id: r\n    type: io.kestra.plugin.core.debug.Return\n    format: hi\n",
    )
    parent = flow(
        "parent",
        """tasks:
  - id: call
    type: io.kestra.core.tasks.flows.Flow
    namespace: company.team
    flowId: plain
    outputs:
      said: "{{ outputs.r.value }} from {{ flow.id }}"
""",
    )
    async with engine(tmp_path, child, parent) as lanner:
        done = await lanner.run("parent")
    assert done.task_runs[0].outputs is not None
    assert done.task_runs[0].outputs["outputs"] == {"said": "hi from plain"}


def test_subflow_labels_refuse_system_labels_and_types_resolve() -> None:
    for legacy in ("io.kestra.core.tasks.flows.Subflow", "io.kestra.core.tasks.flows.Flow"):
        parsed = parse_flow(
            caller("p", "    flowId: c\n").replace("io.kestra.plugin.core.flow.Subflow", legacy)
        )
        assert type(parsed.tasks[0]).__name__ == "Subflow"
    with pytest.raises(FlowError, match="restartBehavior"):
        parse_flow(caller("p", "    flowId: c\n    restartBehavior: SOMETIMES\n"))


async def test_killing_a_parent_kills_its_child_and_grandchild(tmp_path: Path) -> None:
    grandchild = flow(
        "grandchild",
        "tasks:\n  - id: nap\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: PT60S\n",
    )
    middle = caller("middle", "    flowId: grandchild\n")
    parent = caller("parent", "    flowId: middle\n")
    async with engine(tmp_path, grandchild, middle, parent) as lanner:
        started = await lanner.start("parent")
        for _ in range(500):
            deepest = await lanner.children("grandchild")
            if deepest and deepest[0].current is State.RUNNING:
                break
            await lanner.until(started.id, State.RUNNING)
        began = time.monotonic()
        await lanner.runner.kill(started.id)
        done = await lanner.runner.wait(started.id, timeout=30)
        [child] = await lanner.children("middle")
        [grand] = await lanner.children("grandchild")
        child = await lanner.until(child.id, State.KILLED)
        grand = await lanner.until(grand.id, State.KILLED)
        took = time.monotonic() - began
    assert done.current is State.KILLED
    assert done.task_runs[0].current is State.KILLED
    assert took < 10


def _kv_flow() -> str:
    return flow(
        "picky",
        """tasks:
  - id: need
    type: io.kestra.plugin.core.kv.Get
    key: ready
    errorOnMissing: true
""",
    )


@pytest.mark.parametrize("behavior", ["RETRY_FAILED", "NEW_EXECUTION"])
async def test_restarting_a_parent_restarts_or_replaces_its_failed_child(
    tmp_path: Path, behavior: str
) -> None:
    parent = caller("parent", f"    flowId: picky\n    restartBehavior: {behavior}\n")
    async with engine(tmp_path, _kv_flow(), parent) as lanner:
        failed = await lanner.run("parent")
        [first] = await lanner.children("picky")
        lanner.store.kv.put("company.team", "ready", "yes")
        await lanner.runner.restart(failed.id)
        done = await lanner.runner.wait(failed.id, timeout=60)
        children = await lanner.children("picky")
    assert failed.current is State.FAILED
    assert done.current is State.SUCCESS
    assert done.task_runs[0].current is State.SUCCESS
    if behavior == "RETRY_FAILED":
        [again] = children
        assert again.id == first.id
        assert again.current is State.SUCCESS
        assert again.labels_map().get("system.restarted") == "true"
    else:
        assert [child.current for child in children] == [State.FAILED, State.SUCCESS]
        assert done.task_runs[0].outputs is not None
        assert done.task_runs[0].outputs["executionId"] == children[1].id


async def test_schedule_date_delays_the_child_and_a_bad_one_is_named(tmp_path: Path) -> None:
    later = caller(
        "later",
        "    flowId: child\n    inputs:\n      who: x\n    wait: false\n"
        '    scheduleDate: "{{ now() }}"\n',
    )
    bad = caller("bad", '    flowId: child\n    scheduleDate: "tomorrow"\n')
    async with engine(tmp_path, CHILD, later, bad) as lanner:
        done = await lanner.run("later")
        [child] = await lanner.children("child")
        failed = await lanner.run("bad")
        logs = await lanner.logs(failed, "call")
    assert done.current is State.SUCCESS
    assert child.schedule_date is not None
    assert failed.current is State.FAILED
    assert logs == ["Task 'call': scheduleDate must be an ISO-8601 date-time, got 'tomorrow'"]
