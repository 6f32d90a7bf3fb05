"""The flow and execution features in the browser: the API's topology, dependencies, triggers,
resuming with onResume inputs, namespace files in the editor, and the bulk actions bar."""

from __future__ import annotations

import asyncio
import itertools
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from playwright.sync_api import Locator, Page, Request, expect

from lanner.store.sqlite import SqliteStore
from tests.e2e.conftest import UI, LannerServer
from tests.e2e.test_pages import execute, save_flow

LOG = "io.kestra.plugin.core.log.Log"
BRANCHES = f"""\
id: branches
namespace: e2e.graph
inputs:
  - id: go
    type: BOOLEAN
    defaults: true
tasks:
  - id: fan
    type: io.kestra.plugin.core.flow.Parallel
    tasks:
      - id: left
        type: {LOG}
        message: left
      - id: right
        type: {LOG}
        message: right
  - id: choose
    type: io.kestra.plugin.core.flow.If
    condition: "{{{{ inputs.go }}}}"
    then:
      - id: yes
        type: {LOG}
        message: yes
    else:
      - id: no
        type: {LOG}
        message: no
errors:
  - id: alert
    type: {LOG}
    message: failed
"""

DEPS_TARGET = f"""\
id: target
namespace: e2e.deps
tasks:
  - id: say
    type: {LOG}
    message: hi
"""
DEPS_CALLER = """\
id: caller
namespace: e2e.deps
tasks:
  - id: call
    type: io.kestra.plugin.core.flow.Subflow
    namespace: e2e.deps
    flowId: target
"""
DEPS_WATCHER = f"""\
id: watcher
namespace: e2e.other
tasks:
  - id: say
    type: {LOG}
    message: hi
triggers:
  - id: on_target
    type: io.kestra.plugin.core.trigger.Flow
    preconditions:
      flows:
        - namespace: e2e.deps
          flowId: target
"""
SCHEDULED = f"""\
id: scheduled
namespace: e2e.triggers
tasks:
  - id: say
    type: {LOG}
    message: hi
triggers:
  - id: yearly
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 0 1 1 *"
  - id: monthly
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 0 1 * *"
"""


def wait_state(lanner: LannerServer, execution_id: str, state: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        body: dict[str, Any] = lanner.api.get(f"/executions/{execution_id}").json()
        if body["state"]["current"] == state:
            return body
        assert time.monotonic() < deadline, f"{execution_id} is {body['state']['current']}"
        time.sleep(0.1)


def inside(inner: Locator, outer: Locator) -> bool:
    a, b = inner.bounding_box(), outer.bounding_box()
    assert a is not None
    assert b is not None
    return (
        a["x"] >= b["x"]
        and a["y"] >= b["y"]
        and a["x"] + a["width"] <= b["x"] + b["width"]
        and a["y"] + a["height"] <= b["y"] + b["height"]
    )


def test_the_topology_is_the_api_graph_coloured_by_state(ui: UI, lanner: LannerServer) -> None:
    save_flow(lanner, BRANCHES)
    ui.open("/flows/edit/e2e.graph/branches/overview")
    page = ui.page
    topology = page.locator(".topology")
    fan = topology.locator("[data-cluster=fan]")
    expect(topology.locator("[data-task=left]")).to_be_visible()
    assert inside(topology.locator("[data-task=left]"), fan)
    assert inside(topology.locator("[data-task=right]"), fan)
    assert not inside(topology.locator("[data-task=yes]"), fan)
    expect(topology.locator(".edge-label")).to_have_text(["then", "else"])
    expect(topology.locator(".relation-error .edge")).to_have_count(1)
    ui.shot("flow-topology")

    execution_id = execute(lanner, "e2e.graph", "branches")
    wait_state(lanner, execution_id, "SUCCESS")
    ui.open(f"/executions/e2e.graph/branches/{execution_id}/topology")
    node = page.locator(".topology [data-task=yes]")
    expect(node).to_have_class("node state-success")
    expect(page.locator(".topology [data-task=no]")).not_to_have_class("state-success")
    node.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("region", name="Task yes")).to_contain_text("SUCCESS")
    ui.shot("execution-topology")


CALLED = f"""id: called
namespace: e2e.graph
tasks:
  - id: inside_child
    type: {LOG}
    message: in the child
"""

CALLER = """id: caller
namespace: e2e.graph
tasks:
  - id: call
    type: io.kestra.plugin.core.flow.Subflow
    namespace: e2e.graph
    flowId: called
  - id: afterwards
    type: io.kestra.plugin.core.debug.Return
    format: done
"""


