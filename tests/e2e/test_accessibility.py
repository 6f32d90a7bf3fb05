"""axe-core, run in the page, finds no serious or critical accessibility violation on the main
pages. Skipped when ui/node_modules/axe-core is not installed (`npm ci --prefix ui`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, expect

from tests.e2e.conftest import UI, LannerServer
from tests.e2e.test_pages import INPUT_FLOW, save_flow
from tests.e2e.test_run_details import CHILD, MEASURED, PARENT, exchange_flow, run, task_run
from tests.httpservers import Server

AXE = Path(__file__).parents[2] / "ui" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = {"serious", "critical"}

if not AXE.exists():
    pytest.skip(f"axe-core is not installed ({AXE})", allow_module_level=True)


def audit(ui: UI, path: str, ready: str) -> None:
    """Open `path`, wait for `ready` (a CSS selector) to show, and run axe-core on the page."""
    ui.open(path)
    page = ui.page
    ready_element: Locator = page.locator(ready).first
    expect(ready_element).to_be_visible()
    page.add_script_tag(path=str(AXE))
    check(ui, path)


def check(ui: UI, path: str) -> None:
    """Run axe-core on the page as it is now (loaded by `audit` for `path`)."""
    page = ui.page
    result: dict[str, Any] = page.evaluate(
        "() => axe.run(document, { resultTypes: ['violations'] })"
    )
    blocking: list[str] = []
    for violation in result["violations"]:
        nodes = violation["nodes"][:5]
        where = "; ".join(f"{node['target']} {node.get('failureSummary', '')!r}" for node in nodes)
        line = f"{violation['impact']}: {violation['id']} ({violation['help']}) on {where}"
        if violation["impact"] in BLOCKING:
            blocking.append(line)
        else:
            print(f"{path}: {line}")
    ui.shot(re.sub(r"\W+", "-", path).strip("-"))
    assert blocking == [], f"{path}:\n" + "\n".join(blocking)


@pytest.fixture
def execution_id(lanner: LannerServer) -> str:
    save_flow(lanner, INPUT_FLOW)
    response = lanner.api.post(
        "/executions/e2e/with_inputs", params={"wait": True}, files={"count": (None, "11")}
    )
    response.raise_for_status()
    identifier: str = response.json()["id"]
    return identifier


def test_flows_list(ui: UI, execution_id: str) -> None:
    audit(ui, "/flows", "table[aria-label=Flows] tbody tr")


def test_flow_editor(ui: UI, execution_id: str) -> None:
    audit(ui, "/flows/edit/e2e/with_inputs/edit", "[data-testid=flow-editor] .cm-content")


def test_executions_list(ui: UI, execution_id: str) -> None:
    audit(ui, "/executions", "table[aria-label=Executions] tbody tr")


@pytest.mark.parametrize(
    ("tab", "ready"),
    [
        ("overview", ".topology [data-task=hello]"),
        ("dependencies", "[aria-label='This flow']"),
        ("triggers", ".filters button"),
        ("metrics", ".flow-metrics .empty"),
    ],
)
def test_flow_tabs(ui: UI, execution_id: str, tab: str, ready: str) -> None:
    audit(ui, f"/flows/edit/e2e/with_inputs/{tab}", ready)


@pytest.mark.parametrize("tab", ["overview", "logs", "topology", "outputs", "metrics"])
def test_execution_page(ui: UI, execution_id: str, tab: str) -> None:
    audit(ui, f"/executions/e2e/with_inputs/{execution_id}/{tab}", ".execution-title .badge")


def test_logs_page(ui: UI, execution_id: str) -> None:
    audit(ui, "/logs", "main h1")


def test_namespace_page(ui: UI, execution_id: str) -> None:
    audit(ui, "/namespaces/e2e/files", "main h1")


@pytest.fixture
def details(lanner: LannerServer, echo: Server) -> dict[str, str]:
    """Executions with metrics, HTTP exchanges and children, by what they show."""
    for source in (MEASURED, exchange_flow(echo), CHILD, PARENT):
        save_flow(lanner, source)
    ids = {name: run(lanner, *flow)["id"] for name, flow in DETAIL_FLOWS.items()}
    exchange = lanner.api.get(f"/executions/{ids['exchange']}").json()
    ids["create_user"] = task_run(exchange, "create_user")["id"]
    return ids


DETAIL_FLOWS = {
    "metrics": ("details.metrics", "measured"),
    "exchange": ("details.http", "exchange"),
    "parent": ("details.family", "parent"),
}


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_run_details(ui: UI, details: dict[str, str], theme: str) -> None:
    ui.page.add_init_script(f"localStorage.setItem('lanner.theme', '{theme}')")
    metrics, exchange, parent = details["metrics"], details["exchange"], details["parent"]
    audit(
        ui, f"/executions/details.metrics/measured/{metrics}/metrics", "table[aria-label=Metrics]"
    )
    audit(ui, "/flows/edit/details.metrics/measured/metrics", ".bar-chart-bar")
    path = (
        f"/executions/details.http/exchange/{exchange}/outputs?taskRunId={details['create_user']}"
    )
    audit(ui, path, "[data-timing=wait]")
    audit(ui, f"/executions/details.family/parent/{parent}/overview", "[data-child]")
    # Subflow nodes: their +/− buttons sit over the selectable nodes, not inside them.
    topology = f"/executions/details.family/parent/{parent}/topology"
    audit(ui, topology, ".subflow-toggle")
    ui.page.get_by_role("button", name="Expand subflow first").click()
    opened = ui.page.locator(".topology [data-cluster=first]")
    expect(opened).to_contain_text("first → details.family.child")
    check(ui, f"{topology}-open")
