"""ForEachItem: a file cut into batches, one child execution per batch."""

from __future__ import annotations

from pathlib import Path

import pytest

from lanner.inputs.coercion import Upload
from lanner.states import State
from lanner.storage import LocalStorage
from tests.integration.children.support import engine, flow

LINES = "".join(f"line {number}\n" for number in range(10)).encode()

ECHO = flow(
    "echo",
    """inputs:
  - id: items
    type: STRING
tasks:
  - id: read
    type: io.kestra.plugin.core.debug.Return
    format: "{{ read(inputs.items) | trim }}"
outputs:
  - id: text
    type: STRING
    value: "{{ outputs.read.value }}"
""",
)


def parent(batch: str, extra: str = "", items: str = "{{ inputs.file }}") -> str:
    return flow(
        "parent",
        f"""inputs:
  - id: file
    type: FILE
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEachItem
    items: "{items}"
    batch:
{batch}    namespace: company.team
    flowId: echo
    inputs:
      items: "{{{{ taskrun.items }}}}"
{extra}""",
    )


@pytest.mark.parametrize(
    ("batch", "texts"),
    [
        (
            "      rows: 4\n",
            ["line 0\nline 1\nline 2\nline 3", "line 4\nline 5\nline 6\nline 7", "line 8\nline 9"],
        ),
        (
            "      bytes: 20\n",
            [
                "line 0\nline 1\nline 2",
                "line 3\nline 4\nline 5",
                "line 6\nline 7\nline 8",
                "line 9",
            ],
        ),
        (
            "      partitions: 2\n",
            ["line 0\nline 2\nline 4\nline 6\nline 8", "line 1\nline 3\nline 5\nline 7\nline 9"],
        ),
    ],
    ids=["rows", "bytes", "partitions"],
)
async def test_each_batch_becomes_one_child(tmp_path: Path, batch: str, texts: list[str]) -> None:
    async with engine(tmp_path, ECHO, parent(batch)) as lanner:
        done = await lanner.run("parent", {"file": Upload("items.txt", LINES)})
        children = await lanner.children("echo")
    assert done.current is State.SUCCESS
    ids = [run.task_id for run in done.task_runs]
    assert ids == ["each", "each_split", "each_items", "each_merge"]
    items = done.task_runs[2]
    assert items.outputs is not None
    assert items.outputs["numberOfBatches"] == len(texts)
    assert items.outputs["iterations"] == {"CREATED": 0, "RUNNING": 0, "SUCCESS": len(texts)}
    by_iteration = sorted(
        children, key=lambda child: (child.trigger or {})["variables"]["taskRunIteration"]
    )
    assert [child.outputs for child in by_iteration] == [{"text": text} for text in texts]
    prefix = f"kestra:///company/team/parent/executions/{done.id}/tasks/each-split/"
    assert all(str((child.inputs or {})["items"]).startswith(prefix) for child in children)
    assert all(child.labels_map()["system.correlationId"] == done.id for child in children)


async def test_the_merge_task_gathers_the_childrens_outputs(tmp_path: Path) -> None:
    async with engine(tmp_path, ECHO, parent("      rows: 4\n")) as lanner:
        done = await lanner.run("parent", {"file": Upload("items.txt", LINES)})
    merge = done.task_runs[3]
    assert merge.outputs is not None
    merged = LocalStorage(tmp_path / "storage").read(merge.outputs["subflowOutputs"])
    lines = merged.decode().splitlines()
    assert lines == [
        '{text:"line 0\\nline 1\\nline 2\\nline 3"}',
        '{text:"line 4\\nline 5\\nline 6\\nline 7"}',
        '{text:"line 8\\nline 9"}',
    ]


async def test_an_empty_file_starts_nothing_and_succeeds(tmp_path: Path) -> None:
    async with engine(tmp_path, ECHO, parent("      rows: 1\n")) as lanner:
        done = await lanner.run("parent", {"file": Upload("items.txt", b"")})
        children = await lanner.children("echo")
    assert done.current is State.SUCCESS
    assert len(done.task_runs) == 4
    assert done.task_runs[2].outputs is None
    assert children == []


