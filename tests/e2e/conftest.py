"""End-to-end fixtures: a real ``callbox up`` on loopback and real headless Chromium driven by Playwright.

Chromium is Debian's (``/usr/bin/chromium``); Playwright's own browser downloads are never used. Every page a test
opens fails the test on any JavaScript console error or uncaught exception.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import requests

from appliance.cli import main
from tests.processes import free_port, kill_quietly, start_callbox, started_pids, stop, wait_until

CHROMIUM = os.environ.get("CALLBOX_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--autoplay-policy=no-user-gesture-required"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "ui"
DEMO_EMAIL, DEMO_PASSWORD = "demo@callbox.local", "demo-password"
WIDTHS = {"desktop": (1280, 900), "phone": (375, 812)}

sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (Python package) for browser tests")
if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists():
    pytest.skip(f"Debian chromium is not installed at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)


def _healthy(base: str) -> bool:
    try:
        return requests.get(f"{base}/api/v1/health", timeout=2).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture(scope="session")
def callbox_data_dir(tmp_path_factory) -> Path:
    """The data directory ``callbox up`` runs on."""
    return tmp_path_factory.mktemp("e2e") / "data"


@pytest.fixture(scope="session")
def callbox(callbox_data_dir):
    """``callbox up`` with the demo data on free loopback ports; its base URL."""
    data, log, port = callbox_data_dir, callbox_data_dir.parent / "up.log", free_port()
    assert main(["init", "--data-dir", str(data), "--demo"]) == 0
    env = {"CALLBOX_VOICE_ENABLED": "false", "CALLBOX_RATELIMIT_PER_USER": "100000/hour"}
    proc = start_callbox(["up", "--data-dir", str(data), "--port", str(port), "--sip-port", str(free_port())],
                         log, env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _healthy(base), 90, 0.25, "callbox up to answer /api/v1/health")
        yield base
    finally:
        children = [pid for _, pid in started_pids(log)]
        stop(proc, timeout=30)
        for pid in children:
            kill_quietly(pid)
        text = log.read_text(errors="replace")
        assert "Traceback" not in text, text[-4000:]


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium."""
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


class ConsoleWatch:
    """Collects JavaScript console errors and uncaught exceptions of a page."""

    def __init__(self, page):
        self.errors: list[str] = []
        page.on("console", lambda msg: self.errors.append(f"console.{msg.type}: {msg.text} ({msg.location})")
                if msg.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))


def open_page(browser, base: str, width: str = "desktop"):
    """A fresh browser context (its own cookies) and page, with console errors watched."""
    w, h = WIDTHS[width]
    context = browser.new_context(viewport={"width": w, "height": h}, base_url=base, locale="en-US",
                                  timezone_id="America/New_York")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.console = ConsoleWatch(page)
    return context, page


@pytest.fixture
def page(browser, callbox):
    """A desktop-sized page; the test fails on any JavaScript error."""
    context, tab = open_page(browser, callbox)
    yield tab
    errors = tab.console.errors
    context.close()
    assert not errors, errors


def sign_in(page, email: str = DEMO_EMAIL, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the form and land on the dashboard."""
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")
    assert page.get_by_role("heading", name="Dashboard").is_visible()


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under tests/artifacts/ui/ (git-ignored, kept by CI)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
