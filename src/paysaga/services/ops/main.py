"""Composition root of the Ops service (the operators' backend and the operator console)."""

from pathlib import Path

from paysaga.contracts.identities import OPS
from paysaga.platform.assembly import build_service, service_database
from paysaga.platform.bootstrap import init_process
from paysaga.platform.identity import service_identity
from paysaga.platform.kafka import kafka_access
from paysaga.platform.passwords import PasswordHashing
from paysaga.platform.runtime import Service, serve_forever
from paysaga.platform.secrets import Secret, require_secrets, reveal, split_secrets
from paysaga.platform.settings import PlatformSettings
from paysaga.platform.webapp import WebApp
from paysaga.services.ops import metrics
from paysaga.services.ops.app import OpsDeps, build_app
from paysaga.services.ops.auth import OperatorTokens
from paysaga.services.ops.cases import ReconciliationCases
from paysaga.services.ops.customer_tokens import CustomerTokens
from paysaga.services.ops.dead_letters import DeadLetters, ScanLimits
from paysaga.services.ops.fleet import FleetView
from paysaga.services.ops.kafka_clients import OpsKafka
from paysaga.services.ops.peers import Peers, parse_service_urls
from paysaga.services.ops.reconciling import Reconciler
from paysaga.services.ops.saga import SagaView
from paysaga.services.ops.settings import OpsSettings
from paysaga.services.ops.stuck import StuckView
from paysaga.services.ops.throttle import LoginLimits, LoginThrottle, purger

NAME = "ops"
# The operator console, built by `npm run build` in web/console (SPEC §10: on the API's origin).
CONSOLE = WebApp(
    name="operator console",
    dist=Path(__file__).resolve().parents[4] / "web" / "console" / "dist",
    api_prefixes=("/ops/v1",),
    build_hint="Build it with `npm ci && npm run build` in web/console (`make run` builds it when stale).",
)


def build(settings: OpsSettings | None = None, platform: PlatformSettings | None = None) -> Service:
    settings, platform = settings or OpsSettings(), platform or PlatformSettings()
    init_process(NAME, platform)
    settings = require_secrets(
        settings, platform, [Secret("jwt_secret", previous="jwt_previous_secrets"), Secret("identity_key")]
    )
    # The operators' identity: what the other services' ops routes let in.
    identity = service_identity(OPS, reveal(settings.identity_key), "OPS_IDENTITY_KEY")
    try:
        urls = parse_service_urls(settings.service_urls)
    except ValueError as exc:
        raise SystemExit(f"refusing to start: {exc}") from exc
    if "payment" not in urls:
        raise SystemExit("refusing to start: OPS_SERVICE_URLS must name the payment service (it owns the cases)")
    db = service_database(NAME, settings, platform)
    kafka = OpsKafka(kafka_access(platform), client_id=NAME)
    producer = kafka.producer()
    peers = Peers(urls, identity, timeout=settings.peer_timeout_seconds)
    hashing = PasswordHashing(workers=settings.password_hash_workers, queue=settings.password_hash_queue)
    throttle = LoginThrottle(
        db,
        LoginLimits(
            address_requests=settings.login_address_limit,
            address_window_seconds=settings.login_address_window_seconds,
            account_failures=settings.login_failure_limit,
            account_window_seconds=settings.login_failure_window_seconds,
        ),
    )
    for needed in ("wallet", "core_banking"):
        if needed not in urls:
            raise SystemExit(f"refusing to start: OPS_SERVICE_URLS must name the {needed} service (reconciliation)")
    reconciler = Reconciler(
        db,
        peers,
        interval_seconds=settings.reconciliation_interval_seconds,
        margin_seconds=settings.reconciliation_margin_seconds,
    )
    deps = OpsDeps(
        db=db,
        tokens=OperatorTokens(
            reveal(settings.jwt_secret),
            settings.jwt_ttl_seconds,
            previous=tuple(split_secrets(settings.jwt_previous_secrets)),
        ),
        hashing=hashing,
        throttle=throttle,
        fleet=FleetView(peers, kafka, timeout=settings.fleet_timeout_seconds),
        dead_letters=DeadLetters(
            db,
            kafka,
            producer,
            ScanLimits(
                records=settings.dlq_scan_limit,
                seconds=settings.dlq_scan_seconds,
                replay_records=settings.replay_max_records,
            ),
        ),
        cases=ReconciliationCases(peers["payment"]),
        saga=SagaView(peers, kafka, timeout=settings.saga_timeout_seconds, zipkin_url=settings.zipkin_url),
        payment=peers["payment"],
        stuck=StuckView(peers["payment"], peers["wallet"]),
        customer_tokens=CustomerTokens(peers.get("bff")),
        reconciler=reconciler,
    )
    app = build_app(deps, readiness={"database": db.ping, "kafka": producer.check_connection}, console=CONSOLE)
    return build_service(
        NAME,
        settings,
        app,
        platform=platform,
        databases=[db],
        producer=producer,
        workers={
            "ops-purge": purger(throttle, db, key_retention_seconds=settings.idempotency_retention_seconds),
            "ops-reconciliation": reconciler.worker(),
            "ops-metrics": metrics.gauges(
                db,
                kafka,
                every_seconds=platform.paysaga_metrics_interval_seconds,
                timeout=settings.fleet_timeout_seconds,
            ),
        },
        on_close=[peers.close, hashing.aclose, kafka.close],
    )


if __name__ == "__main__":
    serve_forever(build)