def test_a_subflow_node_opens_on_the_tasks_of_its_flow(ui: UI, lanner: LannerServer) -> None:
    save_flow(lanner, CALLED)
    save_flow(lanner, CALLER)
    ui.open("/flows/edit/e2e.graph/caller/overview")
    page = ui.page
    topology = page.locator(".topology")
    expect(topology.locator("[data-task=call]")).to_be_visible()
    expect(topology.locator("[data-task=inside_child]")).to_have_count(0)
    topology.get_by_role("button", name="Expand subflow call").click()
    child = topology.locator("[data-task=inside_child]")
    expect(child).to_be_visible()
    assert inside(child, topology.locator("[data-cluster=call]"))
    assert not inside(
        topology.locator("[data-task=afterwards]"), topology.locator("[data-cluster=call]")
    )
    ui.shot("subflow-open")
    collapse = topology.get_by_role("button", name="Collapse subflow call")
    collapse.focus()
    page.keyboard.press("Enter")
    expect(child).to_have_count(0)
    expect(topology.get_by_role("button", name="Expand subflow call")).to_be_visible()

    # On an execution, the opened flow's tasks are drawn without this execution's states.
    execution_id = execute(lanner, "e2e.graph", "caller")
    wait_state(lanner, execution_id, "SUCCESS")
    ui.open(f"/executions/e2e.graph/caller/{execution_id}/topology")
    topology = page.locator(".topology")
    expect(topology.locator("[data-task=afterwards]")).to_have_class("node state-success")
    topology.get_by_role("button", name="Expand subflow call").click()
    expect(topology.locator("[data-task=inside_child]")).to_have_class("node")
    expect(topology.locator("[data-task=call]")).to_have_class("node state-success")


LOOPING = f"""id: looping
namespace: e2e.graph
inputs:
  - id: child
    type: STRING
    defaults: called
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["a", "b", "c"]
    tasks:
      - id: step
        type: {LOG}
        message: "{{{{ taskrun.value }}}}"
  - id: dynamic
    type: io.kestra.plugin.core.flow.Subflow
    namespace: e2e.graph
    flowId: "{{{{ inputs.child }}}}"
"""


def test_an_execution_topology_draws_each_iteration_and_its_child_flow(
    ui: UI, lanner: LannerServer
) -> None:
    save_flow(lanner, CALLED)
    save_flow(lanner, LOOPING)
    execution_id = execute(lanner, "e2e.graph", "looping")
    wait_state(lanner, execution_id, "SUCCESS")
    ui.open(f"/executions/e2e.graph/looping/{execution_id}/topology")
    page = ui.page
    topology = page.locator(".topology")
    steps = topology.locator("[data-task=step]")
    expect(steps).to_have_count(3)
    for index in range(3):
        expect(steps.nth(index)).to_have_class("node state-success")
    expect(topology.locator(".edge-label")).to_have_text(["a", "b", "c"])
    # `flowId` is a template: the child execution says which flow it ran.
    topology.get_by_role("button", name="Expand subflow dynamic").click()
    expect(page.locator(".topology [data-cluster=dynamic]")).to_contain_text(
        "dynamic → e2e.graph.called"
    )
    expect(topology.locator("[data-task=inside_child]")).to_have_class("node")
    ui.shot("execution-iterations")


SLOW_LOOP = """id: slow_loop
namespace: e2e.graph
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]
    tasks:
      - id: nap
        type: io.kestra.plugin.core.flow.Sleep
        duration: PT0.15S
"""


def test_a_running_loop_redraws_the_topology_at_most_once_a_second(
    ui: UI, lanner: LannerServer
) -> None:
    save_flow(lanner, SLOW_LOOP)
    execution_id = execute(lanner, "e2e.graph", "slow_loop")
    page = ui.page
    drawn: list[float] = []

    def count(request: Request) -> None:
        if request.url.split("?")[0].endswith(f"/executions/{execution_id}/graph"):
            drawn.append(time.monotonic())

    page.on("request", count)
    ui.open(f"/executions/e2e.graph/slow_loop/{execution_id}/topology")
    # 20 iterations add a task run every 0.15 s: every one of them is drawn in the end.
    expect(page.locator(".topology [data-task=nap]")).to_have_count(20, timeout=20_000)
    wait_state(lanner, execution_id, "SUCCESS")
    gaps = [later - earlier for earlier, later in itertools.pairwise(drawn)]
    assert len(drawn) >= 2
    assert min(gaps) > 0.8, gaps


