"""Composition root of the Core Banking service: `python -m paysaga.services.core_banking.main`.

A consumer of payment-events and an HTTP API; it publishes nothing, so it has no outbox relay
(its producer only carries the consumer's dead letters).
"""

from paysaga.platform.assembly import event_consumer, retention, service_database
from paysaga.platform.bootstrap import init_process
from paysaga.platform.kafka import KafkaProducer
from paysaga.platform.runtime import Service, serve_forever
from paysaga.platform.settings import PlatformSettings
from paysaga.services.core_banking.app import build_app
from paysaga.services.core_banking.consumers import HANDLERS
from paysaga.services.core_banking.settings import CoreBankingSettings

NAME = "core_banking"


def build() -> Service:
    platform = PlatformSettings()
    settings = CoreBankingSettings()
    init_process(NAME, platform)
    db = service_database(NAME, settings, platform)
    producer = KafkaProducer(platform.kafka_bootstrap_servers, client_id=NAME)
    consumer = event_consumer(
        NAME, settings.consumer_group, platform, db, producer, HANDLERS, fetch_wait_ms=settings.consumer_fetch_wait_ms
    )
    app = build_app(db, readiness={"database": db.ping, "kafka": producer.check_connection})
    return Service(
        name=NAME,
        app=app,
        host=settings.host,
        port=settings.port,
        databases=[db],
        producer=producer,
        consumers=[consumer],
        workers={"retention": retention(db, settings)},
        shutdown_grace_seconds=settings.shutdown_grace_seconds,
    )


if __name__ == "__main__":
    serve_forever(build)
