"""Serving a built single-page app (`web/<app>/dist`, `npm run build`) on its API's own origin.

`index.html` answers the app's routes and is revalidated on every load (`no-cache`, with an ETag),
so a new build is picked up at once; the files under `assets/` carry a content hash in their
names and are cached for a year (`immutable`). Every answer carries a Content-Security-Policy
that allows scripts and styles from this origin only (no inline script, no eval), and the API on
the same origin only for fetches. Routes not named here stay the API's (a JSON 404 problem).
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse

from paysaga.platform.problems import not_found

REPO_ROOT = Path(__file__).resolve().parents[3]

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
_ASSET = re.compile(r"^[A-Za-z0-9._-]+$")


def default_dist(app_name: str) -> str:
    """Where `npm run build` writes the app `web/<app_name>` in this checkout."""
    return str(REPO_ROOT / "web" / app_name / "dist")


def mount_web_app(app: FastAPI, dist: str | Path, routes: list[str]) -> None:
    """Serve the app built in `dist`: `index.html` at `/` and at each of its `routes` (FastAPI path
    patterns, e.g. `/payments/{payment_id}`), its hashed files at `/assets/<name>`."""
    root = Path(dist)

    def index() -> FileResponse:
        page = root / "index.html"
        if not page.is_file():
            raise not_found(f"The web app is not built: no {page} (`make run` builds it).")
        return FileResponse(page, media_type="text/html", headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})

    async def asset(name: str) -> FileResponse:
        file = root / "assets" / name
        if not _ASSET.match(name) or not file.is_file():
            raise not_found(f"no asset {name}")
        cache = "public, max-age=31536000, immutable"
        return FileResponse(file, headers={**SECURITY_HEADERS, "Cache-Control": cache})

    async def page() -> FileResponse:
        return index()

    app.add_api_route("/assets/{name}", asset, methods=["GET", "HEAD"], include_in_schema=False)
    for route in ["/", *routes]:
        app.add_api_route(route, page, methods=["GET", "HEAD"], include_in_schema=False)
