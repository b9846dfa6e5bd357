"""Composition root of the Core Banking service (the double-entry ledger): a consumer of
payment-events and an HTTP API. It publishes nothing, so it has no outbox relay."""

from paysaga.platform.assembly import service_parts
from paysaga.platform.bootstrap import init_process
from paysaga.platform.runtime import Service, serve_forever
from paysaga.platform.settings import PlatformSettings
from paysaga.services.core_banking.app import build_app
from paysaga.services.core_banking.consumers import HANDLERS
from paysaga.services.core_banking.settings import CoreBankingSettings

NAME = "core_banking"


def build(settings: CoreBankingSettings | None = None, platform: PlatformSettings | None = None) -> Service:
    settings, platform = settings or CoreBankingSettings(), platform or PlatformSettings()
    init_process(NAME, platform)
    parts = service_parts(NAME, settings, platform, source="/paysaga/core-banking", relay=False)
    app = build_app(parts.db, parts.unit_of_work, readiness=parts.readiness())
    consumer = parts.consumer(HANDLERS, group_id=settings.consumer_group, fetch_wait_ms=settings.consumer_fetch_wait_ms)
    return parts.service(app, consumers=[consumer])


if __name__ == "__main__":
    serve_forever(build)
