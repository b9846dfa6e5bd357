"""Composition root of the Notification service: `python -m paysaga.services.notification.main`."""

from paysaga.platform.assembly import service_parts
from paysaga.platform.bootstrap import init_process
from paysaga.platform.db import Database
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


def build(settings: NotificationSettings | None = None, platform: PlatformSettings | None = None) -> Service:
    settings, platform = settings or NotificationSettings(), platform or PlatformSettings()
    init_process(NAME, platform)
    # Notification publishes no events: its producer carries the consumer's dead letters only.
    parts = service_parts(NAME, settings, platform, source="/paysaga/notification", relay=False)
    gateways = build_gateways(settings)
    dispatcher = build_dispatcher(parts.db, gateways, settings)
    consumer = parts.consumer(
        build_handlers(settings, dispatcher.wake),
        group_id=settings.consumer_group,
        fetch_wait_ms=settings.consumer_fetch_wait_ms,
    )
    app = build_app(parts.db, gateways, readiness=parts.readiness())
    return parts.service(app, consumers=[consumer], workers={"dispatcher": dispatcher})


if __name__ == "__main__":
    serve_forever(build)
