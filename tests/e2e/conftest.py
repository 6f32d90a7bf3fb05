"""Browser tests: a real `lanner server local` and Debian's Chromium driven by Playwright.

Skipped (not failed) when Playwright or the browser is missing. Screenshots of every page go
to tests/e2e/artifacts/ (git-ignored). Each test fails on any console error of the page.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.httpservers import MockApp, Server, serve

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page

CHROMIUM = os.environ.get("LANNER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).parent / "artifacts"

pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
if not Path(CHROMIUM).exists():
    pytest.skip(f"no Chromium at {CHROMIUM}", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class LannerServer:
    """A `lanner server local` process on 127.0.0.1."""

    url: str
    process: subprocess.Popen[bytes]
    home: Path
    api: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.api = httpx.Client(base_url=f"{self.url}/api/v1/main", timeout=30)


@pytest.fixture(scope="session")
def lanner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LannerServer]:
    home = tmp_path_factory.mktemp("lanner-home")
    port = free_port()
    log = (home / "server.log").open("wb")
    command = [sys.executable, "-m", "lanner", "server", "local", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--home", str(home)]
    process = subprocess.Popen(
        command,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = LannerServer(f"http://127.0.0.1:{port}", process, home)
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{server.url}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            process.wait()
            log.close()
            raise RuntimeError((home / "server.log").read_text(errors="replace"))
        time.sleep(0.1)
    try:
        yield server
    finally:
        server.api.close()
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope="session")
def echo() -> Iterator[Server]:
    """The mock HTTP server: `POST /api/users` echoes the JSON body with an id."""
    server = serve(MockApp())
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium for one test module: Playwright's driver runs an event loop in this thread,
    which must be stopped before any asyncio test of the session runs."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class UI:
    """A browser page on the lanner UI, recording console errors and taking screenshots."""

    page: Page
    base: str
    name: str
    errors: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)

    def expect_console_error(self, text: str) -> None:
        """Allow console errors containing `text` (the browser logs every HTTP error status)."""
        self.expected.append(text)

    def unexpected_errors(self) -> list[str]:
        return [error for error in self.errors if not any(text in error for text in self.expected)]

    def open(self, path: str) -> None:
        self.page.goto(f"{self.base}/ui{path}")

    def shot(self, label: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{self.name}-{label}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def ui(browser: Browser, lanner: LannerServer, request: pytest.FixtureRequest) -> Iterator[UI]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(15_000)
    session = UI(page, lanner.url, request.node.name)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            session.errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: session.errors.append(str(error)))
    try:
        yield session
    finally:
        context.close()
    assert session.unexpected_errors() == [], "console errors in the page"
