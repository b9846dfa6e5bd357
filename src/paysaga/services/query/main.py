"""Composition root of the Query service."""

from paysaga.platform.assembly import event_consumer, retention, service_database
from paysaga.platform.bootstrap import init_process
from paysaga.platform.kafka import KafkaProducer
from paysaga.platform.runtime import Service, serve_forever
from paysaga.platform.settings import PlatformSettings
from paysaga.services.query.app import build_app
from paysaga.services.query.consumers import HANDLERS
from paysaga.services.query.settings import QuerySettings

NAME = "query"


def build() -> Service:
    platform = PlatformSettings()
    settings = QuerySettings()
    init_process(NAME, platform)
    db = service_database(NAME, settings, platform)
    producer = KafkaProducer(platform.kafka_bootstrap_servers, client_id=NAME)  # for dead letters
    consumer = event_consumer(NAME, settings.consumer_group, platform, db, producer, HANDLERS)
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
