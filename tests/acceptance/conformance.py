"""Run Kestra's core conformance kit (../shared/kestra-conformance) and check its expectations.

The kit is read from the shared folder at test time, never copied. Every case runs once, all
concurrently on one runner (many cases sleep or back off for seconds), and each pytest case
then checks its own recorded result.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from lanner.clock import parse_instant
from lanner.exceptions import LannerError
from lanner.executions import Execution, Level, LogEntry, TaskRun
from lanner.flow_parser import parse_flow
from lanner.flows import Flow
from lanner.inputs import resolve_inputs
from lanner.runner import Runner
from lanner.settings import Settings
from lanner.states import State
from lanner.store import Store
from lanner.tasks import lookup
from tests.acceptance.child_cases import check_child_of, run_child_case

KIT = Path(__file__).resolve().parents[3] / "shared" / "kestra-conformance"
JAVA_PREFIX = re.compile(r"^(?:[a-z]+\.)+[A-Z]\w*(?:Exception|Error): ")
# Pebble ends the message of an error raised in a function with ` (<template>:<line>)`.
PEBBLE_LOCATION = re.compile(r" \([^(]*?\{\{.*:\d+\)?$", re.DOTALL)

# Cases that need engine features outside what lanner runs today, with the reason.
SCENARIOS_SUPPORTED = {
    "single",
    "scheduled",
    "retry-new-execution",
    "concurrent",
    "until-paused",
    "child-execution",
    "backend-limit",
}
# What lanner says when a submission is over `max_message_bytes` (Kestra's wording).
TOO_BIG = "has exceeded the configured limit of 1048576"


def kit_available() -> bool:
    return (KIT / "expected.json").is_file()


def load_cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads((KIT / "expected.json").read_text())
    return cases


def case_id(case: Mapping[str, Any], position: int) -> str:
    inputs = case.get("inputs") or {}
    suffix = ",".join(f"{key}={value}" for key, value in sorted(inputs.items()))[:40]
    return f"{position:03d}-{case['flow']}" + (f"[{suffix}]" if suffix else "")


def flow_text(case: Mapping[str, Any]) -> str:
    return (KIT / "flows" / str(case["flow"])).read_text(encoding="utf-8")


def unsupported_types(text: str) -> list[str]:
    """Return the task types of a flow file that lanner does not know."""
    types = re.findall(r"^\s*-?\s*type:\s*[\"']?([\w.]+)", text, flags=re.MULTILINE)
    return sorted(
        {
            name
            for name in types
            if name.startswith("io.kestra")
            and lookup(name) is None
            and ".conditions." not in name
            and ".triggers." not in name
            and ".trigger." not in name
            and ".condition." not in name
        }
    )


def skip_reason(case: Mapping[str, Any]) -> str | None:
    """Say why a case cannot run on lanner yet, or None when it runs."""
    scenario = case.get("scenario")
    if scenario is None:
        return None
    missing = unsupported_types(flow_text(case))
    if missing:
        return f"task types not implemented yet: {', '.join(missing)}"
    if scenario not in SCENARIOS_SUPPORTED:
        return f"scenario '{scenario}' needs engine operations not implemented yet"
    return None


def uses_kv(case: Mapping[str, Any]) -> bool:
    """Say whether a case sets up the KV store before it runs."""
    return (case.get("setup") or {}).get("kv") is not None


def apply_kv_setup(store: Store, case: Mapping[str, Any]) -> None:
    """Leave in the case's namespaces exactly the KV entries its setup lists (none: cleared)."""
    entries = case["setup"]["kv"]
    namespaces = {case["namespace"], *(entry["namespace"] for entry in entries)}
    for namespace in namespaces:
        for entry in store.kv.list(namespace):
            store.kv.delete(namespace, entry.key)
    for entry in entries:
        store.kv.put(entry["namespace"], entry["key"], entry["value"])


@dataclass
class FollowUp:
    """What one `followUp` step (restart or replay, `times` over) produced."""

    created: list[Execution] = field(default_factory=list)
    """The execution each action returned."""
    finals: list[Execution] = field(default_factory=list)
    """That execution once it ended, per action."""
    error: str | None = None


