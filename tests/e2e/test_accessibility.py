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
    ],
)
def test_flow_tabs(ui: UI, execution_id: str, tab: str, ready: str) -> None:
    audit(ui, f"/flows/edit/e2e/with_inputs/{tab}", ready)


@pytest.mark.parametrize("tab", ["overview", "logs", "topology", "outputs"])
def test_execution_page(ui: UI, execution_id: str, tab: str) -> None:
    audit(ui, f"/executions/e2e/with_inputs/{execution_id}/{tab}", ".execution-title .badge")


def test_logs_page(ui: UI, execution_id: str) -> None:
    audit(ui, "/logs", "main h1")


def test_namespace_page(ui: UI, execution_id: str) -> None:
    audit(ui, "/namespaces/e2e/files", "main h1")
