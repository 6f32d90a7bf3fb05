"""The id a child execution gets: derived from its parent's task run, the same when replanned."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from lanner.children import ChildEvent, ChildEventKind
from lanner.clock import utcnow
from lanner.executions import Execution
from lanner.executor import Executor, next_attempt_id
from lanner.flow_parser import parse_flow
from lanner.operations import restart
from lanner.settings import Settings
from lanner.states import State

PARENT = parse_flow(
    """id: parent
namespace: company.team
tasks:
  - id: call
    type: io.kestra.plugin.core.flow.Subflow
    namespace: company.team
    flowId: child
    inputs:
      word: "{{ execution.id }}"
"""
)


def _executor(tmp_path: Path) -> Executor:
    return Executor(Settings.load(home=tmp_path, environ={}))


def _started(executor: Executor) -> tuple[Execution, str]:
    created = Execution.create(PARENT.namespace, PARENT.id, 1)
    decision = executor.advance(PARENT, created, utcnow())
    [request] = decision.children
    return decision.execution, request.child_id


def test_planning_a_running_subflow_again_names_the_same_child(tmp_path: Path) -> None:
    executor = _executor(tmp_path)
    execution, child_id = _started(executor)
    [again] = executor.children_asked(PARENT, execution)
    assert again.child_id == child_id
    assert again.inputs == {"word": execution.id}
    assert again.task_run_id == execution.task_runs[0].id


def test_each_parent_asks_for_a_child_of_its_own(tmp_path: Path) -> None:
    executor = _executor(tmp_path)
    assert len({_started(executor)[1] for _ in range(20)}) == 20


def test_nothing_is_planned_again_once_the_task_run_ended(tmp_path: Path) -> None:
    executor = _executor(tmp_path)
    execution, child_id = _started(executor)
    run_id = execution.task_runs[0].id
    ended = ChildEvent(ChildEventKind.ENDED, run_id, child_id, state=State.SUCCESS, outputs={})
    done = executor.child_event(PARENT, execution, ended, utcnow()).execution
    assert done.current is State.SUCCESS
    assert executor.children_asked(PARENT, done) == []


def test_nothing_is_planned_again_while_the_execution_is_killed(tmp_path: Path) -> None:
    executor = _executor(tmp_path)
    execution, _ = _started(executor)
    killing = execution.with_state(State.KILLING, utcnow())
    assert killing.task_runs[0].current is State.RUNNING
    assert executor.children_asked(PARENT, killing) == []


def test_a_task_run_started_again_after_a_kill_asks_for_another_child(tmp_path: Path) -> None:
    # A killed Subflow task run has no attempt: the start number tells its starts apart.
    executor = _executor(tmp_path)
    execution, first_id = _started(executor)
    killed = executor.kill(PARENT, execution, utcnow()).execution
    assert killed.current is State.KILLED
    decision = executor.advance(PARENT, restart(PARENT, killed, utcnow()), utcnow())
    [request] = decision.children
    assert request.child_id != first_id
    [again] = executor.children_asked(PARENT, decision.execution)
    assert again.child_id == request.child_id


def test_a_retry_as_a_new_execution_is_named_by_its_predecessor_and_attempt() -> None:
    first = Execution.create("company.team", "again", 1)
    second = Execution.create("company.team", "again", 1, execution_id=next_attempt_id(first))
    assert second.id == next_attempt_id(first)
    assert second.labels[-1].value == second.id  # its own correlation id, as any new one
    later = replace(first, attempt_number=2)
    names = {first.id, second.id, next_attempt_id(later), next_attempt_id(second)}
    assert len(names) == 4
