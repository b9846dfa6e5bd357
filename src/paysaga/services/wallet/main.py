"""Composition root of the Wallet service."""

from paysaga.platform.assembly import service_parts
from paysaga.platform.bootstrap import init_process
from paysaga.platform.runtime import Service, serve_forever
from paysaga.platform.settings import PlatformSettings
from paysaga.services.wallet.app import build_app
from paysaga.services.wallet.consumers import HANDLERS
from paysaga.services.wallet.handlers import lock_settled_wallets
from paysaga.services.wallet.settings import WalletSettings

NAME = "wallet"


def build(settings: WalletSettings | None = None, platform: PlatformSettings | None = None) -> Service:
    settings, platform = settings or WalletSettings(), platform or PlatformSettings()
    init_process(NAME, platform)
    parts = service_parts(NAME, settings, platform, source="/paysaga/wallet", relay=True)
    app = build_app(parts.db, parts.unit_of_work, readiness=parts.readiness())
    consumer = parts.consumer(HANDLERS, group_id=settings.consumer_group, before_batch=lock_settled_wallets)
    return parts.service(app, consumers=[consumer])


if __name__ == "__main__":
    serve_forever(build)
