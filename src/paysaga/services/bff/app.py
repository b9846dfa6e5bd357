"""The BFF's public REST API (SPEC §7)."""

from fastapi import FastAPI

from paysaga.platform.http import ReadinessCheck, create_app
from paysaga.services.bff import routes_auth, routes_introspection, routes_payments, routes_wallet
from paysaga.services.bff.deps import BffDeps


def build_app(deps: BffDeps, readiness: dict[str, ReadinessCheck]) -> FastAPI:
    app = create_app(
        title="PaySaga API",
        description="Public REST API: registration, login, wallet and payouts. Errors are RFC 9457 problems.",
        readiness=readiness,
    )
    app.state.tokens = deps.tokens  # for `deps.current_user`
    for module in (routes_auth, routes_wallet, routes_payments, routes_introspection):
        app.include_router(module.router(deps))
    return app
