"""Web UI benchmark: page-ready times and the logs tab with 100,000 lines, in headless Chromium.

Starts `lanner server local` on a free port with a temporary home, seeds flows and executions
over the API, then drives Debian's Chromium through Playwright:

* time until the flows table, and until an execution's header, is visible (median of 5 loads);
* the logs tab of an execution with 100,000 log lines: time until every line is counted, a
  scripted scroll to the bottom and back, and the page's JS heap (CDP `Performance.getMetrics`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect, sync_playwright

from bench.server import API, lanner_server

expect.set_options(timeout=120_000)

CHROMIUM = os.environ.get("LANNER_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
LINES = 100_000

SMALL_FLOW = """\
id: hello_{n}
namespace: bench.ui
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: hello {n}
"""


def big_flow(lines: int) -> str:
    messages = json.dumps([f"line {n}" for n in range(lines)])
    return f"""\
id: many_logs
namespace: bench.ui
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: {messages}
"""


def seed(url: str, lines: int) -> tuple[str, str]:
    """Create 20 small flows with an execution each and the big-log flow; return the id of one
    small execution and of the big one."""
    headers = {"Content-Type": "application/x-yaml"}
    with httpx.Client(base_url=f"{url}{API}", timeout=600) as api:
        small = ""
        for n in range(20):
            api.post("/flows", content=SMALL_FLOW.format(n=n), headers=headers).raise_for_status()
            response = api.post(f"/executions/bench.ui/hello_{n}", params={"wait": True})
            response.raise_for_status()
            small = response.json()["id"]
        api.post("/flows", content=big_flow(lines), headers=headers).raise_for_status()
        started = time.monotonic()
        response = api.post("/executions/bench.ui/many_logs", params={"wait": True})
        response.raise_for_status()
        big: str = response.json()["id"]
        print(f"seeded an execution of {lines} log lines in {time.monotonic() - started:.1f} s")
        started = time.monotonic()
        size = len(api.get(f"/logs/{big}").raise_for_status().content)
        took = time.monotonic() - started
        print(f"GET /logs/{{id}} alone (no browser): {size / 2**20:.1f} MB in {took * 1000:.0f} ms")
        return small, big


def timed(page: Page, url: str, ready: Callable[[Page], None]) -> float:
    started = time.perf_counter()
    page.goto(url, wait_until="commit")
    ready(page)
    return time.perf_counter() - started


def median_load(page: Page, url: str, ready: Callable[[Page], None], loads: int) -> list[float]:
    page.goto("about:blank")
    return [timed(page, url, ready) for _ in range(loads)]


def heap_mb(page: Page) -> tuple[float, float]:
    """The page's JS heap, used and total, in MB (CDP Performance.getMetrics)."""
    session = page.context.new_cdp_session(page)
    session.send("Performance.enable")
    metrics = {m["name"]: m["value"] for m in session.send("Performance.getMetrics")["metrics"]}
    session.detach()
    return metrics["JSHeapUsedSize"] / 2**20, metrics["JSHeapTotalSize"] / 2**20


def report(label: str, seconds: list[float], target: float) -> None:
    median = statistics.median(seconds)
    spread = f"{min(seconds) * 1000:.0f}–{max(seconds) * 1000:.0f} ms"
    verdict = "ok" if median < target else "OVER TARGET"
    print(f"{label}: median {median * 1000:.0f} ms ({spread}), target < {target:.0f} s: {verdict}")


def run(loads: int, lines: int) -> None:
    with tempfile.TemporaryDirectory() as home, lanner_server(Path(home)) as url:
        small, big = seed(url, lines)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            page.set_default_timeout(120_000)

            def flows_ready(page: Page) -> None:
                expect(page.locator("table[aria-label=Flows] tbody tr").first).to_be_visible()

            def execution_ready(page: Page) -> None:
                expect(page.locator(".execution-title .badge")).to_be_visible()

            flows = median_load(page, f"{url}/ui/flows", flows_ready, loads)
            report("flows list ready", flows, 1)
            execution_url = f"{url}/ui/executions/bench.ui/hello_19/{small}/overview"
            report(
                "execution page ready", median_load(page, execution_url, execution_ready, loads), 1
            )

            def logs_ready(page: Page) -> None:
                count = page.get_by_test_id("log-count")
                expect(count).to_contain_text(f"{lines} of {lines} lines")

            logs_url = f"{url}/ui/executions/bench.ui/many_logs/{big}/logs"
            report(
                f"logs tab with {lines} lines ready",
                median_load(page, logs_url, logs_ready, loads),
                1,
            )

            scroller = page.get_by_test_id("log-scroller")
            started = time.perf_counter()
            scroller.evaluate("(el) => { el.scrollTop = el.scrollHeight; }")
            expect(scroller).to_contain_text(f"line {lines - 1}")
            down = time.perf_counter() - started
            started = time.perf_counter()
            scroller.evaluate("(el) => { el.scrollTop = 0; }")
            expect(scroller).to_contain_text("line 0")
            up = time.perf_counter() - started
            rows = page.locator(".log-row").count()
            print(f"scroll to the bottom {down * 1000:.0f} ms, back to the top {up * 1000:.0f} ms")
            print(f"rendered rows: {rows}")
            used, total = heap_mb(page)
            verdict = "ok" if total < 300 else "OVER TARGET"
            heap = f"used {used:.0f} MB, total {total:.0f} MB"
            print(f"logs tab JS heap: {heap}, target < 300 MB: {verdict}")
            browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--loads", type=int, default=5, help="page loads per median")
    parser.add_argument("--lines", type=int, default=LINES, help="log lines of the big execution")
    args = parser.parse_args()
    run(args.loads, args.lines)


if __name__ == "__main__":
    main()
