"""Debian's Chromium driven by Playwright for the browser tests (never a downloaded browser):
`PAYSAGA_CHROMIUM` names another binary."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Browser, sync_playwright

CHROMIUM = os.environ.get("PAYSAGA_CHROMIUM", "/usr/bin/chromium")


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium for one package of tests. Playwright's sync API runs an event loop of its
    own on this thread while it is open, so no async fixture (pytest-asyncio's) may be set up
    meanwhile: package fixtures open it after the platform and close it with their package."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield browser
        finally:
            browser.close()
