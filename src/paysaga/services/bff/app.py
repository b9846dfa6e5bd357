"""The BFF's public REST API (SPEC §7), and the customer web app on the same origin (SPEC §10)."""

from fastapi import FastAPI

from paysaga.platform.http import ReadinessCheck, create_app
from paysaga.platform.web_app import default_dist, mount_web_app
from paysaga.services.bff import routes_auth, routes_payments, routes_wallet
from paysaga.services.bff.deps import BffDeps

# The customer app's own routes (web/customer/src/App.tsx): each answers with the app's index.html.
WEB_APP_ROUTES = [
    "/login",
    "/register",
    "/wallet",
    "/pay",
    "/payments",
    "/payments/{payment_id}",
    "/payments/{payment_id}/receipt",
]


def build_app(deps: BffDeps, readiness: dict[str, ReadinessCheck], web_app_dir: str = "") -> FastAPI:
    app = create_app(
        title="PaySaga API",
        description="Public REST API: registration, login, wallet and payouts. Errors are RFC 9457 problems.",
        readiness=readiness,
    )
    app.state.tokens = deps.tokens  # for `deps.current_user`
    for module in (routes_auth, routes_wallet, routes_payments):
        app.include_router(module.router(deps))
    mount_web_app(app, web_app_dir or default_dist("customer"), WEB_APP_ROUTES)
    return app
