"""Executions and task runs: round trips, partial saves, search and deletion, on every backend."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from lanner.exceptions import StoreError
from lanner.executions import Label
from lanner.metrics import MetricEntry, MetricType
from lanner.states import State
from lanner.store import SqliteStore, Store
from tests.unit.store import records
from tests.unit.store.records import T0


async def test_every_field_round_trips(store: Store) -> None:
    original = records.full_execution()

    await store.save_execution(original)

    assert await store.get_execution(original.id) == original


async def test_task_runs_come_back_in_creation_order_not_id_order(store: Store) -> None:
    base = records.execution()
    runs = tuple(records.task_run(base, run_id) for run_id in ("zz", "aa", "mm", "bb"))

    await store.save_execution(replace(base, task_runs=runs))

    stored = await store.get_execution(base.id)
    assert stored is not None
    assert [run.id for run in stored.task_runs] == ["zz", "aa", "mm", "bb"]


async def test_unknown_execution(store: Store) -> None:
    assert await store.get_execution("missing") is None


async def test_saving_changed_task_runs_leaves_the_others(store: Store) -> None:
    original = records.execution(task_runs=3)
    await store.save_execution(original)
    changed = original.task_runs[1].with_state(State.RUNNING, T0 + timedelta(seconds=9))
    updated = original.with_task_run(changed).with_state(State.FAILED, T0 + timedelta(hours=1))

    await store.save_execution(updated, [changed])

    assert await store.get_execution(original.id) == updated


async def test_only_the_given_task_runs_are_written(store: Store) -> None:
    original = records.execution(task_runs=2)
    await store.save_execution(original)
    first, second = original.task_runs
    # The execution object says first is RUNNING, but only second is saved.
    running = original.with_task_run(first.with_state(State.RUNNING))

    await store.save_execution(running, [second])

    stored = await store.get_execution(original.id)
    assert stored is not None
    assert stored.task_runs == (first, second)


async def test_new_task_runs_are_appended(store: Store) -> None:
    original = records.execution(task_runs=2)
    await store.save_execution(original)
    added = records.task_run(original, "aaa-new", "later")
    grown = original.with_task_run(added)

    await store.save_execution(grown, [added])

    assert await store.get_execution(original.id) == grown


async def test_a_changed_task_run_keeps_its_place(store: Store) -> None:
    original = records.execution(task_runs=3)
    await store.save_execution(original)
    changed = original.task_runs[0].with_state(State.SUCCESS)
    added = records.task_run(original, "new")
    later = original.with_task_run(changed).with_task_run(added)

    await store.save_execution(later, [added, changed])

    assert await store.get_execution(original.id) == later


@pytest.mark.parametrize("due_at", [None, 0.0, 1767323045.123456], ids=["none", "zero", "micros"])
async def test_due_at_round_trips(store: Store, due_at: float | None) -> None:
    base = records.execution(task_runs=1)
    run = replace(base.task_runs[0], due_at=due_at)

    await store.save_execution(base.with_task_run(run), [run])

    stored = await store.get_execution(base.id)
    assert stored is not None
    assert stored.task_runs[0].due_at == due_at


async def test_engine_bookkeeping_round_trips_outside_kestras_json(store: Store) -> None:
    base = records.execution(task_runs=1)
    loop = replace(base.task_runs[0], loop_values=("a", '{"b":1}'))
    decided = replace(base.with_task_run(loop), final_state=State.RETRIED, reported_slas=("slow",))

    await store.save_execution(decided)

    stored = await store.get_execution(base.id)
    assert stored is not None
    assert stored.final_state is State.RETRIED
    assert stored.reported_slas == ("slow",)
    assert stored.task_runs[0].loop_values == ("a", '{"b":1}')
    # The API shows Kestra's JSON: the bookkeeping is not part of it.
    assert "finalState" not in str(stored.to_json())
    assert "loopValues" not in str(stored.task_runs[0].to_json())


async def test_due_at_can_be_cleared(store: Store) -> None:
    base = records.execution(task_runs=1)
    waiting = replace(base.task_runs[0], due_at=1767323045.5)
    await store.save_execution(base.with_task_run(waiting))
    due = replace(waiting, due_at=None)

    await store.save_execution(base.with_task_run(due), [due])

    stored = await store.get_execution(base.id)
    assert stored is not None
    assert stored.task_runs[0].due_at is None


async def test_saving_everything_replaces_the_task_runs(store: Store) -> None:
    original = records.execution(task_runs=3)
    await store.save_execution(original)
    fewer = replace(original, task_runs=original.task_runs[::2])

    await store.save_execution(fewer)

    assert await store.get_execution(original.id) == fewer


async def test_saving_twice_keeps_one_execution(store: Store) -> None:
    original = records.execution(task_runs=1)

    await store.save_execution(original)
    await store.save_execution(original.with_state(State.SUCCESS))

    found = await store.search_executions()
    assert found.total == 1
    assert found.results[0].current is State.SUCCESS


async def test_an_unstorable_value_stores_nothing(store: Store) -> None:
    original = records.execution(task_runs=1)
    broken = replace(original.task_runs[0], outputs={"not json": object()})

    with pytest.raises(StoreError, match="task run"):
        await store.save_execution(original.with_task_run(broken))

    assert await store.get_execution(original.id) is None


# -- search ---------------------------------------------------------------------------------

HOUR = timedelta(hours=1)
DATASET = [
    records.execution("e0", start=T0, state=State.SUCCESS, labels={"team": "a"}),
    records.execution("e1", start=T0 + HOUR, state=State.FAILED, labels={"team": "b"}),
    records.execution(
        "e2", start=T0 + 2 * HOUR, namespace="company.team.sub", labels={"team": "a", "env": "p"}
    ),
    records.execution("e3", start=T0 + 3 * HOUR, namespace="company", flow_id="other"),
    records.execution("e4", start=T0 + 4 * HOUR, namespace="companyx", state=State.CREATED),
    records.execution("e5", start=T0 + 5 * HOUR, flow_id="other", state=State.PAUSED),
]


async def _save_dataset(store: Store) -> None:
    # Saved out of start order: the order of results must come from the start dates.
    for item in (DATASET[3], DATASET[0], DATASET[5], DATASET[1], DATASET[4], DATASET[2]):
        await store.save_execution(item)


SEARCHES: list[tuple[str, dict[str, object], list[str]]] = [
    ("everything", {}, ["e5", "e4", "e3", "e2", "e1", "e0"]),
    ("namespace-and-children", {"namespace": "company"}, ["e5", "e3", "e2", "e1", "e0"]),
    ("sub-namespace", {"namespace": "company.team"}, ["e5", "e2", "e1", "e0"]),
    ("sibling-namespace", {"namespace": "companyx"}, ["e4"]),
    ("flow", {"flow_id": "other"}, ["e5", "e3"]),
    ("namespace-and-flow", {"namespace": "company.team", "flow_id": "other"}, ["e5"]),
    ("one-state", {"states": [State.FAILED]}, ["e1"]),
    ("states", {"states": [State.SUCCESS, State.PAUSED]}, ["e5", "e0"]),
    ("no-state", {"states": []}, []),
    ("label", {"labels": {"team": "a"}}, ["e2", "e0"]),
    ("labels-all-match", {"labels": {"team": "a", "env": "p"}}, ["e2"]),
    ("label-value-differs", {"labels": {"team": "c"}}, []),
    ("start-after-inclusive", {"start_after": T0 + 4 * HOUR}, ["e5", "e4"]),
    ("start-before-inclusive", {"start_before": T0 + HOUR}, ["e1", "e0"]),
    (
        "start-between",
        {"start_after": T0 + HOUR, "start_before": T0 + 3 * HOUR - timedelta(microseconds=1)},
        ["e2", "e1"],
    ),
    ("oldest-first", {"sort_desc": False}, ["e0", "e1", "e2", "e3", "e4", "e5"]),
]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [(filters, expected) for _, filters, expected in SEARCHES],
    ids=[name for name, _, _ in SEARCHES],
)
async def test_search_executions_filters(
    store: Store, filters: dict[str, object], expected: list[str]
) -> None:
    await _save_dataset(store)

    found = await store.search_executions(size=100, **filters)  # type: ignore[arg-type]

    assert records.ids(found.results) == expected
    assert found.total == len(expected)


async def test_search_executions_pages(store: Store) -> None:
    await _save_dataset(store)

    first = await store.search_executions(size=4)
    second = await store.search_executions(page=2, size=4)
    beyond = await store.search_executions(page=3, size=4)

    assert (records.ids(first.results), first.total) == (["e5", "e4", "e3", "e2"], 6)
    assert (records.ids(second.results), second.total) == (["e1", "e0"], 6)
    assert (beyond.results, beyond.total) == ([], 6)


async def test_search_executions_breaks_ties_by_insertion(store: Store) -> None:
    for execution_id in ("b", "c", "a", "b"):
        await store.save_execution(records.execution(execution_id))

    newest = await store.search_executions()
    oldest = await store.search_executions(sort_desc=False)

    assert records.ids(newest.results) == ["a", "c", "b"]
    assert records.ids(oldest.results) == ["b", "c", "a"]


async def test_search_executions_returns_whole_executions(store: Store) -> None:
    full = records.full_execution()
    await store.save_execution(full)
    await store.save_execution(records.execution("other", task_runs=2))

    found = await store.search_executions(labels={"team": "data"})

    assert found.results == [full]


async def test_search_executions_follows_changed_labels(store: Store) -> None:
    original = records.execution(labels={"team": "a"})
    await store.save_execution(original)

    relabelled = replace(original, labels=(Label("team", "b"), Label("env", "prod")))
    await store.save_execution(relabelled)

    assert (await store.search_executions(labels={"team": "a"})).total == 0
    assert records.ids((await store.search_executions(labels={"team": "b"})).results) == [
        original.id
    ]
    assert (await store.search_executions(labels={"env": "prod"})).total == 1


@pytest.mark.parametrize(("page", "size"), [(0, 10), (1, 0)])
async def test_search_executions_refuses_bad_pages(store: Store, page: int, size: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        await store.search_executions(page=page, size=size)


async def test_executions_in_states(store: Store) -> None:
    await _save_dataset(store)
    running = records.execution("r", start=T0 - HOUR, task_runs=2)
    await store.save_execution(running)

    found = await store.executions_in_states([State.RUNNING, State.CREATED])

    assert records.ids(found) == ["r", "e2", "e3", "e4"]
    assert found[0] == running
    assert await store.executions_in_states([State.KILLED]) == []


async def test_execution_states_are_those_of_the_executions_that_exist(store: Store) -> None:
    await store.save_execution(records.execution("created", state=State.CREATED))
    await store.save_execution(records.execution("running", task_runs=2))
    ended = records.execution("ended", state=State.RUNNING)
    await store.save_execution(ended)
    await store.save_execution(ended.with_state(State.SUCCESS, T0 + HOUR), [])

    found = await store.execution_states(["running", "unknown", "created", "ended"])

    assert found == {"created": State.CREATED, "running": State.RUNNING, "ended": State.SUCCESS}
    assert await store.execution_states([]) == {}


# -- deletion -------------------------------------------------------------------------------


async def test_delete_removes_the_execution_its_task_runs_and_logs(store: Store) -> None:
    doomed = records.execution("doomed", task_runs=3)
    kept = records.execution("kept", task_runs=1)
    await store.save_execution(doomed)
    await store.save_execution(kept)
    await store.append_logs([records.log(execution_id="doomed"), records.log(execution_id="kept")])

    assert await store.delete_execution("doomed") is True

    assert await store.get_execution("doomed") is None
    assert await store.get_logs("doomed") == []
    assert len(await store.get_logs("kept")) == 1
    assert await store.get_execution("kept") == kept
    # Saved again with no task runs given: the old ones must be gone, not resurface.
    await store.save_execution(replace(doomed, task_runs=()), [])
    again = await store.get_execution("doomed")
    assert again is not None
    assert again.task_runs == ()


async def test_delete_can_keep_the_logs_and_the_metrics(store: Store) -> None:
    for execution_id in ("logs-kept", "metrics-kept"):
        await store.save_execution(records.execution(execution_id))
        await store.append_logs([records.log(execution_id=execution_id)])
        await store.append_metrics(
            [MetricEntry("ns", "f", execution_id, "t", "r", MetricType.COUNTER, "n", 1.0, T0, {})]
        )

    assert await store.delete_execution("logs-kept", keep_logs=True) is True
    assert await store.delete_execution("metrics-kept", keep_metrics=True) is True

    assert await store.get_execution("logs-kept") is None
    assert len(await store.get_logs("logs-kept")) == 1
    assert (await store.get_metrics("logs-kept")).total == 0
    assert await store.get_logs("metrics-kept") == []
    assert (await store.get_metrics("metrics-kept")).total == 1


async def test_delete_unknown_execution(store: Store) -> None:
    assert await store.delete_execution("missing") is False


async def test_a_stamp_names_the_last_write_of_an_execution(store: Store) -> None:
    original = records.execution(task_runs=2)
    assert await store.execution_stamp(original.id) is None

    first = await store.save_execution(original)
    if isinstance(store, SqliteStore):
        # One process drives a SQLite database: it keeps no stamps, so nothing is cached.
        assert first is None
        assert await store.execution_stamp(original.id) is None
        return
    assert first is not None
    assert await store.execution_stamp(original.id) == first

    changed = original.task_runs[0].with_state(State.RUNNING)
    second = await store.save_execution(original.with_task_run(changed), [changed])
    labelled = await store.save_execution(replace(original, labels=(Label("k", "v"),)), [])

    assert len({first, second, labelled}) == 3
    assert await store.execution_stamp(original.id) == labelled
    await store.delete_execution(original.id)
    assert await store.execution_stamp(original.id) is None


async def test_a_step_saves_its_log_lines_metrics_and_task_runs(store: Store) -> None:
    original = records.execution(task_runs=2)
    await store.save_execution(original)
    changed = original.task_runs[1].with_state(State.RUNNING)
    stepped = original.with_task_run(changed)
    line = records.log("step", execution_id=original.id)
    measured = MetricEntry(
        "company.team", "hello", original.id, "task", changed.id, MetricType.COUNTER, "n", 1.0, T0
    )

    stamp = await store.save_step(stepped, [changed], [line], [measured])

    assert await store.get_execution(original.id) == stepped
    assert [entry.message for entry in await store.get_logs(original.id)] == ["step"]
    assert (await store.get_metrics(original.id)).results == [measured]
    assert stamp == await store.execution_stamp(original.id)