@dataclass
class Outcome:
    """What running one case produced."""

    execution: Execution | None = None
    logs: list[LogEntry] = field(default_factory=list)
    error: str | None = None
    flow: Flow | None = None
    all_executions: list[Execution] = field(default_factory=list)
    second: Execution | None = None
    paused: Execution | None = None
    follow_ups: list[FollowUp] = field(default_factory=list)
    root: Execution | None = None
    """For a `child-execution` case: the root execution that started the child."""


def setup_environment(cases: list[dict[str, Any]]) -> dict[str, Any]:
    """Export the env vars and secrets the cases need; return the globals they need."""
    globals_: dict[str, Any] = {}
    for case in cases:
        setup = case.get("setup") or {}
        for key, value in (setup.get("env") or {}).items():
            os.environ[key] = str(value)
        for key, value in (setup.get("secrets") or {}).items():
            encoded = base64.b64encode(str(value).encode()).decode()
            os.environ[f"SECRET_{key.upper()}"] = encoded
        globals_.update(setup.get("globals") or {})
    return globals_


def build_inputs(case: Mapping[str, Any], flow: Flow) -> tuple[dict[str, Any], bool]:
    """Return the inputs to submit and whether they go through validation."""
    inputs: dict[str, Any] = dict(case.get("inputs") or {})
    for key, generated in (case.get("inputsGenerated") or {}).items():
        inputs[key] = generated["repeat"] * generated["count"]
    mode = case.get("inputMode")
    if mode == "validated":
        return inputs, True
    # Unvalidated maps still get the defaults of the inputs they lack: Kestra adds them to the
    # `inputs` variable when it renders.
    with_defaults = [decl for decl in flow.inputs or () if decl.defaults is not None]
    defaults = resolve_inputs(with_defaults, {}, render_typed=lambda text, variables: text)
    if mode == "raw":
        typed = case.get("inputsTyped") or {}
        return {**defaults, **inputs, **typed}, False
    return {**defaults, **inputs}, False


async def run_case(runner: Runner, store: Store, case: Mapping[str, Any]) -> Outcome:
    outcome = Outcome()
    try:
        text = flow_text(case)
        flow = parse_flow(text, case["flow"])
        outcome.flow = flow
        if case["scenario"] == "child-execution":
            outcome.root, outcome.execution = await run_child_case(runner, store, case, text)
            outcome.logs = await store.get_logs(outcome.execution.id)
            return outcome
        record = await store.save_flow(flow.namespace, flow.id, text)
        inputs, validate = build_inputs(case, flow)
        scheduled = None
        if case["scenario"] == "scheduled":
            scheduled = datetime.now(UTC) + timedelta(seconds=1)
        execution = await runner.submit(
            flow, record.revision, inputs, validate_inputs=validate, schedule_date=scheduled
        )
        if case["scenario"] == "until-paused":
            outcome.paused = await _until_state(store, execution.id, State.PAUSED)
        if case["scenario"] == "concurrent":
            await _until_running(store, execution.id)
            second = await runner.submit(flow, record.revision, inputs, validate_inputs=validate)
            outcome.second = await runner.wait(second.id, timeout=60)
        outcome.execution = await runner.wait(execution.id, timeout=60)
        outcome.logs = await store.get_logs(execution.id)
        for step in case.get("followUp") or ():
            outcome.follow_ups.append(await _follow_up(runner, outcome.execution, step))
        if case["scenario"] == "retry-new-execution":
            outcome.all_executions = await _whole_chain(runner, store, flow)
    except (LannerError, TimeoutError) as exc:
        outcome.error = f"{type(exc).__name__}: {exc}"
    return outcome


async def _follow_up(runner: Runner, original: Execution, step: Mapping[str, Any]) -> FollowUp:
    """Restart or replay (from `fromTaskId`) an ended execution, `times` over, to each end."""
    result = FollowUp()
    current = original
    try:
        for _ in range(step.get("times") or 1):
            if step["action"] == "restart":
                created = await runner.restart(current.id)
            else:
                created = await runner.replay(current.id, _replay_from(current, step))
            result.created.append(created)
            current = await runner.wait(created.id, timeout=60)
            result.finals.append(current)
    except (LannerError, TimeoutError) as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    return result


