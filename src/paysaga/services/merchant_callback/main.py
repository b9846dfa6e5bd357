"""Composition root of the Merchant Callback service: `python -m paysaga.services.merchant_callback.main`.

One process: the HTTP API, the payment-events consumer and the webhook dispatcher. The service
publishes no events (no outbox relay); its producer only carries the consumer's dead letters.
"""

from __future__ import annotations

from paysaga.platform.assembly import event_consumer, retention, service_database
from paysaga.platform.bootstrap import init_process
from paysaga.platform.kafka import KafkaProducer
from paysaga.platform.runtime import Service, serve_forever
from paysaga.platform.settings import PlatformSettings
from paysaga.services.merchant_callback.app import build_app
from paysaga.services.merchant_callback.consumers import build_handlers
from paysaga.services.merchant_callback.dispatcher import WebhookDispatcher, webhook_client
from paysaga.services.merchant_callback.settings import MerchantCallbackSettings
from paysaga.services.merchant_callback.targets import WebhookTargets

NAME = "merchant_callback"


def build() -> Service:
    platform = PlatformSettings()
    settings = MerchantCallbackSettings()
    init_process(NAME, platform)
    db = service_database(NAME, settings, platform)
    producer = KafkaProducer(platform.kafka_bootstrap_servers, client_id=NAME)
    policy = settings.retry_policy()
    client = webhook_client(settings.request_timeout_seconds)
    targets = WebhookTargets(allow_private=settings.allow_private_targets)
    dispatcher = WebhookDispatcher(
        db,
        client,
        policy,
        targets=targets,
        request_timeout_seconds=settings.request_timeout_seconds,
        batch=settings.worker_batch,
        lease_seconds=settings.lease_seconds,
        poll_seconds=settings.worker_poll_seconds,
    )
    consumer = event_consumer(
        NAME,
        settings.consumer_group,
        platform,
        db,
        producer,
        build_handlers(policy, dispatcher.wake),
        fetch_wait_ms=settings.consumer_fetch_wait_ms,
    )
    app = build_app(
        db,
        policy=policy,
        targets=targets,
        wake_dispatcher=dispatcher.wake,
        readiness={"database": db.ping, "kafka": producer.check_connection},
    )
    return Service(
        name=NAME,
        app=app,
        host=settings.host,
        port=settings.port,
        databases=[db],
        producer=producer,
        consumers=[consumer],
        workers={"dispatcher": dispatcher, "retention": retention(db, settings)},
        on_close=[client.aclose],
        shutdown_grace_seconds=settings.shutdown_grace_seconds,
    )


if __name__ == "__main__":
    serve_forever(build)