def test_the_editor_topology_is_redrawn_by_the_server(ui: UI, lanner: LannerServer) -> None:
    save_flow(lanner, BRANCHES)
    ui.open("/flows/edit/e2e.graph/branches/edit")
    page = ui.page
    page.get_by_role("button", name="Topology").click()
    panel = page.get_by_role("complementary", name="Topology")
    expect(panel.locator("[data-task=alert]")).to_be_visible()
    with page.expect_request(lambda request: request.url.endswith("/flows/graph")):
        page.locator("[data-testid=flow-editor] .cm-content").click()
        page.keyboard.press("ControlOrMeta+End")
        page.keyboard.insert_text(f"\n  - id: added_later\n    type: {LOG}\n    message: new\n")
    expect(panel.locator("[data-task=added_later]")).to_be_visible()
    ui.shot("live-topology")


def store_directly(lanner: LannerServer, namespace: str, flow_id: str, source: str) -> None:
    """Write a flow as an engine with Subflow tasks and Flow triggers would have saved it."""

    async def write() -> None:
        store = SqliteStore.open(lanner.home / "lanner.db")
        try:
            await store.save_flow(namespace, flow_id, source)
        finally:
            await store.close()

    # Playwright's driver runs an event loop in this thread: write from another one.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, write()).result()


def test_the_dependencies_tab_lists_callers_and_triggered_flows(
    ui: UI, lanner: LannerServer
) -> None:
    save_flow(lanner, DEPS_TARGET)
    caller, watcher = DEPS_CALLER, DEPS_WATCHER
    store_directly(lanner, "e2e.deps", "caller", caller)
    store_directly(lanner, "e2e.other", "watcher", watcher)
    ui.open("/flows/edit/e2e.deps/target/dependencies")
    page = ui.page
    upstream = page.get_by_role("region", name="Flows leading here")
    downstream = page.get_by_role("region", name="Flows it leads to")
    expect(upstream.get_by_role("link")).to_have_text("e2e.depscaller")
    expect(upstream).to_contain_text("calls this flow as a subflow")
    expect(downstream.get_by_role("link")).to_have_attribute(
        "href", "/ui/flows/edit/e2e.other/watcher/dependencies"
    )
    expect(downstream).to_contain_text("triggered when this flow ends")
    ui.shot("dependencies")


def test_triggers_can_be_disabled_and_enabled_one_by_one(ui: UI, lanner: LannerServer) -> None:
    source = SCHEDULED
    save_flow(lanner, source)
    ui.open("/flows/edit/e2e.triggers/scheduled/triggers")
    page = ui.page
    yearly = page.locator("[data-trigger-row=yearly]")
    expect(yearly.get_by_test_id("trigger-status")).to_have_text("enabled")
    page.get_by_role("button", name="Disable trigger yearly").click()
    expect(yearly.get_by_test_id("trigger-status")).to_have_text("disabled")
    expect(
        page.locator("[data-trigger-row=monthly]").get_by_test_id("trigger-status")
    ).to_have_text("enabled")
    found = lanner.api.get("/triggers/search", params={"flowId": "scheduled"}).json()["results"]
    assert {row["triggerId"]: row["disabled"] for row in found} == {
        "yearly": True,
        "monthly": False,
    }
    ui.shot("triggers")
    page.get_by_role("button", name="Enable trigger yearly").click()
    expect(yearly.get_by_test_id("trigger-status")).to_have_text("enabled")


PAUSE = f"""\
id: approval
namespace: e2e.pause
tasks:
  - id: wait_for_approval
    type: io.kestra.plugin.core.flow.Pause
    onResume:
      - id: approved
        type: BOOLEAN
        defaults: false
      - id: reason
        type: STRING
  - id: report
    type: {LOG}
    message: >-
      approved={{{{ outputs.wait_for_approval.onResume.approved }}}}
      ({{{{ outputs.wait_for_approval.onResume.reason }}}})
"""