def _replay_from(execution: Execution, step: Mapping[str, Any]) -> str | None:
    """Return the id of the task run a replay step starts from (None: the beginning)."""
    task_id = step.get("fromTaskId")
    if task_id is None:
        return None
    run = _first(list(execution.task_runs), task_id)
    if run is None:
        raise LannerError(f"no task run of {task_id} to replay from")
    return run.id


async def _until_state(store: Store, execution_id: str, state: State) -> Execution:
    """Poll the store until the execution is in `state`; return it as it was then."""
    for _ in range(3000):
        stored = await store.get_execution(execution_id)
        if stored is not None and stored.current is state:
            return stored
        await asyncio.sleep(0.005)
    raise TimeoutError(f"execution {execution_id} never reached {state.value}")


async def _until_running(store: Store, execution_id: str) -> None:
    for _ in range(600):
        stored = await store.get_execution(execution_id)
        if stored is not None and stored.current is not State.CREATED:
            return
        await asyncio.sleep(0.01)
    raise TimeoutError(f"execution {execution_id} never started")


async def _whole_chain(runner: Runner, store: Store, flow: Flow) -> list[Execution]:
    """Wait until every execution of the flow has ended; return them all."""
    for _ in range(600):
        page = await store.search_executions(namespace=flow.namespace, flow_id=flow.id, size=100)
        if all(item.current.is_terminated() for item in page.results):
            return page.results
        await asyncio.sleep(0.1)
    raise TimeoutError(f"executions of {flow.id} did not all end")


async def run_all(cases: list[dict[str, Any]], home: Path, store: Store) -> dict[int, Outcome]:
    globals_ = setup_environment(cases)
    settings = Settings(
        home=home,
        database_url=f"sqlite:///{home / 'lanner.db'}",
        env_prefix="KESTRA_",
        globals=globals_,
        # Kestra's JDBC tests turn its queue's message protection on at 1 MiB.
        max_message_bytes=1024 * 1024,
    )
    results: dict[int, Outcome] = {}
    async with Runner(settings, store) as runner:
        runnable = [
            (position, case)
            for position, case in enumerate(cases)
            if case.get("scenario") is not None and skip_reason(case) is None
        ]
        together = [(position, case) for position, case in runnable if not uses_kv(case)]
        outcomes = await asyncio.gather(*(run_case(runner, store, case) for _, case in together))
        for (position, _), outcome in zip(together, outcomes, strict=True):
            results[position] = outcome
        # Cases may need opposite KV contents in one namespace: each runs alone after its setup.
        for position, case in runnable:
            if uses_kv(case):
                apply_kv_setup(store, case)
                results[position] = await run_case(runner, store, case)
    return results


# -- checks ----------------------------------------------------------------------------------------


def check(case: Mapping[str, Any], outcome: Outcome) -> list[str]:
    """Return every way the outcome differs from the case's expectations."""
    if case.get("scenario") == "backend-limit" and case.get("state") is None:
        # No execution: the submission itself must be refused as too big.
        if outcome.error is not None and TOO_BIG in outcome.error:
            return []
        ran = outcome.execution.current.value if outcome.execution else None
        return [f"expected the submission to be refused as too big, got {outcome.error or ran}"]
    if outcome.error is not None or outcome.execution is None:
        return [f"the run failed: {outcome.error}"]
    execution = outcome.execution
    runs = list(execution.task_runs)
    problems: list[str] = []
    expect = case.get
    count = expect("taskRunCount")
    if count is not None and len(runs) != count:
        problems.append(f"taskRunCount: expected {count}, got {len(runs)}")
    minimum_count = expect("taskRunCountMin")
    if minimum_count is not None and len(runs) < minimum_count:
        problems.append(f"taskRunCountMin: expected >= {minimum_count}, got {len(runs)}")
    state = expect("state")
    if state is not None and execution.current.value != state:
        problems.append(f"state: expected {state}, got {execution.current.value}")
    problems.extend(_check_per_task(case, runs))
    problems.extend(_check_by_index(expect("taskRunsByIndex") or [], runs))
    problems.extend(_check_outputs(expect("outputs") or [], execution))
    problems.extend(_check_logs(expect("logs") or [], runs, outcome.logs))
    for item in expect("logCounts") or ():
        minimum = Level.parse(item["minLevel"])
        got = sum(1 for entry in outcome.logs if entry.level >= minimum)
        if got != item["count"]:
            problems.append(f"logCounts[{item['minLevel']}]: expected {item['count']}, got {got}")
    problems.extend(_check_execution_outputs(case, execution))
    problems.extend(_check_second(case, outcome))
    problems.extend(_check_paused(case, outcome))
    problems.extend(_check_follow_ups(case, outcome))
    expected_states = case.get("executionStates")
    if expected_states is not None:
        got_states = sorted(item.current.value for item in outcome.all_executions)
        if got_states != sorted(expected_states):
            problems.append(
                f"executionStates: expected {sorted(expected_states)}, got {got_states}"
            )
    if outcome.root is not None:
        problems.extend(check_child_of(case, execution, outcome.root))
    for label in expect("labels") or ():
        if execution.labels_map().get(label["key"]) != label["value"]:
            problems.append(f"labels: missing {label['key']}={label['value']}")
    return problems


