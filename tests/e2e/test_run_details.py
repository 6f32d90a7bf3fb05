"""What an execution tells about itself in the browser: its metrics (and a flow's aggregated
ones), the HTTP exchange of its Request task runs with "Copy as cURL", the parent and child
executions, and the Flow, HTTP and Webhook triggers of a flow."""

from __future__ import annotations

import re
import time
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.conftest import UI, LannerServer
from tests.e2e.test_flow_features import wait_state
from tests.e2e.test_pages import execute, save_flow
from tests.httpservers import Server

LOG = "io.kestra.plugin.core.log.Log"
# Eleven counters and a timer: twelve entries, so that ten per page makes two pages.
COUNTERS = "".join(
    f"      - type: counter\n        name: c{index:02d}\n        value: {index}\n"
    for index in range(11)
)
MEASURED = f"""\
id: measured
namespace: details.metrics
inputs:
  - id: rows
    type: INT
    defaults: 1
tasks:
  - id: publish
    type: io.kestra.plugin.core.metric.Publish
    metrics:
      - type: timer
        name: duration
        value: PT1.5S
        tags:
          kind: "{{{{ inputs.rows }}}}"
  - id: count
    type: io.kestra.plugin.core.metric.Publish
    metrics:
      - type: counter
        name: rows
        value: "{{{{ inputs.rows }}}}"
{COUNTERS}"""


def exchange_flow(echo: Server) -> str:
    return f"""\
id: exchange
namespace: details.http
tasks:
  - id: start
    type: {LOG}
    message: calling
  - id: create_user
    type: io.kestra.plugin.core.http.Request
    uri: {echo.url}/api/users
    method: POST
    contentType: application/json
    headers:
      X-Request-Id: "42"
    body: '{{"name": "Bob"}}'
  - id: follow
    type: io.kestra.plugin.core.http.Request
    uri: {echo.url}/redirect
  - id: refused
    type: io.kestra.plugin.core.http.Request
    uri: http://127.0.0.1:1/nowhere
"""


CHILD = f"""\
id: child
namespace: details.family
tasks:
  - id: say
    type: {LOG}
    message: "child of {{{{ trigger.executionId }}}}"
"""
PARENT = """\
id: parent
namespace: details.family
tasks:
  - id: first
    type: io.kestra.plugin.core.flow.Subflow
    namespace: details.family
    flowId: child
  - id: second
    type: io.kestra.plugin.core.flow.Subflow
    namespace: details.family
    flowId: child
"""


def watching_flow(echo: Server) -> str:
    return f"""\
id: watching
namespace: details.watch
tasks:
  - id: say
    type: {LOG}
    message: hi
triggers:
  - id: after_upstream
    type: io.kestra.plugin.core.trigger.Flow
    states: [SUCCESS]
    preconditions:
      flows:
        - namespace: details.watch
          flowId: upstream
  - id: poll
    type: io.kestra.plugin.core.http.Trigger
    uri: {echo.url}/hello
    interval: PT1H
    responseCondition: "{{{{ response.statusCode == 999 }}}}"
  - id: hook
    type: io.kestra.plugin.core.trigger.Webhook
    key: s3cr3tkey
"""


UPSTREAM = f"""\
id: upstream
namespace: details.watch
tasks:
  - id: say
    type: {LOG}
    message: upstream
"""


