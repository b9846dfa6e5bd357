"""The browser tests: Debian's Chromium driven by Playwright (never a downloaded browser), against
the platform of tests/e2e (this package sits inside it, so its package-scoped `platform` starts
once for both). One browser for the package; a fresh context (cookies, storage) per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.support.browser import chromium
from tests.support.platform import RunningPlatform

REPO = Path(__file__).resolve().parents[3]
CUSTOMER_APP = REPO / "web" / "customer"
AXE = CUSTOMER_APP / "node_modules" / "axe-core" / "axe.min.js"  # pinned in web/customer/package.json


@pytest.fixture(scope="package")
def browser(platform: RunningPlatform, web_apps_built: None) -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def app_url(platform: RunningPlatform) -> str:
    return platform.url("bff")


@pytest.fixture
def page(browser: Browser, app_url: str) -> Iterator[Page]:
    context = browser.new_context(base_url=app_url, locale="en-GB", viewport={"width": 1200, "height": 900})
    # axe-core is injected through the DevTools protocol, which the app's CSP does not govern.
    context.add_init_script(path=str(AXE))
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()
