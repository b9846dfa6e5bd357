"""Composition root of the Payment service."""

from paysaga.platform.bootstrap import init_process
from paysaga.platform.consumer import EventConsumer
from paysaga.platform.db import Database
from paysaga.platform.kafka import KafkaProducer
from paysaga.platform.relay import OutboxRelay
from paysaga.platform.runtime import Service, serve_forever
from paysaga.platform.settings import PlatformSettings, service_database_url
from paysaga.services.payment.app import build_app
from paysaga.services.payment.consumers import build_handlers
from paysaga.services.payment.fraud_client import FraudClient
from paysaga.services.payment.handlers import Steps
from paysaga.services.payment.processor import PaymentProcessor
from paysaga.services.payment.provider_client import ProviderClient
from paysaga.services.payment.settings import PaymentSettings

NAME = "payment"


def build() -> Service:
    platform = PlatformSettings()
    settings = PaymentSettings()
    init_process(NAME, platform)
    dsn = settings.database_url or service_database_url(platform.paysaga_postgres_url, NAME)
    db = Database(dsn, min_size=settings.db_pool_min, max_size=settings.db_pool_max)
    relay_db = Database(dsn, min_size=1, max_size=4)
    producer = KafkaProducer(platform.kafka_bootstrap_servers, client_id=NAME)
    fraud = FraudClient(settings.antifraud_target, deadline_seconds=settings.antifraud_deadline_seconds)
    provider = ProviderClient(
        settings.provider_url,
        api_key=settings.provider_api_key.get_secret_value(),
        callback_url=settings.callback_url,
        timeout=settings.provider_timeout_seconds,
    )
    processor = PaymentProcessor(
        Steps(db, fraud, provider, settings),
        batch=settings.worker_batch,
        lease_seconds=settings.lease_seconds,
        poll_seconds=settings.worker_poll_seconds,
    )
    consumer = EventConsumer(
        service=NAME,
        group_id=settings.consumer_group,
        bootstrap_servers=platform.kafka_bootstrap_servers,
        db=db,
        producer=producer,
        handlers=build_handlers(settings, processor.wake),
    )
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
        workers={"worker": processor},
        on_close=[fraud.close, provider.close],
        shutdown_grace_seconds=settings.shutdown_grace_seconds,
    )


if __name__ == "__main__":
    serve_forever(build)
