"""The operator console in a real browser: Debian's Chromium (`/usr/bin/chromium`, never a
downloaded one) driven by Playwright, against the platform the e2e tests run (the Ops service
serves the built console on its own origin)."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Locator, Page, expect

from tests.e2e.test_ops import PASSWORD, create_operator
from tests.support.browser import chromium
from tests.support.platform import RunningPlatform
from tests.support.screenshots import screenshot_path

REPO = Path(__file__).resolve().parents[3]
CONSOLE = REPO / "web" / "console"


@pytest.fixture(scope="package")
def browser(platform: RunningPlatform, web_apps_built: None) -> Iterator[Browser]:
    """Chromium, started once the platform runs and the console is built."""
    with chromium() as launched:
        yield launched


@dataclass
class ConsolePage:
    """A browser tab on the console, with what its console logged (a CSP refusal shows up there)."""

    page: Page
    base_url: str
    errors: list[str] = field(default_factory=list)

    def open(self, path: str) -> None:
        self.page.goto(self.base_url + path)

    def log_in(self, email: str, password: str = PASSWORD) -> None:
        self.page.get_by_label("Email").fill(email)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Log in").click()
        expect(self.page.get_by_role("navigation", name="Main")).to_be_visible()

    def nav(self, name: str) -> None:
        self.page.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()
        expect(self.page.get_by_role("heading", level=1)).to_be_visible()

    def check(self, name: str) -> None:
        """The page as it stands: no serious or critical axe-core violation, no CSP refusal, and its
        screenshot saved as console-<name>.png (see tests/support/screenshots.py for where)."""
        violations = axe_violations(self.page)
        assert violations == [], f"{name}: {json.dumps(violations, indent=1)[:4000]}"
        csp = [e for e in self.errors if "Content Security Policy" in e]
        assert csp == [], csp
        self.page.screenshot(path=str(screenshot_path(f"console-{name}.png")), full_page=True)


AXE = CONSOLE / "node_modules" / "axe-core" / "axe.min.js"


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core (the npm package the console pins) run in the page against WCAG 2.x A/AA: the serious
    and critical violations. Injected through the DevTools protocol, so the page's CSP stays on."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    result: dict[str, Any] = page.evaluate(
        """async () => await window.axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']},
        })"""
    )
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["html"][:200] for n in v["nodes"][:5]]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.fixture
def console(browser: Browser, platform: RunningPlatform) -> Iterator[ConsolePage]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB", timezone_id="UTC")
    page = context.new_page()
    page.set_default_timeout(20_000)
    opened = ConsolePage(page, platform.url("ops"))
    page.on("console", lambda message: _log(opened, message))
    page.on("pageerror", lambda error: opened.errors.append(f"pageerror: {error}"))
    try:
        yield opened
    finally:
        context.close()


def _log(opened: ConsolePage, message: ConsoleMessage) -> None:
    if message.type == "error":
        opened.errors.append(message.text)


@pytest.fixture(scope="module")
def operator_email(platform: RunningPlatform) -> str:
    email = f"console-{uuid.uuid4().hex[:8]}@example.org"
    create_operator(platform, email)
    return email


def row_of(within: Page | Locator, text: str | re.Pattern[str]) -> Locator:
    return within.get_by_role("row").filter(has_text=text)
