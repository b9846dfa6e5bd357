"""Composition root of the provider simulator."""

from paysaga.platform.assembly import build_service as assemble
from paysaga.platform.bootstrap import init_process
from paysaga.platform.runtime import Service, serve_forever
from paysaga.platform.secrets import Secret, require_secrets, reveal
from paysaga.platform.settings import PlatformSettings
from paysaga.services.provider_sim.app import build_app
from paysaga.services.provider_sim.callbacks import Backoff, CallbackSender
from paysaga.services.provider_sim.settings import ProviderSimSettings
from paysaga.services.provider_sim.simulator import Simulator
from paysaga.services.provider_sim.store import SimStore

NAME = "provider_sim"


def build_service(settings: ProviderSimSettings, platform: PlatformSettings) -> Service:
    store = SimStore()
    sender = CallbackSender(
        secret=reveal(settings.callback_secret),
        backoff=Backoff(
            initial_seconds=settings.callback_retry_initial_seconds,
            multiplier=settings.callback_retry_multiplier,
            max_seconds=settings.callback_retry_max_seconds,
            max_attempts=settings.callback_max_attempts,
        ),
        timeout_seconds=settings.callback_timeout_seconds,
        record=store.add_attempt,
    )
    sim = Simulator(
        store=store,
        sender=sender,
        default_delay_ms=settings.default_delay_ms,
        late_success_delay_ms=settings.late_success_delay_ms,
    )
    return assemble(NAME, settings, build_app(sim), platform=platform, on_close=[sim.close])


def build(settings: ProviderSimSettings | None = None, platform: PlatformSettings | None = None) -> Service:
    settings, platform = settings or ProviderSimSettings(), platform or PlatformSettings()
    init_process(NAME, platform)
    settings = require_secrets(settings, platform, [Secret("callback_secret", shared=True)])
    return build_service(settings, platform)


if __name__ == "__main__":
    serve_forever(build)