async def test_failed_children_fail_the_items_task(tmp_path: Path) -> None:
    failing = flow(
        "echo",
        "inputs:\n  - id: items\n    type: STRING\ntasks:\n"
        "  - id: boom\n    type: io.kestra.plugin.core.execution.Fail\n",
    )
    async with engine(tmp_path, failing, parent("      rows: 5\n")) as lanner:
        done = await lanner.run("parent", {"file": Upload("items.txt", LINES)})
    assert done.current is State.FAILED
    assert [run.task_id for run in done.task_runs] == ["each", "each_split", "each_items"]
    outputs = done.task_runs[2].outputs
    assert outputs is not None
    assert outputs["iterations"] == {"CREATED": 0, "RUNNING": 0, "FAILED": 2}


async def test_without_wait_every_batch_counts_once_created(tmp_path: Path) -> None:
    source = parent("      rows: 3\n", extra="    wait: false\n")
    async with engine(tmp_path, ECHO, source) as lanner:
        done = await lanner.run("parent", {"file": Upload("items.txt", LINES)})
    outputs = done.task_runs[2].outputs
    assert done.current is State.SUCCESS
    assert outputs is not None
    assert outputs["iterations"] == {"RUNNING": 0, "SUCCESS": 4}


async def test_items_must_be_an_internal_storage_uri(tmp_path: Path) -> None:
    source = parent("      rows: 1\n", items="/etc/hosts")
    async with engine(tmp_path, ECHO, source) as lanner:
        done = await lanner.run("parent", {"file": Upload("items.txt", LINES)})
        logs = await lanner.logs(done, "each_split")
    assert done.current is State.FAILED
    message = "Unable to split the items from /etc/hosts, this is not an internal storage URI!"
    assert message in logs


async def test_a_bad_batch_size_says_so(tmp_path: Path) -> None:
    async with engine(tmp_path, ECHO, parent("      bytes: lots\n")) as lanner:
        done = await lanner.run("parent", {"file": Upload("items.txt", LINES)})
        logs = await lanner.logs(done, "each_split")
    assert done.current is State.FAILED
    assert any("Invalid size with value 'lots'" in line for line in logs)


async def test_a_restart_retries_only_the_failed_batches(tmp_path: Path) -> None:
    picky = flow(
        "echo",
        """inputs:
  - id: items
    type: STRING
tasks:
  - id: need
    type: io.kestra.plugin.core.kv.Get
    key: "{{ read(inputs.items) | trim | slugify }}"
    errorOnMissing: true
""",
    )
    async with engine(tmp_path, picky, parent("      rows: 5\n")) as lanner:
        lanner.store.kv.put("company.team", "line-0-line-1-line-2-line-3-line-4", "ok")
        failed = await lanner.run("parent", {"file": Upload("items.txt", LINES)})
        first = {child.id: child.current for child in await lanner.children("echo")}
        lanner.store.kv.put("company.team", "line-5-line-6-line-7-line-8-line-9", "ok")
        await lanner.runner.restart(failed.id)
        done = await lanner.runner.wait(failed.id, timeout=60)
        after = {child.id: child.current for child in await lanner.children("echo")}
    assert failed.current is State.FAILED
    assert sorted(first.values()) == [State.FAILED, State.SUCCESS]
    assert done.current is State.SUCCESS
    assert after.keys() == first.keys()  # the failed child ran again; none was added
    assert set(after.values()) == {State.SUCCESS}
    outputs = done.task_runs[2].outputs
    assert outputs is not None
    assert outputs["iterations"]["SUCCESS"] == 2


async def test_child_inputs_may_read_the_batch_file(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[3] / "examples"
    child = (root / "subflow-child.yml").read_text()
    example = (root / "subflow-parent.yml").read_text()
    names = Upload("names.txt", (root / "names.txt").read_bytes())
    async with engine(tmp_path, child) as lanner:
        stored = await lanner.save(example)
        started = await lanner.runner.submit(stored.flow, stored.revision, {"names": names})
        done = await lanner.runner.wait(started.id, timeout=60)
        greetings = sorted(
            str((child.outputs or {}).get("greeting")) for child in await lanner.children("greet")
        )
    assert done.current is State.SUCCESS
    assert greetings == [
        "Hello, Ada and Grace!",
        "Hello, Linus!",
        "Hello, greet_everyone!",
    ]
