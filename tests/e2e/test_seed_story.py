"""The user's story in the browser: write the seed flow, execute it with other inputs, watch
the logs, and debug its outputs by rendering expressions against the finished execution."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import UI, LannerServer
from tests.httpservers import Server

SEED = Path(__file__).resolve().parents[3] / "shared" / "seed" / "flows_http_post.yml"
FLOW_URL = "/flows/edit/example/http_post_request_example"
FALLBACK_SEED = """\
id: http_post_request_example
namespace: example
description: Make a HTTP Request and Handle the Output

inputs:
  - id: payload
    type: JSON
    defaults: |
      {"name": "Bob", "job": "Developer"}

tasks:
  - id: send_data
    type: io.kestra.plugin.fs.http.Request
    uri: https://reqres.in/api/users
    method: POST
    contentType: application/json
    body: "{{ inputs.payload }}"

  - id: print_status
    type: io.kestra.core.tasks.log.Log
    message: "{{ outputs.send_data.body }}"
"""


def seed_flow(echo: Server) -> str:
    """The seed POST flow, unchanged but for its URL, which points at the local echo server."""
    text = SEED.read_text() if SEED.is_file() else FALLBACK_SEED
    return text.replace("https://reqres.in", echo.url)


def replace_editor_text(page: Page, editor: str, text: str) -> None:
    """Replace the whole content of the CodeMirror editor inside `editor` (a selector)."""
    content = page.locator(f"{editor} .cm-content")
    content.click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(text)


def tab(page: Page, name: str) -> Locator:
    return page.get_by_role("navigation", name="Execution").get_by_role("link", name=name)


def render(page: Page, expression: str) -> None:
    replace_editor_text(page, "[data-testid=debug-editor]", expression)
    page.keyboard.press("ControlOrMeta+Enter")


def test_seed_story(ui: UI, echo: Server, lanner: LannerServer) -> None:
    page = ui.page
    ui.open("/flows")
    expect(page.get_by_role("heading", name="Flows")).to_be_visible()
    ui.shot("01-flows")

    # Write the flow: a typo is marked at its line, then the seed flow validates.
    page.get_by_role("link", name="+ Create").click()
    expect(page).to_have_url(re.compile(r"/ui/flows/new$"))
    flow = seed_flow(echo)
    replace_editor_text(
        page, "[data-testid=flow-editor]", flow.replace("method: POST", "methd: POST")
    )
    problem = page.locator(".problems .problem.error").first
    expect(problem).to_contain_text('Unrecognized field "methd"')
    typo_line = flow.splitlines().index("    method: POST") + 1
    expect(problem).to_contain_text(f"{typo_line}:5")
    expect(page.locator(".cm-lintRange-error")).to_have_count(1)
    ui.shot("02-editor-validation")
    replace_editor_text(page, "[data-testid=flow-editor]", flow)
    expect(page.get_by_test_id("validity")).to_have_text("Valid")
    expect(page.locator(".problems")).to_contain_text(
        "is replaced by io.kestra.plugin.core.log.Log"
    )
    page.locator(".cm-content").get_by_text("print_status").click()
    expect(page.locator(".doc-panel")).to_contain_text("io.kestra.core.tasks.log.Log")
    ui.shot("03-editor-valid")
    page.locator("[data-action=save]").click()
    expect(page).to_have_url(re.compile(f"/ui{FLOW_URL}/edit$"))

    # Execute with the input changed.
    page.locator("[data-action=execute]").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_test_id("input-payload")).to_contain_text('"name": "Bob"')
    replace_editor_text(page, "[data-testid=input-payload]", '{"name": "Alice", "job": "Engineer"}')
    ui.shot("04-execute-form")
    dialog.locator("[data-action=execute-submit]").click()
    expect(page).to_have_url(
        re.compile(r"/ui/executions/example/http_post_request_example/\w+/overview$")
    )
    expect(page.locator(".execution-title .badge")).to_have_text("SUCCESS")
    expect(page.get_by_test_id("execution-facts")).to_contain_text("SUCCESS")
    expect(page.get_by_role("table", name="Inputs")).to_contain_text('"Alice"')
    ui.shot("05-execution-overview")

    tab(page, "Gantt").click()
    expect(page.locator("[data-taskrun]")).to_have_count(2)
    ui.shot("06-gantt")

    tab(page, "Logs").click()
    expect(page.get_by_test_id("log-scroller")).to_contain_text('{"name":"Alice","job":"Engineer"')
    ui.shot("07-logs")

    tab(page, "Topology").click()
    expect(page.locator(".topology [data-task=send_data]")).to_have_class(
        re.compile("state-success")
    )
    ui.shot("08-topology")

    # Debug Outputs: render expressions against the finished execution.
    tab(page, "Outputs").click()
    page.get_by_role("option", name="send_data").click()
    expect(page.get_by_test_id("debug-editor")).to_contain_text("{{ outputs.send_data }}")
    page.locator(".outputs-column[aria-label=Output] [data-key=body]").click()
    expect(page.get_by_test_id("debug-editor")).to_contain_text("{{ outputs.send_data.body }}")
    page.get_by_test_id("debug-render").click()
    result = page.get_by_test_id("debug-result")
    expect(result).to_have_attribute("data-format", "json")
    expect(result.locator(".json-view")).to_contain_text('"name": "Alice"')
    ui.shot("09-outputs-debug-json")

    render(page, "{{ fromJson(outputs.send_data.body).name }}")
    expect(result).to_have_attribute("data-format", "text")
    expect(result.locator(".value-text")).to_have_text("Alice")
    ui.shot("10-outputs-debug-text")

    render(page, "{{ nope }}")
    error = page.get_by_test_id("debug-error")
    expect(error.locator(".error-message")).to_have_text(
        "Unable to find `nope` used in the expression `{{ nope }}` at line 1"
    )
    error.locator("summary").click()
    expect(error.locator(".stack-trace")).to_contain_text("Unable to find `nope`")
    ui.shot("11-outputs-debug-error")

    # The same page in the dark theme, and in a narrow window.
    page.get_by_role("button", name=re.compile("Switch to dark theme")).click()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    ui.shot("12-outputs-dark")
    page.set_viewport_size({"width": 420, "height": 900})
    expect(page.get_by_role("button", name="Menu")).to_be_visible()
    ui.shot("13-outputs-narrow")
