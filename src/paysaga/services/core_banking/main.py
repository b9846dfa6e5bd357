"""Composition root of the Core Banking service: `python -m paysaga.services.core_banking.main`.

A consumer of payment-events and an HTTP API; it publishes nothing, so it has no outbox relay
(its producer only carries the consumer's dead letters).
"""

from paysaga.platform.bootstrap import init_process
from paysaga.platform.consumer import EventConsumer
from paysaga.platform.db import Database
from paysaga.platform.kafka import KafkaProducer
from paysaga.platform.runtime import Service, serve_forever
from paysaga.platform.settings import PlatformSettings, service_database_url
from paysaga.services.core_banking.app import build_app
from paysaga.services.core_banking.consumers import HANDLERS
from paysaga.services.core_banking.settings import CoreBankingSettings

NAME = "core_banking"


def build() -> Service:
    platform = PlatformSettings()
    settings = CoreBankingSettings()
    init_process(NAME, platform)
    dsn = settings.database_url or service_database_url(platform.paysaga_postgres_url, NAME)
    db = Database(dsn, min_size=settings.db_pool_min, max_size=settings.db_pool_max)
    producer = KafkaProducer(platform.kafka_bootstrap_servers, client_id=NAME)
    consumer = EventConsumer(
        service=NAME,
        group_id=settings.consumer_group,
        bootstrap_servers=platform.kafka_bootstrap_servers,
        db=db,
        producer=producer,
        handlers=HANDLERS,
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
        shutdown_grace_seconds=settings.shutdown_grace_seconds,
    )


if __name__ == "__main__":
    serve_forever(build)