def run(lanner: LannerServer, namespace: str, flow_id: str, **inputs: str) -> dict[str, Any]:
    files = {name: (None, value) for name, value in inputs.items()}
    response = lanner.api.post(
        f"/executions/{namespace}/{flow_id}", params={"wait": True}, files=files or None
    )
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def task_run(execution: dict[str, Any], task_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(r for r in execution["taskRunList"] if r["taskId"] == task_id)
    return found


def table_rows(page: Page, label: str) -> list[list[str]]:
    rows = page.get_by_role("table", name=label).locator("tbody tr")
    return [row.locator("td").all_inner_texts() for row in rows.all()]


def test_the_metrics_tab_lists_an_executions_metrics_page_by_page(
    ui: UI, lanner: LannerServer
) -> None:
    save_flow(lanner, MEASURED)
    execution = run(lanner, "details.metrics", "measured", rows="7")
    page = ui.page
    ui.open(f"/executions/details.metrics/measured/{execution['id']}/metrics?size=10")
    table = page.get_by_role("table", name="Metrics")
    expect(table.locator("tbody tr")).to_have_count(10)
    expect(page.get_by_text("13 results")).to_be_visible()
    timer = table.locator("tr[data-metric=duration]")
    # The timer is stored in milliseconds and shown as a duration.
    expect(timer.locator("td").nth(3)).to_have_text("1.50s")
    expect(timer).to_contain_text("kind:7")
    page.get_by_role("button", name="Next ›").click()
    expect(table.locator("tbody tr")).to_have_count(3)
    expect(page.get_by_text("Page 2 of 2")).to_be_visible()
    ui.shot("execution-metrics")

    page.get_by_label("Task").select_option("publish")
    expect(page).to_have_url(re.compile(r"metricTask=publish"))
    expect(table.locator("tbody tr")).to_have_count(1)
    assert table_rows(page, "Metrics")[0][:4] == ["publish", "duration", "timer", "1.50s"]


def test_the_flow_metrics_tab_charts_the_aggregates_of_a_metric(
    ui: UI, lanner: LannerServer
) -> None:
    save_flow(lanner, MEASURED)
    for rows in ("3", "5"):
        run(lanner, "details.metrics", "measured", rows=rows)
    page = ui.page
    ui.open("/flows/edit/details.metrics/measured/metrics")
    expect(page.locator(".metric-card[data-metric=duration]")).to_be_visible()
    page.get_by_label("Task").select_option("count")
    page.get_by_label("Metric", exact=True).select_option("rows")
    card = page.locator(".metric-card")
    expect(card).to_have_count(1)
    expect(card.get_by_role("heading")).to_contain_text("sum of rows (count)")
    expect(card.locator(".bar-chart-bar")).to_have_count(1)

    expected = lanner.api.get(
        "/metrics/aggregates/details.metrics/measured/count/rows", params={"aggregation": "max"}
    ).json()
    page.get_by_label("Aggregation").select_option("max")
    expect(card.get_by_role("heading")).to_contain_text("max of rows")
    card.get_by_text("Data table").click()
    values = card.locator("table tbody tr td:nth-child(2)")
    top = expected["aggregations"][0]["value"]
    assert top >= 7
    expect(values).to_have_text([f"{top:g}"])
    title = card.locator(".bar-chart-bar title")
    expect(title).to_have_text(re.compile(rf": {top:g}$"))
    assert "filters%5Bmetric%5D%5BEQUALS%5D=rows" in page.url
    ui.shot("flow-metrics")


def test_the_outputs_show_the_http_exchange_and_copy_it_as_curl(
    ui: UI, lanner: LannerServer, echo: Server
) -> None:
    save_flow(lanner, exchange_flow(echo))
    execution = run(lanner, "details.http", "exchange")
    created = task_run(execution, "create_user")
    page = ui.page
    ui.open(
        f"/executions/details.http/exchange/{execution['id']}/outputs?taskRunId={created['id']}"
    )
    panel = page.get_by_test_id("http-exchange")
    entry = panel.locator("[data-entry='0']")
    expect(entry.get_by_role("heading", level=4)).to_contain_text(f"POST {echo.url}/api/users")
    expect(entry.get_by_test_id("har-status")).to_have_text("201 CREATED")
    request_headers = entry.get_by_role("table", name="Request headers")
    expect(request_headers.locator("tr", has_text="X-Request-Id")).to_contain_text("42")
    expect(entry.get_by_test_id("har-body")).to_have_text('{"name": "Bob"}')
    body_size = len(created["outputs"]["body"])
    expect(entry.get_by_test_id("har-size")).to_contain_text(f"{body_size} B")
    for timing in ("blocked", "connect", "ssl", "send", "wait", "receive"):
        expect(entry.locator(f"[data-timing={timing}]")).to_be_visible()
    expect(entry.locator("[data-timing=ssl]")).to_contain_text("ssl —")

    curl = lanner.api.get(f"/executions/{execution['id']}/taskruns/{created['id']}/curl")
    page.get_by_role("button", name="Copy as cURL").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    expect(page.get_by_test_id("curl-command")).to_have_text(curl.json()["command"])
    ui.shot("http-exchange")

    # A redirect is two entries on one time scale.
    page.get_by_role("option", name=re.compile("^follow")).click()
    expect(panel.locator(".har-entry")).to_have_count(2)
    expect(panel.locator("[data-entry='0'] [data-testid=har-status]")).to_have_text(
        re.compile("^301")
    )
    expect(panel.locator("[data-entry='1']").get_by_role("heading", level=4)).to_contain_text(
        f"GET {echo.url}/hello"
    )


def test_a_failed_request_shows_its_exchange_in_the_gantt(
    ui: UI, lanner: LannerServer, echo: Server
) -> None:
    save_flow(lanner, exchange_flow(echo))
    execution = run(lanner, "details.http", "exchange")
    assert task_run(execution, "refused")["state"]["current"] == "FAILED"
    page = ui.page
    ui.open(f"/executions/details.http/exchange/{execution['id']}/gantt")
    page.get_by_role("button", name="refused", exact=False).first.click()
    page.get_by_role("button", name="HTTP exchange").click()
    panel = page.get_by_test_id("http-exchange")
    expect(panel.get_by_role("heading", level=4)).to_contain_text("GET http://127.0.0.1:1/nowhere")
    expect(panel.get_by_test_id("har-status")).to_have_text("failed")
    expect(panel.get_by_role("note")).to_contain_text("127.0.0.1:1")
    # A task run that is not a Request task run has no such button.
    page.get_by_role("button", name="start", exact=True).click()
    expect(page.get_by_role("button", name="Replay from this task")).to_have_count(2)
    expect(page.get_by_role("button", name="HTTP exchange")).to_have_count(1)
    ui.shot("gantt-exchange")


def test_the_overview_links_parent_and_child_executions(ui: UI, lanner: LannerServer) -> None:
    save_flow(lanner, CHILD)
    save_flow(lanner, PARENT)
    parent = run(lanner, "details.family", "parent")
    children = {task_run(parent, task)["outputs"]["executionId"] for task in ("first", "second")}
    page = ui.page
    ui.open(f"/executions/details.family/parent/{parent['id']}/overview")
    table = page.get_by_role("table", name="Child executions")
    expect(table.locator("tbody tr")).to_have_count(2)
    shown = {row.get_attribute("data-child") for row in table.locator("tbody tr").all()}
    assert shown == children
    expect(table.locator("tbody tr").first).to_contain_text("Subflow")
    ui.shot("children")

    first = task_run(parent, "first")["outputs"]["executionId"]
    table.get_by_role("link", name=first).click()
    expect(page).to_have_url(re.compile(f"/ui/executions/details.family/child/{first}/overview$"))
    link = page.get_by_test_id("parent-execution")
    expect(link).to_contain_text("details.family.parent")
    expect(link).to_contain_text("(task first)")
    link.get_by_role("link").click()
    expect(page).to_have_url(re.compile(f"/ui/executions/details.family/parent/{parent['id']}/"))
    expect(page.get_by_role("table", name="Child executions")).to_be_visible()


def test_flow_http_and_webhook_triggers_show_in_the_triggers_tab(
    ui: UI, lanner: LannerServer, echo: Server
) -> None:
    save_flow(lanner, UPSTREAM)
    save_flow(lanner, watching_flow(echo))
    upstream = execute(lanner, "details.watch", "upstream", wait=True)
    page = ui.page
    ui.open("/flows/edit/details.watch/watching/triggers")
    flow_row = page.locator("[data-trigger-row=after_upstream]")
    expect(flow_row.get_by_test_id("trigger-type")).to_have_text("Flow")
    expect(flow_row.get_by_test_id("trigger-summary")).to_have_text(
        "when details.watch.upstream ends in SUCCESS"
    )
    poll = page.locator("[data-trigger-row=poll]")
    expect(poll.get_by_test_id("trigger-type")).to_have_text("HTTP Trigger")
    expect(poll.get_by_test_id("trigger-summary")).to_contain_text(
        f"GET {echo.url}/hello every PT1H"
    )
    hook = page.locator("[data-trigger-row=hook]")
    expect(hook.get_by_test_id("trigger-summary")).to_have_text(
        f"POST {lanner.url}/api/v1/main/executions/webhook/details.watch/watching/s3cr3tkey"
    )
    # The Flow trigger fired once upstream ended: its run is linked.
    started = wait_for_trigger_execution(lanner, "after_upstream")
    assert started != upstream
    page.reload()
    link = flow_row.get_by_test_id("trigger-execution")
    expect(link).to_have_attribute(
        "href", f"/ui/executions/details.watch/watching/{started}/overview"
    )
    ui.shot("event-triggers")

    page.get_by_role("button", name="Disable trigger after_upstream").click()
    expect(flow_row.get_by_test_id("trigger-status")).to_have_text("disabled")
    page.get_by_role("button", name="Disable trigger poll").click()
    expect(poll.get_by_test_id("trigger-status")).to_have_text("disabled")
    found = lanner.api.get("/triggers/search", params={"flowId": "watching"}).json()["results"]
    assert {row["triggerId"]: row["disabled"] for row in found} == {
        "after_upstream": True,
        "poll": True,
        "hook": False,
    }


def wait_for_trigger_execution(lanner: LannerServer, trigger_id: str) -> str:
    """The execution the trigger started, once its state names one."""
    for _ in range(200):
        rows = lanner.api.get("/triggers/search", params={"flowId": "watching"}).json()
        row = next(r for r in rows["results"] if r["triggerId"] == trigger_id)
        if row.get("executionId"):
            identifier: str = row["executionId"]
            wait_state(lanner, identifier, "SUCCESS")
            return identifier
        time.sleep(0.1)
    raise AssertionError(f"trigger {trigger_id} started no execution")
