"""Composition root of the Customer service."""

from paysaga.platform.assembly import retention, service_database
from paysaga.platform.bootstrap import init_process
from paysaga.platform.db import Database
from paysaga.platform.kafka import KafkaProducer
from paysaga.platform.relay import OutboxRelay
from paysaga.platform.runtime import Service, serve_forever
from paysaga.platform.settings import PlatformSettings
from paysaga.services.customer.app import build_app
from paysaga.services.customer.settings import CustomerSettings

NAME = "customer"


def build() -> Service:
    platform = PlatformSettings()
    settings = CustomerSettings()
    init_process(NAME, platform)
    db = service_database(NAME, settings, platform)
    relay_db = Database(db.dsn, min_size=1, max_size=4)
    producer = KafkaProducer(platform.kafka_bootstrap_servers, client_id=f"{NAME}-relay")
    app = build_app(db, readiness={"database": db.ping, "kafka": producer.check_connection})
    return Service(
        name=NAME,
        app=app,
        host=settings.host,
        port=settings.port,
        databases=[db, relay_db],
        producer=producer,
        relay=OutboxRelay(relay_db, producer),
        workers={"retention": retention(db, settings)},
        shutdown_grace_seconds=settings.shutdown_grace_seconds,
    )


if __name__ == "__main__":
    serve_forever(build)
