"""Composition root of the Payment service."""

from paysaga.platform.assembly import event_consumer, retention, service_database
from paysaga.platform.bootstrap import init_process
from paysaga.platform.db import Database
from paysaga.platform.kafka import KafkaProducer
from paysaga.platform.periodic import Periodic
from paysaga.platform.relay import OutboxRelay
from paysaga.platform.runtime import Service, serve_forever
from paysaga.platform.settings import PlatformSettings
from paysaga.services.payment.app import build_app
from paysaga.services.payment.consumers import build_handlers
from paysaga.services.payment.fraud_client import FraudClient
from paysaga.services.payment.handlers import Steps
from paysaga.services.payment.late_inquiries import LateInquiries
from paysaga.services.payment.orphans import OrphanCallbacks
from paysaga.services.payment.processor import PaymentProcessor
from paysaga.services.payment.provider_client import ProviderClient
from paysaga.services.payment.settings import PaymentSettings

NAME = "payment"


def build() -> Service:
    platform = PlatformSettings()
    settings = PaymentSettings()
    init_process(NAME, platform)
    db = service_database(NAME, settings, platform)
    relay_db = Database(db.dsn, min_size=1, max_size=4)
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
    orphans = OrphanCallbacks(
        db,
        provider,
        older_than_seconds=settings.orphan_callback_after_seconds,
        retry_after_seconds=settings.orphan_retry_after_seconds,
    )
    late_inquiries = LateInquiries(db, provider, interval_seconds=settings.late_inquiry_interval_seconds)
    consumer = event_consumer(
        NAME, settings.consumer_group, platform, db, producer, build_handlers(settings, processor.wake)
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
        workers={
            "worker": processor,
            "orphan-callbacks": Periodic(
                "orphan-callbacks", orphans.sweep, every_seconds=settings.orphan_sweep_interval_seconds
            ),
            "late-inquiries": Periodic(
                "late-inquiries", late_inquiries.sweep, every_seconds=settings.late_inquiry_sweep_interval_seconds
            ),
            "retention": retention(db, settings),
        },
        on_close=[fraud.close, provider.close],
        shutdown_grace_seconds=settings.shutdown_grace_seconds,
    )


if __name__ == "__main__":
    serve_forever(build)