def _check_per_task(case: Mapping[str, Any], runs: list[TaskRun]) -> Iterator[str]:
    for task_id, state in (case.get("taskStates") or {}).items():
        run = _first(runs, task_id)
        got_state = run.current.value if run else None
        if got_state != state:
            yield f"taskStates[{task_id}]: expected {state}, got {got_state}"
    for task_id, count in (case.get("taskRunCounts") or {}).items():
        got_count = sum(1 for run in runs if run.task_id == task_id)
        if got_count != count:
            yield f"taskRunCounts[{task_id}]: expected {count}, got {got_count}"
    for task_id, count in (case.get("taskAttempts") or {}).items():
        run = _first(runs, task_id)
        attempts = len(run.attempts) if run else None
        if attempts != count:
            yield f"taskAttempts[{task_id}]: expected {count}, got {attempts}"


def _check_paused(case: Mapping[str, Any], outcome: Outcome) -> Iterator[str]:
    """Check an `until-paused` case at the moment its execution first paused."""
    expected = case.get("paused")
    if not expected:
        return
    paused = outcome.paused
    if paused is None:
        yield "paused: the execution never paused"
        return
    if paused.current.value != expected["state"]:
        yield f"paused.state: expected {expected['state']}, got {paused.current.value}"
    count = expected.get("taskRunCount")
    if count is not None and len(paused.task_runs) != count:
        yield f"paused.taskRunCount: expected {count}, got {len(paused.task_runs)}"


def _check_second(case: Mapping[str, Any], outcome: Outcome) -> Iterator[str]:
    """Check the second execution of a `concurrent` case."""
    expected = case.get("concurrent")
    if not expected:
        return
    second = outcome.second
    if second is None:
        yield "concurrent: the second execution did not run"
        return
    if second.current.value != expected["state"]:
        yield f"concurrent.state: expected {expected['state']}, got {second.current.value}"
    prefix = expected.get("stateHistoryPrefix")
    if prefix:
        got = [history.state.value for history in second.state.histories][: len(prefix)]
        if got != prefix:
            yield f"concurrent.stateHistoryPrefix: expected {prefix}, got {got}"


def _check_follow_ups(case: Mapping[str, Any], outcome: Outcome) -> Iterator[str]:
    """Check what each restart or replay returned (`onCreate`) and how it ended (`final`)."""
    assert outcome.execution is not None
    for position, step in enumerate(case.get("followUp") or ()):
        where = f"followUp[{position}:{step['action']}]"
        done = outcome.follow_ups[position] if position < len(outcome.follow_ups) else None
        if done is None or done.error is not None or not done.finals:
            yield f"{where}: did not run: {done.error if done else 'no outcome'}"
            continue
        expect = step.get("expect") or {}
        each = expect.get("stateAfterEachRestart")
        for index, final in enumerate(done.finals if each else ()):
            if final.current.value != each:
                yield f"{where}[{index}].state: expected {each}, got {final.current.value}"
        for key, execution in (("onCreate", done.created[0]), ("final", done.finals[-1])):
            if key in expect:
                yield from _check_snapshot(
                    f"{where}.{key}", expect[key], execution, outcome.execution
                )


