"""Composition root of the Notification service: `python -m paysaga.services.notification.main`."""

from paysaga.platform.assembly import event_consumer, retention, service_database
from paysaga.platform.bootstrap import init_process
from paysaga.platform.db import Database
from paysaga.platform.kafka import KafkaProducer
from paysaga.platform.runtime import Service, serve_forever
from paysaga.platform.settings import PlatformSettings
from paysaga.services.notification.app import build_app
from paysaga.services.notification.consumers import build_handlers
from paysaga.services.notification.dispatcher import Dispatcher
from paysaga.services.notification.domain import Channel
from paysaga.services.notification.gateways import Behaviour, SimulatedGateway
from paysaga.services.notification.settings import NotificationSettings

NAME = "notification"


def build_gateways(settings: NotificationSettings) -> dict[Channel, SimulatedGateway]:
    return {
        Channel.SMS: SimulatedGateway(
            Channel.SMS, Behaviour(delay_ms=settings.sms_delay_ms, fail_rate=settings.sms_fail_rate)
        ),
        Channel.PUSH: SimulatedGateway(
            Channel.PUSH, Behaviour(delay_ms=settings.push_delay_ms, fail_rate=settings.push_fail_rate)
        ),
    }


def build_dispatcher(db: Database, gateways: dict[Channel, SimulatedGateway], s: NotificationSettings) -> Dispatcher:
    return Dispatcher(
        db,
        gateways,
        timeouts=s.timeouts(),
        max_attempts=s.max_attempts,
        retry_initial_seconds=s.retry_initial_seconds,
        retry_max_seconds=s.retry_max_seconds,
        concurrency=s.channel_concurrency,
        lease_seconds=s.lease_seconds,
        poll_seconds=s.worker_poll_seconds,
        stop_grace_seconds=s.shutdown_grace_seconds / 2,
    )


def build() -> Service:
    platform = PlatformSettings()
    settings = NotificationSettings()
    init_process(NAME, platform)
    db = service_database(NAME, settings, platform)
    # Notification publishes no events; the producer only carries dead letters of the consumer.
    producer = KafkaProducer(platform.kafka_bootstrap_servers, client_id=NAME)
    gateways = build_gateways(settings)
    dispatcher = build_dispatcher(db, gateways, settings)
    consumer = event_consumer(
        NAME,
        settings.consumer_group,
        platform,
        db,
        producer,
        build_handlers(settings, dispatcher.wake),
        fetch_wait_ms=settings.consumer_fetch_wait_ms,
    )
    app = build_app(db, gateways, readiness={"database": db.ping, "kafka": producer.check_connection})
    return Service(
        name=NAME,
        app=app,
        host=settings.host,
        port=settings.port,
        databases=[db],
        producer=producer,
        consumers=[consumer],
        workers={"dispatcher": dispatcher, "retention": retention(db, settings)},
        shutdown_grace_seconds=settings.shutdown_grace_seconds,
    )


if __name__ == "__main__":
    serve_forever(build)
