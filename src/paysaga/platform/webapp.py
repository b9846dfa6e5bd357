"""A built single-page app served on its API's origin (SPEC §10): the Ops service serves the operator
console, the BFF the customer app.

`mount_webapp(app, WebApp(...))` adds one catch-all GET route, after every API route: a file of the
build folder is served as it is, any other path (a route of the app: `/payments/…`) gets
`index.html`, so a reload or a shared link opens the right view. The API's own prefixes never fall
through to it: an unknown `/ops/v1/...` path stays a 404 problem, a wrong method a 405.

- Cache: Vite names every file under `assets/` by its content hash, so those are cached for a year
  (`immutable`); `index.html` and the other top-level files are revalidated on every load
  (`no-cache`), so a new build is picked up at once.
- Headers: a Content-Security-Policy without inline script or style (the build has none), no
  framing, no sniffing, no referrer.
- Not built: the service still starts; `/` and the app's routes answer a 503 problem that says how
  to build it (`build_hint`).
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Match, Route
from starlette.types import Scope

from paysaga.platform.problems import PROBLEM_MEDIA_TYPE, Problem

HASHED_ASSETS = "assets/"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}

mimetypes.add_type("text/javascript", ".js")  # some systems' tables still say application/x-javascript
mimetypes.add_type("image/svg+xml", ".svg")


@dataclass(frozen=True)
class WebApp:
    """A built SPA: its folder (with `index.html`), the path prefixes that belong to the API, and
    what to tell whoever opens it unbuilt."""

    name: str
    dist: Path
    api_prefixes: tuple[str, ...]
    build_hint: str


def mount_webapp(app: Starlette, webapp: WebApp) -> None:
    """Serve `webapp` on every GET/HEAD path no earlier route took (call it after the API's routes).
    A plain Starlette route: it is no API operation, so it stays out of the OpenAPI document."""
    app.router.routes.append(_WebAppRoute(webapp))


def resolve(webapp: WebApp, path: str) -> tuple[Path, str] | None:
    """The file to answer `path` with and its Cache-Control; None when the app is not built."""
    root = webapp.dist.resolve()
    index = root / "index.html"
    if not index.is_file():
        return None
    relative = path.lstrip("/")
    if relative:
        candidate = (root / relative).resolve()
        if candidate.is_relative_to(root) and candidate.is_file():
            hashed = candidate.relative_to(root).as_posix().startswith(HASHED_ASSETS)
            return candidate, IMMUTABLE if hashed else REVALIDATE
        if relative.startswith(HASHED_ASSETS):
            return root / relative, ""  # a missing asset is a 404, not the page
    return index, REVALIDATE


class _WebAppRoute(Route):
    def __init__(self, webapp: WebApp) -> None:
        self.webapp = webapp
        super().__init__("/{path:path}", self._serve, methods=["GET", "HEAD"], include_in_schema=False)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path: str = scope.get("path", "")
        if scope["type"] == "http" and any(path.startswith(p) for p in self.webapp.api_prefixes):
            return Match.NONE, {}
        return super().matches(scope)

    async def _serve(self, request: Request) -> Response:
        found = resolve(self.webapp, request.url.path)
        if found is None:
            return _problem(
                Problem(503, "app-not-built", f"The {self.webapp.name} is not built", self.webapp.build_hint),
                request,
            )
        file, cache = found
        if not cache:
            return _problem(Problem(404, "not-found", "Not found", f"No file {request.url.path}"), request)
        return FileResponse(file, headers={"Cache-Control": cache, **SECURITY_HEADERS})


def _problem(problem: Problem, request: Request) -> JSONResponse:
    return JSONResponse(
        problem.body(instance=request.url.path),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers={"Cache-Control": "no-store"},
    )
