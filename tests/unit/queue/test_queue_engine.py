"""The engine-less webserver refuses what an executor could not keep, before queueing it."""

from __future__ import annotations

from pathlib import Path

import pytest

from lanner.exceptions import MessageTooBigError
from lanner.flow_parser import parse_flow
from lanner.queue import MemoryQueue
from lanner.queue_engine import QueueEngine
from lanner.settings import Settings
from lanner.storage import LocalStorage
from lanner.store.sqlite import SqliteStore

FLOW = """id: big
namespace: company.team
inputs:
  - id: text
    type: STRING
tasks:
  - id: ret
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.text }}"
"""


async def test_an_execution_over_the_size_limit_is_refused_and_not_queued(tmp_path: Path) -> None:
    environ = {"LANNER_MAX_MESSAGE_BYTES": "4096"}
    settings = Settings.load(home=tmp_path, environ=environ)
    store = SqliteStore.open(tmp_path / "lanner.db")
    queue = MemoryQueue()
    engine = QueueEngine(settings, store, LocalStorage(tmp_path / "storage"), queue)
    try:
        flow = parse_flow(FLOW)
        small = await engine.submit(flow, 1, {"text": "short"})
        with pytest.raises(MessageTooBigError) as caught:
            await engine.submit(flow, 1, {"text": "a" * 5000})
        where = "Unable to start an execution of company.team.big: Message of size "
        assert str(caught.value).startswith(where)
        assert await queue.due_executions(10) == [small.id]
        assert (await store.search_executions(size=10)).total == 1
    finally:
        await engine.aclose()
        await queue.close()
        await store.close()