def test_resume_asks_for_the_on_resume_inputs(ui: UI, lanner: LannerServer) -> None:
    save_flow(lanner, PAUSE)
    execution_id = execute(lanner, "e2e.pause", "approval")
    wait_state(lanner, execution_id, "PAUSED")
    ui.expect_console_error("422")
    ui.open(f"/executions/e2e.pause/approval/{execution_id}/overview")
    page = ui.page
    page.locator("[data-action=resume]").click()
    dialog = page.get_by_role("dialog", name="Resume the execution")
    expect(dialog.get_by_label("approved")).not_to_be_checked()
    dialog.locator("[data-action=resume-submit]").click()
    expect(dialog.locator(".field.has-error .field-error")).to_contain_text("reason")
    ui.shot("resume-error")
    dialog.get_by_label("approved").check()
    dialog.locator("#input-reason").fill("looks good")
    dialog.locator("[data-action=resume-submit]").click()
    expect(dialog).to_be_hidden()
    expect(page.locator(".execution-title .badge")).to_have_text("SUCCESS", timeout=20_000)
    logs = lanner.api.get(f"/logs/{execution_id}").json()
    assert any(line["message"] == "approved=true (looks good)" for line in logs)


STEPS = f"""\
id: steps
namespace: e2e.pause
tasks:
  - id: first
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT2S
  - id: second
    type: {LOG}
    message: second ran
"""


def test_pause_holds_a_running_execution_until_resume(ui: UI, lanner: LannerServer) -> None:
    save_flow(lanner, STEPS)
    execution_id = execute(lanner, "e2e.pause", "steps")
    wait_state(lanner, execution_id, "RUNNING")
    ui.open(f"/executions/e2e.pause/steps/{execution_id}/overview")
    page = ui.page
    page.get_by_role("toolbar", name="Execution actions").get_by_role(
        "button", name="Pause"
    ).click()
    expect(page.locator(".execution-title .badge")).to_have_text("PAUSED")
    page.wait_for_timeout(2500)  # the Sleep ends; the Log does not start
    stored = lanner.api.get(f"/executions/{execution_id}").json()
    assert stored["state"]["current"] == "PAUSED"
    assert [run["taskId"] for run in stored["taskRunList"]] == ["first"]
    page.locator("[data-action=resume]").click()
    page.get_by_role("dialog", name="Resume the execution").locator(
        "[data-action=resume-submit]"
    ).click()
    expect(page.locator(".execution-title .badge")).to_have_text("SUCCESS", timeout=20_000)


def test_namespace_files_from_the_editor(ui: UI, lanner: LannerServer) -> None:
    save_flow(lanner, BRANCHES)
    ui.open("/flows/edit/e2e.graph/branches/edit")
    page = ui.page
    page.get_by_role("button", name="Files").click()
    panel = page.get_by_role("complementary", name="Namespace files")
    panel.get_by_role("button", name="+ File").click()
    page.get_by_role("dialog").get_by_label("Name").fill("query.sql")
    page.get_by_role("dialog").get_by_role("button", name="Create").click()
    panel.locator(".file-editor .cm-content").click()
    page.keyboard.insert_text("select 1")
    panel.locator(".file-editor").get_by_role("button", name="Save").click()
    # The file is listed from its creation on; the toast says the content's write finished.
    expect(page.get_by_role("status").filter(has_text="Saved /query.sql")).to_be_visible()
    expect(panel.get_by_role("table", name="Namespace files")).to_contain_text("query.sql")
    content = lanner.api.get("/namespaces/e2e.graph/files", params={"path": "/query.sql"})
    assert content.text == "select 1"
    ui.shot("editor-files")
    panel.get_by_role("button", name="Delete query.sql").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(panel.get_by_role("table", name="Namespace files")).to_have_count(0)
    gone = lanner.api.get("/namespaces/e2e.graph/files", params={"path": "/query.sql"})
    assert gone.status_code == 404


def select_whole_query(page: Page, total: int) -> None:
    page.get_by_role("checkbox", name="Select all on this page").check()
    bar = page.get_by_role("toolbar", name="Bulk actions")
    bar.get_by_role("button", name=f"Select all {total} matching").click()
    expect(bar.get_by_test_id("bulk-count")).to_have_text(
        f"All {total} executions matching the filters selected"
    )


def test_bulk_delete_acts_on_every_page_of_the_query(ui: UI, lanner: LannerServer) -> None:
    source = (
        f"id: many\nnamespace: e2e.bulk\ntasks:\n  - id: say\n    type: {LOG}\n    message: hi\n"
    )
    save_flow(lanner, source)
    for _ in range(3):
        lanner.api.post("/executions/e2e.bulk/many", params={"wait": True}).raise_for_status()
    ui.open("/executions?namespace=e2e.bulk&size=2")
    page = ui.page
    rows = page.get_by_role("table", name="Executions").locator("tbody tr")
    expect(rows).to_have_count(2)
    select_whole_query(page, 3)
    page.get_by_role("toolbar", name="Bulk actions").get_by_role("button", name="Delete").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Delete all 3 executions matching the filters?")
    ui.shot("bulk-query")
    dialog.get_by_role("button", name="Delete").click()
    expect(page.get_by_text("No execution matches.")).to_be_visible()
    left = lanner.api.get("/executions/search", params={"namespace": "e2e.bulk"}).json()
    assert left["total"] == 0


