"""Composition root of the BFF."""

from paysaga.platform.assembly import build_service, service_database
from paysaga.platform.bootstrap import init_process
from paysaga.platform.identity import service_identity
from paysaga.platform.runtime import Service, serve_forever
from paysaga.platform.secrets import Secret, require_secrets, reveal, split_secrets
from paysaga.platform.settings import PlatformSettings
from paysaga.services.bff.app import build_app
from paysaga.services.bff.auth import TokenIssuer
from paysaga.services.bff.deps import BffDeps
from paysaga.services.bff.downstream import Downstream
from paysaga.services.bff.idempotency import IdempotencyStore, key_purger
from paysaga.services.bff.settings import BffSettings
from paysaga.services.bff.throttle import AuthThrottle, throttle_purger

NAME = "bff"


def build(settings: BffSettings | None = None, platform: PlatformSettings | None = None) -> Service:
    settings, platform = settings or BffSettings(), platform or PlatformSettings()
    init_process(NAME, platform)
    settings = require_secrets(
        settings, platform, [Secret("jwt_secret", previous="jwt_previous_secrets"), Secret("identity_key")]
    )
    identity = service_identity(NAME, reveal(settings.identity_key), "BFF_IDENTITY_KEY")
    db = service_database(NAME, settings, platform)
    timeout = settings.downstream_timeout_seconds
    customer = Downstream("customer", settings.customer_url, timeout, identity)
    wallet = Downstream("wallet", settings.wallet_url, timeout, identity)
    query = Downstream("query", settings.query_url, timeout, identity)
    keys = IdempotencyStore(db)
    throttle = AuthThrottle(db, settings.throttle_limits())
    deps = BffDeps(
        tokens=TokenIssuer(
            reveal(settings.jwt_secret),
            settings.jwt_ttl_seconds,
            previous=tuple(split_secrets(settings.jwt_previous_secrets)),
        ),
        customer=customer,
        wallet=wallet,
        query=query,
        keys=keys,
        throttle=throttle,
    )
    app = build_app(
        deps,
        readiness={"database": db.ping, "customer": customer.healthy, "wallet": wallet.healthy, "query": query.healthy},
        web_app_dir=settings.web_app_dir,
    )
    return build_service(
        NAME,
        settings,
        app,
        platform=platform,
        databases=[db],
        workers={
            "idempotency-purger": key_purger(keys, retention_seconds=settings.idempotency_retention_seconds),
            "throttle-purger": throttle_purger(throttle),
        },
        on_close=[customer.close, wallet.close, query.close],
    )


if __name__ == "__main__":
    serve_forever(build)
