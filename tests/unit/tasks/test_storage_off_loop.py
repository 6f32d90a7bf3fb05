"""Storage calls made by async code: off the event loop on a remote storage, inline on a local one.

The remote storage here is a real fsspec file system with a slow link: an in-memory one whose
calls sleep as a round trip to a server would. Tasks run through a real Worker against a local
HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, BinaryIO

import pytest
from fsspec.implementations.memory import MemoryFileSystem

from lanner.engine_support import new_execution
from lanner.executions import Execution, LogEntry, TaskRun
from lanner.flow_parser import parse_flow
from lanner.flowrepo import FlowRepository
from lanner.flows import Flow
from lanner.httpclient import ClientPool
from lanner.inputs.coercion import Upload
from lanner.jobs import WorkerJob
from lanner.runner import Runner
from lanner.settings import Settings
from lanner.states import State
from lanner.storage import FsspecStorage, LocalStorage, Storage, run_storage
from lanner.store import open_store
from lanner.tasks.base import RunnableTask
from lanner.tasks.http_exchange import har_uri
from lanner.worker import Worker
from tests.httpservers import REQUEST, Server
from tests.integration.children.test_foreach_item import ECHO, LINES, parent

pytestmark = pytest.mark.timeout(60)

LATENCY = 0.2
"""Seconds each call of the slow file system waits, as a round trip would."""
CONCURRENT = 8


class SlowMemoryFileSystem(MemoryFileSystem):  # type: ignore[misc]
    """An in-memory fsspec file system whose opens, writes, lookups and removals take LATENCY.

    Each instance keeps its own files (MemoryFileSystem's are shared by the class), and is
    not cached by fsspec, so tests do not see each other's files.
    """

    cachable = False

    def __init__(self, latency: float = LATENCY) -> None:
        super().__init__()
        self.latency = latency
        self.store: dict[str, Any] = {}
        self.pseudo_dirs: list[str] = [""]
        self.threads: list[int] = []

    def _slow(self) -> None:
        self.threads.append(threading.get_ident())
        time.sleep(self.latency)

    def _open(self, path: str, mode: str = "rb", **kwargs: Any) -> Any:
        self._slow()
        return super()._open(path, mode, **kwargs)

    def pipe_file(self, path: str, value: bytes, **kwargs: Any) -> None:
        self._slow()
        super().pipe_file(path, value, **kwargs)

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        self._slow()
        info: dict[str, Any] = super().info(path, **kwargs)
        return info

    def rm(self, path: str, recursive: bool = False, maxdepth: int | None = None) -> None:
        self._slow()
        super().rm(path, recursive, maxdepth)


class ThreadNotingStorage(LocalStorage):
    """A local storage that notes the thread of each file it opens for writing."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.threads: list[int] = []

    def open_write(self, uri: str) -> AbstractContextManager[BinaryIO]:
        self.threads.append(threading.get_ident())
        return super().open_write(uri)


def slow_storage(latency: float = LATENCY) -> tuple[FsspecStorage, SlowMemoryFileSystem]:
    fs = SlowMemoryFileSystem(latency)
    return FsspecStorage(fs, "/lanner", "memory://lanner"), fs


def _discard(entry: LogEntry) -> None:
    pass


async def run_requests(
    storage: Storage, pool: ClientPool, home: Path, url: str, count: int
) -> tuple[list[dict[str, Any]], float]:
    """Run `count` Request tasks at once through a Worker; return their outputs and the
    seconds they took together."""
    flow = Flow.model_validate(
        {
            "id": "requests",
            "namespace": "tests.storage",
            "tasks": [{"id": "get", "type": REQUEST, "uri": f"{url}/hello"}],
        }
    )
    task = flow.tasks[0]
    assert isinstance(task, RunnableTask)
    execution = Execution.create(flow.namespace, flow.id, 1)
    settings = Settings.load(home=home, environ={})
    worker = Worker(settings, storage, _discard, lambda job: flow, http=pool)

    async def one(i: int) -> dict[str, Any]:
        run = TaskRun.create(execution, task.id, value=str(i))
        result = await worker.run(WorkerJob(execution, run, task))
        assert result.state is State.SUCCESS, result
        return dict(result.outputs or {})

    started = time.perf_counter()
    outputs = await asyncio.gather(*(one(i) for i in range(count)))
    return outputs, time.perf_counter() - started


async def test_har_files_of_concurrent_requests_are_written_off_the_event_loop(
    tmp_path: Path, pool: ClientPool, mock_server: Server
) -> None:
    storage, fs = slow_storage()
    await run_requests(storage, pool, tmp_path, mock_server.url, 1)  # opens the pool's client
    fs.threads.clear()
    outputs, elapsed = await run_requests(storage, pool, tmp_path, mock_server.url, CONCURRENT)
    # Inline, the HAR writes would follow one another: CONCURRENT x LATENCY at least.
    assert elapsed < CONCURRENT * LATENCY / 2, f"{CONCURRENT} task runs took {elapsed:.2f} s"
    assert threading.get_ident() not in fs.threads
    for output in outputs:
        har = storage.read(output["har"])
        assert b'"status":200' in har


async def test_a_local_storage_is_called_on_the_event_loop(
    tmp_path: Path, pool: ClientPool, mock_server: Server
) -> None:
    storage = ThreadNotingStorage(tmp_path / "storage")
    outputs, _ = await run_requests(storage, pool, tmp_path, mock_server.url, 2)
    # A thread hop would cost more than the write: the HAR files are written inline.
    assert storage.threads == [threading.get_ident()] * 2
    assert all(storage.exists(output["har"]) for output in outputs)


@pytest.mark.parametrize("remote", [False, True], ids=["local", "remote"])
async def test_the_har_file_is_written_when_the_task_times_out(
    tmp_path: Path, pool: ClientPool, mock_server: Server, remote: bool
) -> None:
    # The timeout cancels the exchange: the HAR file is written while the task is cancelled.
    storage = slow_storage()[0] if remote else LocalStorage(tmp_path / "storage")
    flow = Flow.model_validate(
        {
            "id": "slow",
            "namespace": "tests.storage",
            "tasks": [
                {
                    "id": "get",
                    "type": REQUEST,
                    "uri": f"{mock_server.url}/slow?seconds=5",
                    "timeout": "PT0.3S",
                }
            ],
        }
    )
    task = flow.tasks[0]
    assert isinstance(task, RunnableTask)
    execution = Execution.create(flow.namespace, flow.id, 1)
    run = TaskRun.create(execution, task.id)
    settings = Settings.load(home=tmp_path, environ={})
    worker = Worker(settings, storage, _discard, lambda job: flow, http=pool)
    result = await worker.run(WorkerJob(execution, run, task))
    assert result.state is State.FAILED
    har = json.loads(storage.read(har_uri(execution, run)))
    assert har["log"]["entries"][0]["request"]["url"] == f"{mock_server.url}/slow?seconds=5"


async def test_run_storage_runs_a_quick_storage_inline(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    thread = await run_storage(storage, threading.get_ident)
    assert thread == threading.get_ident()


async def test_run_storage_runs_a_remote_storage_in_a_thread() -> None:
    storage, _ = slow_storage()
    thread = await run_storage(storage, threading.current_thread)
    assert thread is not threading.current_thread()
    assert thread.name.startswith("lanner-storage")


async def test_run_storage_carries_a_started_call_to_its_end_when_cancelled() -> None:
    storage, fs = slow_storage()
    call = asyncio.create_task(run_storage(storage, storage.put, "/a", "b.txt", b"kept"))
    await asyncio.sleep(LATENCY / 4)  # the write is waiting on the slow file system
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    deadline = time.monotonic() + 5
    while "/lanner/a/b.txt" not in fs.store and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert storage.read("kestra:///a/b.txt") == b"kept"


async def test_a_download_to_a_remote_storage_writes_off_the_event_loop(
    tmp_path: Path, pool: ClientPool, mock_server: Server
) -> None:
    storage, fs = slow_storage()
    flow = Flow.model_validate(
        {
            "id": "download",
            "namespace": "tests.storage",
            "tasks": [
                {
                    "id": "get",
                    "type": "io.kestra.plugin.core.http.Download",
                    "uri": f"{mock_server.url}/sample.csv",
                }
            ],
        }
    )
    task = flow.tasks[0]
    assert isinstance(task, RunnableTask)
    execution = Execution.create(flow.namespace, flow.id, 1)
    settings = Settings.load(home=tmp_path, environ={})
    worker = Worker(settings, storage, _discard, lambda job: flow, http=pool)
    result = await worker.run(WorkerJob(execution, TaskRun.create(execution, task.id), task))
    assert result.state is State.SUCCESS, result
    assert fs.threads
    assert threading.get_ident() not in fs.threads
    assert storage.read(dict(result.outputs or {})["uri"]).startswith(b"id,name,value")


async def test_for_each_item_on_a_remote_storage_splits_and_merges(tmp_path: Path) -> None:
    # The split, the children's outputs and the merge go through threads here.
    storage, fs = slow_storage(latency=0.001)
    store = await open_store(f"sqlite:///{tmp_path / 'lanner.db'}")
    try:
        for source in (ECHO, parent("      rows: 4\n")):
            await FlowRepository(store).save(source)
        settings = Settings.load(home=tmp_path, environ={})
        async with Runner(settings, store, storage) as runner:
            stored = await FlowRepository(store).get("company.team", "parent")
            inputs = {"file": Upload("items.txt", LINES)}
            started = await runner.submit(stored.flow, stored.revision, inputs)
            done = await runner.wait(started.id, timeout=60)
    finally:
        await store.close()
    assert done.current is State.SUCCESS
    merge = done.task_runs[3].outputs
    assert merge is not None
    assert storage.read(merge["subflowOutputs"]).decode().splitlines() == [
        '{text:"line 0\\nline 1\\nline 2\\nline 3"}',
        '{text:"line 4\\nline 5\\nline 6\\nline 7"}',
        '{text:"line 8\\nline 9"}',
    ]
    assert any(thread != threading.get_ident() for thread in fs.threads)


async def test_file_inputs_of_a_new_execution_are_stored_off_the_event_loop() -> None:
    storage, fs = slow_storage()
    flow = parse_flow(UPLOAD_FLOW)
    submissions = [
        new_execution(
            flow,
            1,
            storage,
            {"file": Upload(f"items-{i}.txt", b"a\nb\n")},
            (),
            validate_inputs=True,
            schedule_date=None,
            trigger=None,
            max_bytes=1 << 20,
        )
        for i in range(CONCURRENT)
    ]
    started = time.perf_counter()
    executions = await asyncio.gather(*submissions)
    assert time.perf_counter() - started < CONCURRENT * LATENCY / 2
    assert fs.threads
    assert threading.get_ident() not in fs.threads
    for i, execution in enumerate(executions):
        uri = dict(execution.inputs or {})["file"]
        assert uri.endswith(f"/inputs/file/items-{i}.txt")
        assert storage.read(uri) == b"a\nb\n"


UPLOAD_FLOW = """id: upload
namespace: company.team
inputs:
  - id: file
    type: FILE
tasks:
  - id: show
    type: io.kestra.plugin.core.log.Log
    message: "{{ inputs.file }}"
"""
