"""The other pages in the browser: live logs, input errors, virtualised logs, revisions,
the executions list, keyboard access."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import UI, LannerServer
from tests.httpservers import serve

SLOW_FLOW = """\
id: slow_logs
namespace: e2e
tasks:
  - id: first
    type: io.kestra.plugin.core.log.Log
    message: before the pause
  - id: pause
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT2S
  - id: second
    type: io.kestra.plugin.core.log.Log
    message: after the pause
"""

INPUT_FLOW = """\
id: with_inputs
namespace: e2e
inputs:
  - id: count
    type: INT
    min: 10
  - id: color
    type: SELECT
    values: [red, green]
    defaults: green
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: "{{ inputs.count }} {{ inputs.color }}"
"""


def save_flow(lanner: LannerServer, source: str) -> dict[str, Any]:
    """Create the flow, or update it when a test before created it already."""
    headers = {"Content-Type": "application/x-yaml"}
    response = lanner.api.post("/flows", content=source, headers=headers)
    if response.status_code == 422 and "exists" in response.text:
        namespace = re.search(r"^namespace: (\S+)", source, re.M)
        flow_id = re.search(r"^id: (\S+)", source, re.M)
        assert namespace
        assert flow_id
        path = f"/flows/{namespace[1]}/{flow_id[1]}"
        response = lanner.api.put(path, content=source, headers=headers)
    response.raise_for_status()
    flow: dict[str, Any] = response.json()
    return flow


def execute(lanner: LannerServer, namespace: str, flow_id: str, wait: bool = False) -> str:
    response = lanner.api.post(f"/executions/{namespace}/{flow_id}", params={"wait": wait})
    response.raise_for_status()
    execution_id: str = response.json()["id"]
    return execution_id


def test_logs_and_state_update_live(ui: UI, lanner: LannerServer) -> None:
    save_flow(lanner, SLOW_FLOW)
    execution_id = execute(lanner, "e2e", "slow_logs")
    ui.open(f"/executions/e2e/slow_logs/{execution_id}/logs")
    page = ui.page
    scroller = page.get_by_test_id("log-scroller")
    badge = page.locator(".execution-title .badge")
    expect(scroller).to_contain_text("before the pause")
    expect(badge).to_have_text("RUNNING")
    expect(scroller).not_to_contain_text("after the pause")
    ui.shot("running")
    expect(scroller).to_contain_text("after the pause", timeout=20_000)
    expect(badge).to_have_text("SUCCESS")
    expect(page.get_by_test_id("log-count")).to_contain_text("2 of 2 lines")
    ui.shot("done")


def test_input_errors_show_next_to_their_field(ui: UI, lanner: LannerServer) -> None:
    save_flow(lanner, INPUT_FLOW)
    ui.expect_console_error("422")
    ui.open("/flows/edit/e2e/with_inputs/overview?execute=1")
    page = ui.page
    dialog = page.get_by_role("dialog")
    expect(dialog.locator("select#input-color")).to_have_value("green")
    dialog.locator("#input-count").fill("5")
    dialog.locator("[data-action=execute-submit]").click()
    error = dialog.locator(".field.has-error .field-error")
    expect(error).to_contain_text("count")
    expect(error).to_contain_text("it must be more than `10`")
    ui.shot("input-error")
    dialog.locator("#input-count").fill("12")
    dialog.locator("select#input-color").select_option("red")
    dialog.locator("[data-action=execute-submit]").click()
    expect(page).to_have_url(re.compile(r"/ui/executions/e2e/with_inputs/\w+/overview$"))
    expect(page.get_by_role("table", name="Inputs")).to_contain_text("red")


GUARDED_FLOW = """id: guarded
namespace: e2e
inputs:
  - id: amount
    type: INT
    defaults: 1
checks:
  - condition: "{{ inputs.amount > 0 }}"
    message: The amount must be positive
    style: ERROR
  - condition: "{{ inputs.amount < 1000 }}"
    message: Large amounts are recorded as failed
    style: WARNING
    behavior: FAIL_EXECUTION
