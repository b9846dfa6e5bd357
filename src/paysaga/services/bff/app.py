"""The BFF's public REST API (SPEC §7), and the customer web app on the same origin (SPEC §10)."""

from pathlib import Path

from fastapi import FastAPI

from paysaga.platform.http import ReadinessCheck, create_app
from paysaga.platform.webapp import WebApp, mount_webapp
from paysaga.services.bff import routes_auth, routes_introspection, routes_payments, routes_wallet
from paysaga.services.bff.deps import BffDeps

CUSTOMER_APP_DIST = Path(__file__).resolve().parents[4] / "web" / "customer" / "dist"


def customer_app(dist: str = "") -> WebApp:
    """The customer app built in `dist` (`BFF_WEB_APP_DIR`; this checkout's web/customer/dist by default)."""
    return WebApp(
        name="customer app",
        dist=Path(dist) if dist else CUSTOMER_APP_DIST,
        api_prefixes=("/api/", "/internal/"),
        build_hint="Build it with `npm ci && npm run build` in web/customer (`make run` builds it when stale).",
    )


def build_app(deps: BffDeps, readiness: dict[str, ReadinessCheck], web_app_dir: str = "") -> FastAPI:
    app = create_app(
        title="PaySaga API",
        description="Public REST API: registration, login, wallet and payouts. Errors are RFC 9457 problems.",
        readiness=readiness,
    )
    app.state.tokens = deps.tokens  # for `deps.current_user`
    for module in (routes_auth, routes_wallet, routes_payments, routes_introspection):
        app.include_router(module.router(deps))
    mount_webapp(app, customer_app(web_app_dir))  # last: the API's routes come first
    return app
