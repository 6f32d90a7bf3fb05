"""The scheduler on a fake clock, on each store backend: due dates, recovery, backfill, stopAfter,
restarts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from lanner.executions import Execution, Label
from lanner.flowrepo import FlowRepository
from lanner.runner import Runner
from lanner.scheduler import Scheduler
from lanner.settings import Settings
from lanner.states import State
from lanner.store import Store
from lanner.store.triggers import PendingDate, TriggerState

NAMESPACE, FLOW_ID, TRIGGER_ID = "company.team", "hello", "every_minute"
KEY = (NAMESPACE, FLOW_ID, TRIGGER_ID)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@dataclass
class FakeClock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
async def runner(store: Store, tmp_path: Path) -> AsyncIterator[Runner]:
    started = Runner(Settings.load(home=tmp_path / "home", environ={}), store)
    await started.start()
    try:
        yield started
    finally:
        await started.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(at("2024-01-01T10:00:30+00:00"))


def scheduler(store: Store, runner: Runner, clock: FakeClock, **options: Any) -> Scheduler:
    """A scheduler as a (re)started process makes one: nothing seen yet."""
    return Scheduler(store, FlowRepository(store), runner, runner.settings, clock=clock, **options)


LOG = "  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: hi {{ inputs.who }}\n"


def flow(trigger: str = "", *, extra: str = "", tasks: str = "") -> str:
    return (
        f"id: {FLOW_ID}\n"
        f"namespace: {NAMESPACE}\n"
        f"{extra}"
        "inputs:\n"
        "  - id: who\n"
        "    type: STRING\n"
        "    defaults: world\n"
        "tasks:\n" + (tasks or LOG) + "triggers:\n"
        f"  - id: {TRIGGER_ID}\n"
        "    type: io.kestra.plugin.core.trigger.Schedule\n"
        "    cron: '* * * * *'\n"
        f"{trigger}"
    )


async def save(store: Store, source: str) -> None:
    await store.save_flow(NAMESPACE, FLOW_ID, source)


def dates(executions: list[Execution]) -> list[str]:
    return [str((e.trigger or {})["variables"]["date"]) for e in executions]


async def state_of(store: Store) -> TriggerState:
    state = await store.get_trigger_state(*KEY)
    assert state is not None
    return state


async def all_executions(store: Store) -> list[Execution]:
    found = await store.search_executions(namespace=NAMESPACE, size=1000, sort_desc=False)
    return found.results


# -- due dates ------------------------------------------------------------------------------------


async def test_a_new_trigger_starts_at_the_next_date(
    store: Store, runner: Runner, clock: FakeClock
) -> None:
    await save(store, flow())
    running = scheduler(store, runner, clock)

    assert await running.tick() == []
    assert (await state_of(store)).next_date == at("2024-01-01T10:01:00+00:00")


async def test_each_due_date_fires_once(store: Store, runner: Runner, clock: FakeClock) -> None:
    await save(store, flow())
    running = scheduler(store, runner, clock)
    await running.tick()

    clock.advance(seconds=30)
    first = await running.tick()
    second = await running.tick()
    clock.advance(seconds=1)
    third = await running.tick()

    assert dates(first) == ["2024-01-01T10:01:00Z"]
    assert second == third == []
    state = await state_of(store)
    assert state.date == at("2024-01-01T10:01:00+00:00")
    assert state.next_date == at("2024-01-01T10:02:00+00:00")
    assert state.execution_id == first[0].id
    assert state.pending is None


async def test_the_execution_has_the_trigger_its_variables_inputs_and_labels(
    store: Store, runner: Runner, clock: FakeClock
) -> None:
    await save(
        store,
        flow(
            "    labels: {source: '{{ trigger.date }}'}\n",
            tasks=(
                "  - id: log\n"
                "    type: io.kestra.plugin.core.log.Log\n"
                "    message: '{{ trigger.date }} {{ trigger.previous }} {{ trigger.next }} "
                "{{ inputs.who }}'\n"
            ),
        ),
    )
    running = scheduler(store, runner, clock)
    await running.tick()
    clock.advance(minutes=1)

    [execution] = await running.tick()
    ended = await runner.wait(execution.id, 10)

    assert execution.trigger == {
        "id": TRIGGER_ID,
        "type": "io.kestra.plugin.core.trigger.Schedule",
        "variables": {
            "date": "2024-01-01T10:01:00Z",
            "next": "2024-01-01T10:02:00Z",
            "previous": "2024-01-01T10:00:00Z",
        },
    }
    assert execution.inputs == {"who": "world"}
    assert Label("source", "2024-01-01T10:01:00Z") in execution.labels
    assert ended.current is State.SUCCESS
    logs = await store.get_logs(execution.id)
    assert [entry.message for entry in logs] == [
        "2024-01-01T10:01:00Z 2024-01-01T10:00:00Z 2024-01-01T10:02:00Z world"
    ]


async def test_trigger_inputs_are_rendered_over_the_defaults(
    store: Store, runner: Runner, clock: FakeClock
) -> None:
    await save(store, flow("    inputs:\n      who: '{{ flow.id }} at {{ trigger.date }}'\n"))
    running = scheduler(store, runner, clock)
    await running.tick()
    clock.advance(minutes=1)

    [execution] = await running.tick()

    assert execution.inputs == {"who": "hello at 2024-01-01T10:01:00Z"}


async def test_a_false_condition_consumes_the_date_without_an_execution(
    store: Store, runner: Runner, clock: FakeClock
) -> None:
    condition = (
        "    conditions:\n"
        "      - type: io.kestra.plugin.core.condition.Expression\n"
        "        expression: \"{{ trigger.date | date('mm') == '02' }}\"\n"
    )
    await save(store, flow(condition))
    running = scheduler(store, runner, clock)
    await running.tick()

    clock.advance(minutes=1)
    assert await running.tick() == []
    clock.advance(minutes=1)
    assert dates(await running.tick()) == ["2024-01-01T10:02:00Z"]


async def test_too_late_dates_are_skipped(store: Store, runner: Runner, clock: FakeClock) -> None:
    await save(store, flow("    lateMaximumDelay: PT90S\n"))
    running = scheduler(store, runner, clock)
    await running.tick()

    clock.advance(minutes=3)
    started = await running.tick()

    assert dates(started) == ["2024-01-01T10:02:00Z", "2024-01-01T10:03:00Z"]


async def test_a_tick_starts_at_most_max_per_tick_executions_per_trigger(
    store: Store, runner: Runner, clock: FakeClock
) -> None:
    await save(store, flow())
    running = scheduler(store, runner, clock, max_per_tick=2)
    await running.tick()

    clock.advance(minutes=5)
    first = await running.tick()
    second = await running.tick()
    third = await running.tick()

    assert len(first) == 2
    assert len(second) == 2
    assert dates(third) == ["2024-01-01T10:05:00Z"]


# -- missed dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "recovered"),
    [
        ("ALL", ["10:01", "10:02", "10:03", "10:04", "10:05"]),
        ("LAST", ["10:05"]),
        ("NONE", []),
    ],
)
async def test_dates_missed_while_stopped_follow_recover_missed_schedules(
    store: Store, runner: Runner, clock: FakeClock, mode: str, recovered: list[str]
) -> None:
    await save(store, flow(f"    recoverMissedSchedules: {mode}\n"))
    await scheduler(store, runner, clock).tick()

    clock.advance(minutes=5)  # lanner is down for five minutes
    restarted = scheduler(store, runner, clock)
    after_restart = await restarted.tick()
    clock.advance(minutes=1)
    next_minute = await restarted.tick()

    assert dates(after_restart) == [f"2024-01-01T{time}:00Z" for time in recovered]
    assert dates(next_minute) == ["2024-01-01T10:06:00Z"]


async def test_the_default_recovery_is_all(store: Store, runner: Runner, clock: FakeClock) -> None:
    await save(store, flow())
    await scheduler(store, runner, clock).tick()

    clock.advance(minutes=2)
    started = await scheduler(store, runner, clock).tick()

    assert dates(started) == ["2024-01-01T10:01:00Z", "2024-01-01T10:02:00Z"]


async def test_dates_passing_while_the_flow_is_disabled_are_skipped(
    store: Store, runner: Runner, clock: FakeClock
) -> None:
    await save(store, flow(extra="disabled: true\n"))
    running = scheduler(store, runner, clock)
    await running.tick()
    clock.advance(minutes=3)
    assert await running.tick() == []

    await save(store, flow())
    assert await running.tick() == []
    clock.advance(minutes=1)
    assert dates(await running.tick()) == ["2024-01-01T10:04:00Z"]


async def test_a_disabled_trigger_does_not_fire(
    store: Store, runner: Runner, clock: FakeClock
) -> None:
    await save(store, flow("    disabled: true\n"))
    running = scheduler(store, runner, clock)
    await running.tick()
    clock.advance(minutes=2)

    assert await running.tick() == []


async def test_a_changed_cron_starts_afresh(store: Store, runner: Runner, clock: FakeClock) -> None:
    await save(store, flow())
    running = scheduler(store, runner, clock)
    await running.tick()

    await save(store, flow().replace("'* * * * *'", "'0 * * * *'"))
    clock.advance(minutes=2)

    assert await running.tick() == []
    assert (await state_of(store)).next_date == at("2024-01-01T11:00:00+00:00")


# -- backfill -------------------------------------------------------------------------------------


async def test_a_backfill_runs_its_past_dates_once_with_its_labels(
    store: Store, runner: Runner, clock: FakeClock
) -> None:
    backfill = (
        "    backfill:\n"
        "      start: 2024-01-01T09:56:00Z\n"
        "      end: 2024-01-01T09:58:00Z\n"
        "      labels: {reason: gap}\n"
        "      inputs: {who: past}\n"
    )
    await save(store, flow(backfill))
    running = scheduler(store, runner, clock)

    started = await running.tick()
    again = await running.tick()
    after_restart = await scheduler(store, runner, clock).tick()

    assert dates(started) == [
        "2024-01-01T09:56:00Z",
        "2024-01-01T09:57:00Z",
        "2024-01-01T09:58:00Z",
    ]
    assert again == after_restart == []
    for execution in started:
        assert Label("reason", "gap") in execution.labels
        assert Label("system.backfill", "true") in execution.labels
        assert execution.inputs == {"who": "past"}
    state = await state_of(store)
    assert state.backfill is None
    assert state.next_date == at("2024-01-01T10:01:00+00:00")


async def test_a_backfill_without_end_meets_the_schedule(
    store: Store, runner: Runner, clock: FakeClock
) -> None:
    await save(store, flow("    backfill:\n      start: 2024-01-01T09:58:00Z\n"))
    running = scheduler(store, runner, clock)

    started = await running.tick()
    clock.advance(minutes=1)
    scheduled = await running.tick()

    assert dates(started) == [
        "2024-01-01T09:58:00Z",
        "2024-01-01T09:59:00Z",
        "2024-01-01T10:00:00Z",
    ]
    assert dates(scheduled) == ["2024-01-01T10:01:00Z"]
    assert all(Label("system.backfill", "true") not in e.labels for e in scheduled)


async def test_a_long_backfill_continues_on_the_next_ticks(
    store: Store, runner: Runner, clock: FakeClock
) -> None:
    await save(store, flow("    backfill:\n      start: 2024-01-01T09:55:00Z\n"))
    running = scheduler(store, runner, clock, max_per_tick=4)

    first = await running.tick()
    second = await running.tick()

    assert len(first) == 4
    assert dates(second) == ["2024-01-01T09:59:00Z", "2024-01-01T10:00:00Z"]


# -- stopAfter and the API's enable/disable -------------------------------------------------------

FAILING = "  - id: fail\n    type: io.kestra.plugin.core.execution.Fail\n"


async def test_stop_after_disables_the_trigger_and_enabling_resumes_it(
    store: Store, runner: Runner, clock: FakeClock
) -> None:
    await save(store, flow("    stopAfter: [FAILED]\n", tasks=FAILING))
    running = scheduler(store, runner, clock)
    await running.tick()
    clock.advance(minutes=1)
    [execution] = await running.tick()
    assert (await runner.wait(execution.id, 10)).current is State.FAILED

    clock.advance(minutes=1)
    assert await running.tick() == []
    assert (await state_of(store)).disabled

    clock.advance(minutes=2)
    assert await running.tick() == []
    row = await running.set_disabled(*KEY, False)
    assert row.state is not None
    assert not row.state.disabled
    assert await running.tick() == []
    clock.advance(minutes=1)
    assert dates(await running.tick()) == ["2024-01-01T10:05:00Z"]


async def test_stop_after_ignores_other_states(
    store: Store, runner: Runner, clock: FakeClock
) -> None:
    await save(store, flow("    stopAfter: [FAILED]\n"))
    running = scheduler(store, runner, clock)
    await running.tick()
    clock.advance(minutes=1)
    [execution] = await running.tick()
    assert (await runner.wait(execution.id, 10)).current is State.SUCCESS

    clock.advance(minutes=1)

    assert dates(await running.tick()) == ["2024-01-01T10:02:00Z"]


async def test_disabling_through_the_scheduler(
    store: Store, runner: Runner, clock: FakeClock
) -> None:
    await save(store, flow())
    running = scheduler(store, runner, clock)
    await running.tick()

    await running.set_disabled(*KEY, True)
    clock.advance(minutes=1)

    assert await running.tick() == []
    [row] = await running.rows()
    assert row.state is not None
    assert row.state.disabled


# -- restarts -------------------------------------------------------------------------------------


async def test_a_restart_at_the_same_time_starts_nothing_again(
    store: Store, runner: Runner, clock: FakeClock
) -> None:
    await save(store, flow())
    await scheduler(store, runner, clock).tick()
    clock.advance(minutes=1)
    assert len(await scheduler(store, runner, clock).tick()) == 1

    assert await scheduler(store, runner, clock).tick() == []
    assert len(await all_executions(store)) == 1


async def test_a_date_pending_whose_execution_exists_is_not_started_again(
    store: Store, runner: Runner, clock: FakeClock
) -> None:
    await save(store, flow())
    await scheduler(store, runner, clock).tick()
    clock.advance(minutes=1)
    [execution] = await scheduler(store, runner, clock).tick()
    # As if the process died after submitting, before clearing the pending date.
    fired = await state_of(store)
    await store.save_trigger_state(replace(fired, pending=PendingDate(fired.date or clock.now)))

    assert await scheduler(store, runner, clock).tick() == []
    state = await state_of(store)
    assert state.pending is None
    assert state.execution_id == execution.id
    assert len(await all_executions(store)) == 1


async def test_a_date_pending_without_execution_is_started_once(
    store: Store, runner: Runner, clock: FakeClock
) -> None:
    await save(store, flow())
    await scheduler(store, runner, clock).tick()
    # As if the process died after saving the pending date, before submitting.
    state = await state_of(store)
    date = at("2024-01-01T10:01:00+00:00")
    next_date = at("2024-01-01T10:02:00+00:00")
    await store.save_trigger_state(replace(state, pending=PendingDate(date), next_date=next_date))
    clock.advance(minutes=1)

    restarted = scheduler(store, runner, clock)
    started = await restarted.tick()
    again = await restarted.tick()

    assert dates(started) == ["2024-01-01T10:01:00Z"]
    assert again == []
    assert len(await all_executions(store)) == 1


# -- bookkeeping ----------------------------------------------------------------------------------


async def test_states_of_removed_triggers_and_deleted_flows_are_forgotten(
    store: Store, runner: Runner, clock: FakeClock
) -> None:
    await save(store, flow())
    running = scheduler(store, runner, clock)
    await running.tick()
    assert await store.list_trigger_states() != []

    await store.save_flow(NAMESPACE, FLOW_ID, flow(), deleted=True)
    await running.tick()

    assert await store.list_trigger_states() == []


async def test_a_flow_that_no_longer_parses_keeps_its_state(
    store: Store, runner: Runner, clock: FakeClock
) -> None:
    await save(store, flow())
    running = scheduler(store, runner, clock)
    await running.tick()

    await save(store, flow() + "    cron: twice\n")
    clock.advance(minutes=2)
    assert await running.tick() == []
    assert await store.get_trigger_state(*KEY) is not None

    await save(store, flow())
    started = await running.tick()

    # While it did not parse, the trigger was not seen: its dates count as missed (ALL).
    assert dates(started) == ["2024-01-01T10:01:00Z", "2024-01-01T10:02:00Z"]


async def test_the_scheduler_runs_on_its_own_until_closed(
    store: Store, runner: Runner, clock: FakeClock
) -> None:
    await save(store, flow())
    running = scheduler(store, runner, clock, interval=0.01)
    await running.start()
    try:
        for _ in range(200):
            if await store.get_trigger_state(*KEY) is not None:
                break
            await asyncio.sleep(0.01)
    finally:
        await running.close()

    assert await store.get_trigger_state(*KEY) is not None