tasks:
  - id: pay
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.amount }}"
"""


def test_the_execute_form_shows_the_checks_its_inputs_fail(ui: UI, lanner: LannerServer) -> None:
    save_flow(lanner, GUARDED_FLOW)
    ui.open("/flows/edit/e2e/guarded/overview?execute=1")
    page = ui.page
    dialog = page.get_by_role("dialog")
    checks = dialog.get_by_role("list", name="Flow checks")
    submit = dialog.locator("[data-action=execute-submit]")
    expect(submit).to_be_enabled()
    dialog.locator("#input-amount").fill("-3")
    expect(checks.locator(".flow-check.error")).to_have_text(
        "The amount must be positive The execution cannot start."
    )
    expect(submit).to_be_disabled()
    ui.shot("blocked")
    dialog.locator("#input-amount").fill("5000")
    expect(checks.locator(".flow-check.warning")).to_contain_text(
        "Large amounts are recorded as failed"
    )
    expect(checks.locator(".flow-check")).to_have_count(1)
    expect(submit).to_be_enabled()
    submit.click()
    expect(page).to_have_url(re.compile(r"/ui/executions/e2e/guarded/\w+/overview$"))
    expect(page.locator(".execution-title .badge")).to_have_text("FAILED")


def test_a_hundred_thousand_log_lines_stay_virtualised(
    ui: UI, lanner: LannerServer, request: pytest.FixtureRequest
) -> None:
    save_flow(lanner, INPUT_FLOW)
    response = lanner.api.post(
        "/executions/e2e/with_inputs", params={"wait": True}, files={"count": (None, "11")}
    )
    execution = response.json()
    task_run = execution["taskRunList"][0]
    entries = [
        {
            "namespace": "e2e",
            "flowId": "with_inputs",
            "taskId": "hello",
            "executionId": execution["id"],
            "taskRunId": task_run["id"],
            "attemptNumber": 1,
            "timestamp": "2026-01-01T00:00:00.000Z",
            "level": "ERROR" if n == 77_777 else "INFO",
            "message": f"line {n}" + ("\nsecond line of a multi-line message" if n == 3 else ""),
        }
        for n in range(100_000)
    ]
    body = json.dumps(entries).encode()

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]

    # The browser fetches the big answer from a local server (route.fulfill would pass 25 MB
    # through the driver's protocol, which takes far longer than the page needs to show it).
    big = serve(app)
    request.addfinalizer(big.close)
    page = ui.page
    page.route(
        f"**/api/v1/main/logs/{execution['id']}",
        lambda route: route.continue_(url=f"{big.url}/logs"),
    )
    ui.open(f"/executions/e2e/with_inputs/{execution['id']}/logs")
    count = page.get_by_test_id("log-count")
    expect(count).to_contain_text("100000 of 100000 lines")
    assert page.locator(".log-row").count() < 200
    expect(page.get_by_test_id("log-scroller")).to_contain_text("second line of a multi-line")

    scroller = page.get_by_test_id("log-scroller")
    started = time.monotonic()
    for fraction in (0.25, 0.5, 0.75, 1.0):
        scroller.evaluate(f"(el) => {{ el.scrollTop = el.scrollHeight * {fraction}; }}")
        page.wait_for_timeout(50)
    expect(scroller).to_contain_text("line 99999")
    assert time.monotonic() - started < 5
    assert page.locator(".log-row").count() < 200
    ui.shot("bottom")

    page.get_by_role("button", name="Next ERROR line").click()
    page.get_by_role("button", name="Previous ERROR line").click()
    expect(page.locator(".log-row.highlight")).to_contain_text("line 77777")

    page.get_by_test_id("log-filter").fill("line 4242")
    expect(count).to_contain_text("11 of 100000 lines")
    page.get_by_test_id("log-level").select_option("ERROR")
    expect(count).to_contain_text("0 of 100000 lines")


def test_revisions_show_a_diff(ui: UI, lanner: LannerServer) -> None:
    save_flow(lanner, SLOW_FLOW)
    save_flow(lanner, SLOW_FLOW.replace("PT2S", "PT1S"))
    ui.open("/flows/edit/e2e/slow_logs/revisions")
    page = ui.page
    diff = page.get_by_role("table", name=re.compile("Differences between revision"))
    expect(diff.locator(".diff-line.added")).to_contain_text("duration: PT1S")
    expect(diff.locator(".diff-line.removed")).to_contain_text("duration: PT2S")
    ui.shot("revisions")


def test_flows_and_executions_lists(ui: UI, lanner: LannerServer) -> None:
    save_flow(lanner, INPUT_FLOW)
    response = lanner.api.post(
        "/executions/e2e/with_inputs", params={"wait": True}, files={"count": (None, "10")}
    )
    response.raise_for_status()
    page = ui.page
    ui.open("/flows?namespace=e2e")
    expect(page.get_by_role("table", name="Flows")).to_contain_text("with_inputs")
    page.get_by_role("searchbox", name="Search").fill("with_in")
    expect(page).to_have_url(re.compile(r"q=with_in"))
    expect(page.locator("tr[data-flow]")).to_have_count(1)
    ui.shot("flows-filtered")

    ui.open("/executions?namespace=e2e&state=SUCCESS")
    table = page.get_by_role("table", name="Executions")
    expect(table.locator(".badge[data-state=SUCCESS]").first).to_be_visible()
    expect(table.locator(".badge[data-state=RUNNING]")).to_have_count(0)
    ui.shot("executions")
    # The row of the execution made above goes; other tests' executions may fill the page.
    row = table.get_by_role("checkbox", name=f"Select {response.json()['id']}")
    row.check()
    page.get_by_role("toolbar", name="Bulk actions").get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(row).to_have_count(0)
    assert lanner.api.get(f"/executions/{response.json()['id']}").status_code == 404

    ui.open("/flows/edit/e2e/with_inputs/overview")
    expect(page.locator(".topology [data-task=hello]")).to_be_visible()
    ui.shot("flow-overview")


def test_keyboard_reaches_the_navigation_and_focus_is_visible(ui: UI) -> None:
    ui.open("/flows")
    page = ui.page
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    focused = page.locator(":focus")
    expect(focused).to_have_text("Flows")
    outline = focused.evaluate("(el) => getComputedStyle(el).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/ui/flows$"))


def accept_completion(page: Page) -> None:
    # CodeMirror ignores Enter for a moment after the list opens, against accidental picks.
    page.wait_for_timeout(300)
    page.keyboard.press("Enter")


def test_the_editor_completes_types_properties_and_expressions(ui: UI) -> None:
    ui.open("/flows/new")
    page = ui.page
    page.locator("[data-testid=flow-editor] .cm-content").get_by_text("Hello World!").click()
    expect(page.locator(".doc-panel")).to_contain_text("io.kestra.plugin.core.log.Log")
    page.keyboard.press("ControlOrMeta+End")
    completions = page.locator(".cm-tooltip-autocomplete")
    page.keyboard.insert_text("  - id: second\n    type: ")
    page.keyboard.type("io.kestra.plugin.core.log.L")
    expect(completions).to_contain_text("io.kestra.plugin.core.log.Log")
    accept_completion(page)
    page.keyboard.insert_text("\n    ")
    page.keyboard.type("mess")
    expect(completions).to_contain_text("message")
    accept_completion(page)
    expect(page.locator(".cm-content")).to_contain_text("message: ")
    page.keyboard.type('"{{ outputs.')
    expect(completions).to_contain_text("hello")
    ui.shot("completion")
    accept_completion(page)
    page.keyboard.type(" }}")
    expect(page.locator(".cm-content")).to_contain_text('message: "{{ outputs.hello }}"')
    expect(page.get_by_test_id("validity")).to_have_text("Valid")


def test_namespace_files_can_be_created_and_edited(ui: UI, lanner: LannerServer) -> None:
    save_flow(lanner, INPUT_FLOW)
    ui.open("/namespaces/e2e/files")
    page = ui.page
    page.get_by_role("button", name="+ File").click()
    page.get_by_role("dialog").get_by_label("Name").fill("notes.yml")
    page.get_by_role("dialog").get_by_role("button", name="Create").click()
    editor = page.locator(".file-editor .cm-content")
    editor.click()
    page.keyboard.insert_text("greeting: hello")
    page.locator(".file-editor").get_by_role("button", name="Save").click()
    expect(page.get_by_role("table", name="Namespace files")).to_contain_text("notes.yml")
    # The file is listed once created (empty); the save that follows lands a moment later.
    deadline = time.monotonic() + 10
    while True:
        content = lanner.api.get("/namespaces/e2e/files", params={"path": "/notes.yml"})
        if content.text == "greeting: hello" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert content.text == "greeting: hello"
    ui.shot("namespace-files")
