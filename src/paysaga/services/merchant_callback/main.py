"""Composition root of the Merchant Callback service: `python -m paysaga.services.merchant_callback.main`.

One process: the HTTP API, the payment-events consumer and the webhook dispatcher. The service
publishes no events (no outbox relay); its producer only carries the consumer's dead letters.
"""

from __future__ import annotations

from paysaga.platform.assembly import service_parts
from paysaga.platform.bootstrap import init_process
from paysaga.platform.runtime import Service, serve_forever
from paysaga.platform.secrets import Secret, require_secrets
from paysaga.platform.settings import PlatformSettings
from paysaga.services.merchant_callback.app import build_app
from paysaga.services.merchant_callback.consumers import build_handlers
from paysaga.services.merchant_callback.dispatcher import WebhookDispatcher, webhook_client
from paysaga.services.merchant_callback.secretbox import SecretBox
from paysaga.services.merchant_callback.settings import MerchantCallbackSettings
from paysaga.services.merchant_callback.targets import WebhookTargets

NAME = "merchant_callback"


def secret_box(settings: MerchantCallbackSettings, platform: PlatformSettings) -> SecretBox:
    """The cipher of the merchants' webhook secrets; InsecureSecrets (the process refuses to start)
    if the key is missing outside dev mode, or is not a Fernet key."""
    # Shared: the key must outlive the process (the stored secrets are encrypted under it); in
    # dev mode a missing one is random for this process, and its secrets are lost with it.
    settings = require_secrets(
        settings, platform, [Secret("secrets_key", shared=True, previous="previous_secrets_keys")]
    )
    return settings.secret_box()


def build(settings: MerchantCallbackSettings | None = None, platform: PlatformSettings | None = None) -> Service:
    settings, platform = settings or MerchantCallbackSettings(), platform or PlatformSettings()
    init_process(NAME, platform)
    box = secret_box(settings, platform)
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
        box=box,
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
        box=box,
    )
    return parts.service(app, consumers=[consumer], workers={"dispatcher": dispatcher}, on_close=[client.aclose])


if __name__ == "__main__":
    serve_forever(build)
