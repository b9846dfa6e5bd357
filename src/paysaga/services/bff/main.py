"""Composition root of the BFF."""

import structlog

from paysaga.platform.assembly import build_service, service_database
from paysaga.platform.bootstrap import init_process
from paysaga.platform.runtime import Service, serve_forever
from paysaga.platform.settings import PlatformSettings
from paysaga.services.bff.app import build_app
from paysaga.services.bff.auth import TokenIssuer
from paysaga.services.bff.deps import BffDeps
from paysaga.services.bff.downstream import Downstream
from paysaga.services.bff.idempotency import IdempotencyStore, key_purger
from paysaga.services.bff.settings import DEV_JWT_SECRET, BffSettings

NAME = "bff"


def build(settings: BffSettings | None = None, platform: PlatformSettings | None = None) -> Service:
    settings, platform = settings or BffSettings(), platform or PlatformSettings()
    init_process(NAME, platform)
    if settings.jwt_secret.get_secret_value() == DEV_JWT_SECRET:
        structlog.get_logger("paysaga.bff").warning("bff.dev_jwt_secret", hint="set BFF_JWT_SECRET in production")
    db = service_database(NAME, settings, platform)
    timeout = settings.downstream_timeout_seconds
    customer = Downstream("customer", settings.customer_url, timeout)
    wallet = Downstream("wallet", settings.wallet_url, timeout)
    query = Downstream("query", settings.query_url, timeout)
    keys = IdempotencyStore(db)
    deps = BffDeps(
        tokens=TokenIssuer(settings.jwt_secret.get_secret_value(), settings.jwt_ttl_seconds),
        customer=customer,
        wallet=wallet,
        query=query,
        keys=keys,
    )
    app = build_app(
        deps,
        readiness={"database": db.ping, "customer": customer.healthy, "wallet": wallet.healthy, "query": query.healthy},
    )
    return build_service(
        NAME,
        settings,
        app,
        databases=[db],
        workers={"idempotency-purger": key_purger(keys, retention_seconds=settings.idempotency_retention_seconds)},
        on_close=[customer.close, wallet.close, query.close],
    )


if __name__ == "__main__":
    serve_forever(build)
