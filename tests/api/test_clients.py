"""Kestra's own Python clients from PyPI, unchanged, against a real lanner server.

The flow is the seed page's POST flow with its `uri` pointed at a local echo server.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kestra import Flow as KestraFlow
from kestrapy import KestraClient

from tests.api.conftest import LiveServer
from tests.httpservers import MockApp, Server, serve

SEED_POST = Path(__file__).resolve().parents[3] / "shared" / "seed" / "flows_http_post.yml"

pytestmark = pytest.mark.skipif(
    not SEED_POST.is_file(), reason="the shared seed is not beside the repo"
)


@pytest.fixture
def echo() -> Iterator[tuple[MockApp, Server]]:
    app = MockApp()
    server = serve(app)
    yield app, server
    server.close()


def seed_post_flow(echo_url: str) -> str:
    lines = SEED_POST.read_text(encoding="utf-8").splitlines()
    return "\n".join(
        f"    uri: {echo_url}/api/users" if line.strip().startswith("uri:") else line
        for line in lines
    )


def test_kestrapy_creates_runs_reads_and_evaluates(
    live_server: LiveServer, echo: tuple[MockApp, Server]
) -> None:
    app, server = echo
    with KestraClient(host=live_server.url) as client:
        created = client.flows.create_flow(tenant="main", body=seed_post_flow(server.url))
        assert created.id == "http_post_request_example"
        assert created.namespace == "example"

        response = client.executions.create_execution(
            tenant="main",
            namespace="example",
            id="http_post_request_example",
            wait=True,
            inputs={"payload": {"name": "Alice", "job": "Engineer"}},
            labels=["team:data"],
        )
        execution_id = _field(response, "id")
        assert _state(response) == "SUCCESS"
        assert json.loads(app.last().body) == {"name": "Alice", "job": "Engineer"}

        execution = client.executions.execution(execution_id=execution_id, tenant="main")
        assert _state(execution) == "SUCCESS"
        labels = {(label.key, label.value) for label in execution.labels or []}
        assert ("team", "data") in labels

        logs = client.logs.list_logs_from_execution(execution_id=execution_id, tenant="main")
        messages = [entry.message for entry in logs]
        assert any('"name":"Alice"' in (message or "") for message in messages)
        text = client.logs.download_logs_from_execution(execution_id=execution_id, tenant="main")
        assert '"name":"Alice"' in text

        evaluated = client.executions.eval_expression(
            execution_id, "main", "{{ fromJson(outputs.send_data.body).name }}"
        )
        assert evaluated == {"result": "Alice"}
        missing = client.executions.eval_expression(execution_id, "main", "{{ nope }}")
        assert (
            "Unable to find `nope` used in the expression `{{ nope }}` at line 1"
            in (missing["error"])
        )


def test_kestra_flow_class_executes_waits_and_fetches_logs(
    live_server: LiveServer, echo: tuple[MockApp, Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, server = echo
    with KestraClient(host=live_server.url) as client:
        client.flows.create_flow(tenant="main", body=seed_post_flow(server.url))
    monkeypatch.setenv("KESTRA_HOSTNAME", live_server.url)
    monkeypatch.delenv("KESTRA_USER", raising=False)
    monkeypatch.delenv("KESTRA_API_TOKEN", raising=False)
    for tenant in (None, "main"):
        flow = KestraFlow(wait_for_completion=True, poll_interval=1, tenant=tenant)
        result = flow.execute(
            "example", "http_post_request_example", {"payload": '{"name": "Bob", "job": "QA"}'}
        )
        assert result.status == "SUCCESS"
        assert '"name":"Bob"' in result.log
        assert json.loads(app.last().body) == {"name": "Bob", "job": "QA"}


def _field(value: Any, name: str) -> Any:
    return value[name] if isinstance(value, dict) else getattr(value, name)


def _state(value: Any) -> str:
    state = _field(value, "state")
    current = state["current"] if isinstance(state, dict) else state.current
    return str(getattr(current, "value", current))