def _check_snapshot(
    where: str, expect: Mapping[str, Any], execution: Execution, original: Execution
) -> Iterator[str]:
    runs = list(execution.task_runs)
    facts = {
        "state": execution.current.value,
        "taskRunCount": len(runs),
        "stateHistoryLength": len(execution.state.histories),
        "lastTaskRunState": runs[-1].current.value if runs else None,
        "sameExecutionId": execution.id == original.id,
        "newExecutionId": execution.id != original.id,
        "parentIdIsOriginal": execution.parent_id == original.id,
    }
    for key, got in facts.items():
        if expect.get(key) is not None and expect[key] != got:
            yield f"{where}.{key}: expected {expect[key]}, got {got}"
    everyone = expect.get("allTaskRunStates")
    if everyone is not None and any(run.current.value != everyone for run in runs):
        got_states = [run.current.value for run in runs]
        yield f"{where}.allTaskRunStates: expected {everyone}, got {got_states}"
    problems = [
        *_check_per_task(expect, runs),
        *_check_by_index(expect.get("taskRunsByIndex") or [], runs),
    ]
    yield from (f"{where}.{problem}" for problem in problems)


def _first(runs: list[TaskRun], task_id: str) -> TaskRun | None:
    return next((run for run in runs if run.task_id == task_id), None)


def _by_index(runs: list[TaskRun], index: int, task_id: str, used: set[str]) -> TaskRun | None:
    """Pick the task run at `index`, or else the next unused one with that task id."""
    if index < len(runs) and runs[index].task_id == task_id and runs[index].id not in used:
        return runs[index]
    return next((run for run in runs if run.task_id == task_id and run.id not in used), None)


def _check_by_index(items: list[dict[str, Any]], runs: list[TaskRun]) -> Iterator[str]:
    used: set[str] = set()
    for item in items:
        run = _by_index(runs, item["index"], item["taskId"], used)
        where = f"taskRunsByIndex[{item['index']}:{item['taskId']}]"
        if run is None:
            yield f"{where}: no such task run"
            continue
        used.add(run.id)
        if "state" in item and run.current.value != item["state"]:
            yield f"{where}.state: expected {item['state']}, got {run.current.value}"
        if "attempts" in item:
            got = len(run.attempts) or None
            if got != item["attempts"]:
                yield f"{where}.attempts: expected {item['attempts']}, got {got}"
        if "attemptsMin" in item and len(run.attempts) < item["attemptsMin"]:
            yield f"{where}.attempts: expected >= {item['attemptsMin']}, got {len(run.attempts)}"
        for state, count in (item.get("historyCounts") or {}).items():
            got = sum(1 for history in run.state.histories if history.state.value == state)
            if got != count:
                yield f"{where}.history[{state}]: expected {count}, got {got}"


def _values_path(execution: Execution, run: TaskRun) -> list[str]:
    by_id = {item.id: item for item in execution.task_runs}
    values: list[str] = []
    parent_id = run.parent_task_run_id
    while parent_id is not None and parent_id in by_id:
        parent = by_id[parent_id]
        if parent.value is not None:
            values.append(parent.value)
        parent_id = parent.parent_task_run_id
    values.reverse()
    if run.value is not None:
        values.append(run.value)
    return values


def _dig(value: Any, path: str) -> Any:
    for key in path.split("."):
        if not isinstance(value, Mapping) or key not in value:
            return None
        value = value[key]
    return value


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, separators=(",", ":")) if value is not None else "null"


def _check_outputs(items: list[dict[str, Any]], execution: Execution) -> Iterator[str]:
    runs = list(execution.task_runs)
    for item in items:
        task_id = item["taskId"]
        if item.get("value") is not None:
            run = next(
                (
                    r
                    for r in runs
                    if r.task_id == task_id and _values_path(execution, r) == item["value"]
                ),
                None,
            )
        elif item.get("index") is not None:
            run = _by_index(runs, item["index"], task_id, set())
        else:
            run = _first(runs, task_id)
        where = f"outputs[{task_id}{item.get('value') or ''}].{item['path']}"
        if run is None:
            yield f"{where}: no such task run"
            continue
        value = _dig(run.outputs or {}, item["path"])
        yield from _compare(where, value, item, execution)


