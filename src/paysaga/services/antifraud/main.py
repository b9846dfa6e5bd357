"""Composition root of the Anti-Fraud service: `python -m paysaga.services.antifraud.main`.

One process, one event loop: the gRPC server (AntiFraud + grpc.health.v1), the HTTP app
(health, ops API) and the payment-events consumer. The platform runtime runs the HTTP app and
the consumers; the gRPC server is started around it by `run()`: bound before the runtime starts
(a taken port fails the start), stopped gracefully from an `on_close` hook, i.e. after the
consumers and before the database pool closes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import structlog

from paysaga.platform.assembly import service_parts, service_verifier
from paysaga.platform.bootstrap import init_process
from paysaga.platform.runtime import Service, run_service
from paysaga.platform.settings import PlatformSettings
from paysaga.services.antifraud import repository
from paysaga.services.antifraud.app import build_app
from paysaga.services.antifraud.consumers import HANDLERS
from paysaga.services.antifraud.grpc_server import AntiFraudGrpcServer
from paysaga.services.antifraud.settings import AntiFraudSettings

NAME = "antifraud"

log = structlog.get_logger("paysaga.antifraud")


@dataclass
class AntiFraudService(Service):
    """A platform `Service` plus the gRPC server that `run()` starts and stops around it."""

    grpc: AntiFraudGrpcServer | None = field(default=None)


def build(settings: AntiFraudSettings | None = None, platform: PlatformSettings | None = None) -> AntiFraudService:
    settings, platform = settings or AntiFraudSettings(), platform or PlatformSettings()
    init_process(NAME, platform)
    # Anti-Fraud publishes no events: its producer carries the consumer's dead letters only.
    parts = service_parts(NAME, settings, platform, source="/paysaga/antifraud", relay=False)
    db, seed = parts.db, settings.blocklist_seed_accounts

    async def seed_blocklist() -> None:
        async with db.transaction() as conn:
            await repository.seed_blocklist(conn, seed)

    grpc_server = AntiFraudGrpcServer(
        host=settings.grpc_host,
        port=settings.grpc_port,
        db=db,
        limits=settings.limits(),
        verifier=service_verifier(NAME, platform),
        on_ready=seed_blocklist,
        check_timeout_seconds=settings.check_timeout_seconds,
        probe_interval_seconds=settings.health_probe_seconds,
        grace_seconds=settings.shutdown_grace_seconds,
        # Several instances on this host share the gRPC port like the HTTP one.
        reuse_port=platform.paysaga_instance_port is not None,
    )
    app = build_app(db, settings.limits(), readiness=parts.readiness(grpc=grpc_server.check_serving))
    return parts.service(
        app,
        cls=AntiFraudService,
        consumers=[
            parts.consumer(HANDLERS, group_id=settings.consumer_group, fetch_wait_ms=settings.consumer_fetch_wait_ms)
        ],
        on_close=[grpc_server.close],
        grpc=grpc_server,
    )


async def run(svc: AntiFraudService) -> None:
    """Start the gRPC server, then run the platform runtime until SIGTERM/SIGINT."""
    if svc.grpc is None:
        raise ValueError("AntiFraudService.grpc is not set")
    try:
        await svc.grpc.start()
    except OSError as exc:
        log.error("service.start_failed", component="grpc", error=str(exc))
        raise SystemExit(1) from exc
    try:
        await run_service(svc)
    finally:
        await svc.grpc.close()  # no-op after the on_close hook; covers a failed start of the runtime


def main() -> None:
    import uvloop

    uvloop.run(run(build()))


if __name__ == "__main__":
    main()
