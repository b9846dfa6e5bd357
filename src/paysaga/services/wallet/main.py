"""Composition root of the Wallet service."""

from paysaga.platform.assembly import event_consumer, retention, service_database
from paysaga.platform.bootstrap import init_process
from paysaga.platform.db import Database
from paysaga.platform.kafka import KafkaProducer
from paysaga.platform.relay import OutboxRelay
from paysaga.platform.runtime import Service, serve_forever
from paysaga.platform.settings import PlatformSettings
from paysaga.services.wallet.app import build_app
from paysaga.services.wallet.consumers import HANDLERS
from paysaga.services.wallet.settings import WalletSettings

NAME = "wallet"


def build() -> Service:
    platform = PlatformSettings()
    settings = WalletSettings()
    init_process(NAME, platform)
    db = service_database(NAME, settings, platform)
    relay_db = Database(db.dsn, min_size=1, max_size=4)
    producer = KafkaProducer(platform.kafka_bootstrap_servers, client_id=NAME)
    consumer = event_consumer(NAME, settings.consumer_group, platform, db, producer, HANDLERS)
    app = build_app(db, readiness={"database": db.ping, "kafka": producer.check_connection})
    return Service(
        name=NAME,
        app=app,
        host=settings.host,
        port=settings.port,
        databases=[db, relay_db],
        producer=producer,
        relay=OutboxRelay(relay_db, producer),
        consumers=[consumer],
        workers={"retention": retention(db, settings)},
        shutdown_grace_seconds=settings.shutdown_grace_seconds,
    )


if __name__ == "__main__":
    serve_forever(build)