def _compare(
    where: str, value: Any, item: Mapping[str, Any], execution: Execution
) -> Iterator[str]:
    text = _as_text(value)
    if "equals" in item and text != _as_text(item["equals"]):
        yield f"{where}: expected {item['equals']!r}, got {text!r}"
    if "contains" in item and item["contains"] not in text:
        yield f"{where}: expected to contain {item['contains']!r}, got {text!r}"
    if "matches" in item and not re.fullmatch(item["matches"], text):
        yield f"{where}: expected to match {item['matches']!r}, got {text!r}"
    if "withinSecondsOfNow" in item:
        try:
            moment = parse_instant(text)
        except ValueError:
            yield f"{where}: expected a date-time, got {text!r}"
        else:
            age = abs((datetime.now(UTC) - moment).total_seconds())
            if age > item["withinSecondsOfNow"] + 60:
                yield f"{where}: {text} is not within {item['withinSecondsOfNow']}s of now"
    if "containsOutputOf" in item:
        ref = item["containsOutputOf"]
        other = next((r for r in execution.task_runs if r.task_id == ref["taskId"]), None)
        expected = (ref.get("prefix") or "") + _as_text(
            _dig(other.outputs or {}, ref["path"]) if other else None
        )
        if expected not in text:
            yield f"{where}: expected to contain {expected!r}, got {text!r}"


def _expected_text(text: str) -> str:
    """Drop a Java exception class prefix: lanner reports the same message without it.

    An error a Pebble function raises also loses Pebble's location suffix: lanner reports the
    function's message alone, and the task run says where it happened.
    """
    message = JAVA_PREFIX.sub("", text)
    if text.startswith("io.pebbletemplates."):
        message = PEBBLE_LOCATION.sub("", message)
    return message


def _check_logs(
    items: list[dict[str, Any]], runs: list[TaskRun], logs: list[LogEntry]
) -> Iterator[str]:
    for item in items:
        candidates = logs
        if item.get("index") is not None and item.get("taskId"):
            run = _by_index(runs, item["index"], item["taskId"], set())
            candidates = [
                entry for entry in logs if run is not None and entry.task_run_id == run.id
            ]
        elif item.get("taskId"):
            candidates = [entry for entry in logs if entry.task_id == item["taskId"]]
        if item.get("level"):
            candidates = [entry for entry in candidates if entry.level.name == item["level"]]
        where = f"logs[{item.get('taskId') or '*'}]"
        if item.get("absent"):
            if candidates:
                yield f"{where}: expected no log, got {[entry.message for entry in candidates]}"
            continue
        if "equals" in item:
            wanted = _expected_text(item["equals"])
            if not any(entry.message == wanted for entry in candidates):
                yield f"{where}: no log equal to {wanted!r} in {[e.message for e in candidates]}"
        if "contains" in item:
            wanted = _expected_text(item["contains"])
            if not any(wanted in entry.message for entry in candidates):
                yield f"{where}: no log containing {wanted!r} in {[e.message for e in candidates]}"


def _check_execution_outputs(case: Mapping[str, Any], execution: Execution) -> Iterator[str]:
    outputs = execution.outputs
    if case.get("executionOutputsNull") and outputs:
        yield f"executionOutputs: expected none, got {outputs}"
    if case.get("executionOutputsSize") is not None:
        size = len(outputs or {})
        if size != case["executionOutputsSize"]:
            yield f"executionOutputsSize: expected {case['executionOutputsSize']}, got {size}"
    for item in case.get("executionOutputs") or ():
        value = _dig(outputs or {}, item["path"])
        if "equals" in item and _as_text(value) != _as_text(item["equals"]):
            yield f"executionOutputs.{item['path']}: expected {item['equals']!r}, got {value!r}"
        if "hasItems" in item:
            missing = [wanted for wanted in item["hasItems"] if wanted not in (value or [])]
            if missing:
                yield f"executionOutputs.{item['path']}: missing items {missing} in {value!r}"
