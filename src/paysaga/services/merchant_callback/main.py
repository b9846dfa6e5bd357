"""Composition root of the Merchant Callback service: `python -m paysaga.services.merchant_callback.main`.

One process: the HTTP API, the payment-events consumer and the webhook dispatcher. The service
publishes no events (no outbox relay); its producer only carries the consumer's dead letters.
"""

from __future__ import annotations

from paysaga.platform.assembly import service_parts
from paysaga.platform.bootstrap import init_process
from paysaga.platform.runtime import Service, serve_forever
from paysaga.platform.settings import PlatformSettings
from paysaga.services.merchant_callback.app import build_app
from paysaga.services.merchant_callback.consumers import build_handlers
from paysaga.services.merchant_callback.dispatcher import WebhookDispatcher, webhook_client
from paysaga.services.merchant_callback.settings import MerchantCallbackSettings
from paysaga.services.merchant_callback.targets import WebhookTargets

NAME = "merchant_callback"


def build(settings: MerchantCallbackSettings | None = None, platform: PlatformSettings | None = None) -> Service:
    settings, platform = settings or MerchantCallbackSettings(), platform or PlatformSettings()
    init_process(NAME, platform)
    # Merchant Callback publishes no events: its producer carries the consumer's dead letters only.
    parts = service_parts(NAME, settings, platform, source="/paysaga/merchant-callback", relay=False)
    policy = settings.retry_policy()
    client = webhook_client(settings.request_timeout_seconds)
    targets = WebhookTargets(allow_private=settings.allow_private_targets)
    dispatcher = WebhookDispatcher(
        parts.db,
        client,
        policy,
        targets=targets,
        request_timeout_seconds=settings.request_timeout_seconds,
        batch=settings.worker_batch,
        lease_seconds=settings.lease_seconds,
        poll_seconds=settings.worker_poll_seconds,
    )
    consumer = parts.consumer(
        build_handlers(policy, dispatcher.wake),
        group_id=settings.consumer_group,
        fetch_wait_ms=settings.consumer_fetch_wait_ms,
    )
    app = build_app(
        parts.db,
        parts.unit_of_work,
        policy=policy,
        targets=targets,
        wake_dispatcher=dispatcher.wake,
        readiness=parts.readiness(),
    )
    return parts.service(app, consumers=[consumer], workers={"dispatcher": dispatcher}, on_close=[client.aclose])


if __name__ == "__main__":
    serve_forever(build)
