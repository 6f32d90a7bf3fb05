"""Kestra's own Python clients against a real lanner server: executions, eval, kill, follow.

Skipped where the clients (PyPI `kestra`, `kestrapy`) are not installed.
"""

from __future__ import annotations

import asyncio
import io
import warnings
from types import ModuleType
from typing import Any

import pytest

from tests.api.conftest import LiveServer
from tests.api.test_execution_follow import save_for


def client_module(name: str) -> ModuleType:
    with warnings.catch_warnings():
        # kestrapy's generated models warn about a field name when imported.
        warnings.simplefilter("ignore")
        module: ModuleType = pytest.importorskip(name)
        return module


@pytest.fixture
def kestrapy_client(live_server: LiveServer) -> Any:
    kestrapy = client_module("kestrapy")
    asyncio.run(save_for(live_server.settings))
    return kestrapy.KestraClient(host=live_server.url, timeout=30)


def test_kestrapy_creates_waits_reads_and_evaluates(kestrapy_client: Any) -> None:
    executions = kestrapy_client.executions
    created = executions.create_execution(
        "main",
        "company.team",
        "hello",
        wait=True,
        labels=["env:test"],
        inputs={"name": "Py", "count": 2, "doc": ("notes.txt", b"from kestrapy")},
    )
    assert created.id
    assert str(created.state.current.value) == "SUCCESS"
    fetched = executions.execution(created.id, "main")
    assert fetched.flow_id == "hello"
    assert fetched.inputs["count"] == 2
    assert {(label.key, label.value) for label in fetched.labels} >= {("env", "test")}
    evaluated = executions.eval_expression(created.id, "main", "{{ inputs.name }}")
    assert evaluated == {"result": "Py"}
    uri = fetched.inputs["doc"]
    data = executions.download_file_from_execution(created.id, uri, "main")
    assert data == b"from kestrapy"
    events = list(executions.follow_execution(created.id, "main"))
    assert [event.id for event in events] == [created.id]


def test_kestrapy_kills_and_labels(kestrapy_client: Any) -> None:
    executions = kestrapy_client.executions
    started = executions.create_execution("main", "company.team", "long")
    killed = executions.kill_execution(started.id, "main")
    assert str(killed.state.current.value) in ("KILLING", "KILLED")
    ended = executions.create_execution("main", "company.team", "hello", wait=True)
    labelled = executions.set_labels_on_terminated_execution(
        ended.id, "main", [{"key": "reviewed", "value": "yes"}]
    )
    assert ("reviewed", "yes") in {(label.key, label.value) for label in labelled.labels}


def test_the_kestra_flow_helper_starts_an_execution(live_server: LiveServer) -> None:
    kestra = client_module("kestra")
    asyncio.run(save_for(live_server.settings))
    flow = kestra.Flow(wait_for_completion=False, tenant="main")
    flow.hostname = live_server.url
    started = flow.execute(
        "company.team", "hello", {"name": "Flow", "files": ("doc", io.BytesIO(b"x"))}
    )
    assert started.execution_id
    status = flow.check_status(started.execution_id).json()
    assert status["inputs"]["name"] == "Flow"
    assert status["inputs"]["doc"].endswith("/inputs/doc/doc")
