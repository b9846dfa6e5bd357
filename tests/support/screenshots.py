"""Where the browser tests save their screenshots: `docs/screenshots/` (the README's) only when
`PAYSAGA_UPDATE_SCREENSHOTS=1` asks to update them, otherwise the test state folder
(`<state dir>/test/screenshots/`), so an ordinary test run leaves the git tree clean."""

from __future__ import annotations

import os
from pathlib import Path

from paysaga.devstack.paths import state_dir

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs" / "screenshots"


def screenshot_path(name: str) -> Path:
    """The file a screenshot named `name` (e.g. `console-login.png`) goes to; its folder exists."""
    folder = DOCS if os.environ.get("PAYSAGA_UPDATE_SCREENSHOTS") == "1" else state_dir() / "test" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name
