"""Each main screen: checked with axe-core (injected by the `page` fixture), then photographed."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page

from tests.support.screenshots import screenshot_path

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical WCAG 2.x A/AA violations on the page as it is now."""
    found: list[dict[str, Any]] = page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, { runOnly: { type: "tag", values: tags } });
            return result.violations
                .filter((v) => v.impact === "serious" || v.impact === "critical")
                .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target) }));
        }""",
        AXE_TAGS,
    )
    return found


def screen(page: Page, name: str) -> None:
    """Check the page with axe-core, then save its screenshot (the README's with PAYSAGA_UPDATE_SCREENSHOTS=1)."""
    assert serious_violations(page) == [], name
    page.screenshot(path=str(screenshot_path(f"customer-{name}.png")), full_page=True)
