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

from paysaga.platform.assembly import event_consumer, retention, service_database
from paysaga.platform.bootstrap import init_process
from paysaga.platform.kafka import KafkaProducer
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


def build() -> AntiFraudService:
    platform = PlatformSettings()
    settings = AntiFraudSettings()
    init_process(NAME, platform)
    db = service_database(NAME, settings, platform)
    # Anti-Fraud publishes no events; the producer only carries dead letters of the consumer.
    producer = KafkaProducer(platform.kafka_bootstrap_servers, client_id=NAME)
    consumer = event_consumer(NAME, settings.consumer_group, platform, db, producer, HANDLERS)
    limits = settings.limits()
    seed = settings.blocklist_seed_accounts

    async def seed_blocklist() -> None:
        async with db.transaction() as conn:
            await repository.seed_blocklist(conn, seed)

    grpc_server = AntiFraudGrpcServer(
        host=settings.grpc_host,
        port=settings.grpc_port,
        db=db,
        limits=limits,
        on_ready=seed_blocklist,
        check_timeout_seconds=settings.check_timeout_seconds,
        probe_interval_seconds=settings.health_probe_seconds,
        grace_seconds=settings.shutdown_grace_seconds,
    )
    app = build_app(
        db,
        limits,
        readiness={
            "database": db.ping,
            "kafka": producer.check_connection,
            "grpc": grpc_server.check_serving,
        },
    )
    return AntiFraudService(
        name=NAME,
        app=app,
        host=settings.host,
        port=settings.port,
        databases=[db],
        producer=producer,
        consumers=[consumer],
        on_close=[grpc_server.close],
        workers={"retention": retention(db, settings)},
        shutdown_grace_seconds=settings.shutdown_grace_seconds,
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