def bulk_bar(page: Page) -> Locator:
    return page.get_by_role("toolbar", name="Bulk actions")


def toast(page: Page, text: str) -> Locator:
    return page.get_by_role("status").filter(has_text=text)


def saying_hi(namespace: str, flow_id: str) -> str:
    tasks = f"tasks:\n  - id: say\n    type: {LOG}\n    message: hi\n"
    return f"id: {flow_id}\nnamespace: {namespace}\n{tasks}"


SLOW_STEPS = f"""\
id: slow_steps
namespace: e2e.bulk_pause
tasks:
  - id: first
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT5S
  - id: second
    type: {LOG}
    message: second ran
"""


def test_bulk_pause_then_resume_of_selected_running_executions(
    ui: UI, lanner: LannerServer
) -> None:
    save_flow(lanner, SLOW_STEPS)
    ids = [execute(lanner, "e2e.bulk_pause", "slow_steps") for _ in range(2)]
    for execution_id in ids:
        wait_state(lanner, execution_id, "RUNNING")
    ui.open("/executions?namespace=e2e.bulk_pause")
    page = ui.page
    table = page.get_by_role("table", name="Executions")
    for execution_id in ids:
        table.get_by_role("checkbox", name=f"Select {execution_id}").check()
    bulk_bar(page).get_by_role("button", name="Pause").click()
    expect(toast(page, "Pause: 2 executions")).to_be_visible()
    for execution_id in ids:
        wait_state(lanner, execution_id, "PAUSED")
    expect(table.locator(".badge[data-state=PAUSED]")).to_have_count(2)
    ui.shot("bulk-paused")
    page.get_by_role("checkbox", name="Select all on this page").check()
    bulk_bar(page).get_by_role("button", name="Resume").click()
    expect(toast(page, "Resume: 2 executions")).to_be_visible()
    for execution_id in ids:
        done = wait_state(lanner, execution_id, "SUCCESS")
        assert [run["taskId"] for run in done["taskRunList"]] == ["first", "second"]
    expect(table.locator(".badge[data-state=SUCCESS]")).to_have_count(2)


def test_bulk_delete_of_a_running_execution_kills_it_when_asked(
    ui: UI, lanner: LannerServer
) -> None:
    save_flow(lanner, saying_hi("e2e.bulk_delete", "quick"))
    save_flow(lanner, SLOW_STEPS.replace("e2e.bulk_pause", "e2e.bulk_delete"))
    done_id = execute(lanner, "e2e.bulk_delete", "quick", wait=True)
    running_id = execute(lanner, "e2e.bulk_delete", "slow_steps")
    wait_state(lanner, running_id, "RUNNING")
    ui.expect_console_error("400")
    ui.open("/executions?namespace=e2e.bulk_delete")
    page = ui.page
    page.get_by_role("checkbox", name="Select all on this page").check()
    # Without the option, a running execution refuses the whole delete.
    bulk_bar(page).get_by_role("button", name="Delete").click()
    dialog = page.get_by_role("dialog", name="Delete executions")
    expect(dialog).to_contain_text("Delete 2 executions?")
    dialog.get_by_role("button", name="Delete", exact=True).click()
    refused = page.get_by_role("alert").filter(has_text="invalid bulk delete")
    expect(refused).to_contain_text(f"Execution '{running_id}' is RUNNING")
    assert lanner.api.get(f"/executions/{done_id}").status_code == 200
    bulk_bar(page).get_by_role("button", name="Delete").click()
    dialog.get_by_role("checkbox", name="Also delete executions that have not ended").check()
    ui.shot("bulk-delete-unended")
    dialog.get_by_role("button", name="Delete", exact=True).click()
    expect(toast(page, "Deleted: 2 executions")).to_be_visible()
    expect(page.get_by_text("No execution matches.")).to_be_visible()
    for execution_id in (done_id, running_id):
        assert lanner.api.get(f"/executions/{execution_id}").status_code == 404


def test_bulk_force_run_starts_scheduled_executions_now(ui: UI, lanner: LannerServer) -> None:
    save_flow(lanner, saying_hi("e2e.bulk_force", "later"))
    ids = []
    for _ in range(2):
        response = lanner.api.post(
            "/executions/e2e.bulk_force/later", params={"scheduleDate": "2099-01-01T00:00:00Z"}
        )
        response.raise_for_status()
        ids.append(response.json()["id"])
    ui.open("/executions?namespace=e2e.bulk_force")
    page = ui.page
    table = page.get_by_role("table", name="Executions")
    expect(table.locator(".badge[data-state=CREATED]")).to_have_count(2)
    page.get_by_role("checkbox", name="Select all on this page").check()
    bulk_bar(page).get_by_role("button", name="Force run").click()
    expect(toast(page, "Force run: 2 executions")).to_be_visible()
    for execution_id in ids:
        wait_state(lanner, execution_id, "SUCCESS")


def test_bulk_change_status_of_selected_ended_executions(ui: UI, lanner: LannerServer) -> None:
    save_flow(lanner, saying_hi("e2e.bulk_status", "done"))
    ids = [execute(lanner, "e2e.bulk_status", "done", wait=True) for _ in range(2)]
    ui.expect_console_error("400")
    ui.open("/executions?namespace=e2e.bulk_status")
    page = ui.page
    table = page.get_by_role("table", name="Executions")
    expect(table.locator(".badge[data-state=SUCCESS]")).to_have_count(2)
    page.get_by_role("checkbox", name="Select all on this page").check()
    # An ended execution cannot be paused: the error names each execution and why.
    bulk_bar(page).get_by_role("button", name="Pause").click()
    refused = page.get_by_role("alert").filter(has_text="invalid bulk pause")
    for execution_id in ids:
        expect(refused).to_contain_text(f"Execution '{execution_id}' is SUCCESS, not RUNNING")
    ui.shot("bulk-refused")
    bulk_bar(page).get_by_role("button", name="Change status").click()
    dialog = page.get_by_role("dialog", name="Change the status of 2 executions")
    dialog.get_by_label("New state").select_option("FAILED")
    dialog.get_by_role("button", name="Change", exact=True).click()
    expect(toast(page, "Status changed to FAILED: 2 executions")).to_be_visible()
    expect(table.locator(".badge[data-state=FAILED]")).to_have_count(2)
    for execution_id in ids:
        stored = lanner.api.get(f"/executions/{execution_id}").json()
        assert stored["state"]["current"] == "FAILED"


def test_bulk_labels_on_every_execution_the_query_matches(ui: UI, lanner: LannerServer) -> None:
    save_flow(lanner, saying_hi("e2e.bulk_labels", "tagged"))
    save_flow(lanner, saying_hi("e2e.unfiltered", "untagged"))
    params: dict[str, str | bool] = {"wait": True, "labels": "team:data"}
    for _ in range(3):
        lanner.api.post("/executions/e2e.bulk_labels/tagged", params=params).raise_for_status()
    outside = execute(lanner, "e2e.unfiltered", "untagged", wait=True)
    ui.expect_console_error("422")
    ui.open("/executions?namespace=e2e.bulk_labels&size=2")
    page = ui.page
    rows = page.get_by_role("table", name="Executions").locator("tbody tr")
    expect(rows).to_have_count(2)
    select_whole_query(page, 3)
    bulk_bar(page).get_by_role("button", name="Set labels").click()
    dialog = page.get_by_role("dialog", name="Add labels to all 3 executions matching the filters")
    dialog.get_by_label("Label 1 key").fill("system.env")
    dialog.get_by_label("Label 1 value").fill("prod")
    dialog.get_by_role("button", name="Add labels", exact=True).click()
    # Refused: the dialog stays open with the labels typed.
    expect(page.get_by_role("alert")).to_contain_text("System labels")
    dialog.get_by_label("Label 1 key").fill("env")
    ui.shot("bulk-labels")
    dialog.get_by_role("button", name="Add labels", exact=True).click()
    expect(toast(page, "Labels added: 3 executions")).to_be_visible()
    expect(dialog).to_be_hidden()
    expect(rows.locator(".label-chip", has_text="env:prod")).to_have_count(2)
    found = lanner.api.get("/executions/search", params={"namespace": "e2e.bulk_labels"}).json()
    assert found["total"] == 3
    for execution in found["results"]:
        labels = {(label["key"], label["value"]) for label in execution["labels"]}
        assert {("team", "data"), ("env", "prod")} <= labels
    untouched = lanner.api.get(f"/executions/{outside}").json()
    assert all(label["key"] != "env" for label in untouched.get("labels") or [])
