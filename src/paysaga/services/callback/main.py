"""Composition root of the Callback service."""

from paysaga.platform.assembly import build_service
from paysaga.platform.bootstrap import init_process
from paysaga.platform.kafka import KafkaProducer
from paysaga.platform.runtime import Service, serve_forever
from paysaga.platform.secrets import Secret, require_secrets
from paysaga.platform.settings import PlatformSettings
from paysaga.services.callback.app import build_app
from paysaga.services.callback.settings import CallbackSettings

NAME = "callback"


def build(settings: CallbackSettings | None = None, platform: PlatformSettings | None = None) -> Service:
    settings, platform = settings or CallbackSettings(), platform or PlatformSettings()
    init_process(NAME, platform)
    settings = require_secrets(
        settings, platform, [Secret("provider_secret", shared=True, previous="provider_previous_secrets")]
    )
    producer = KafkaProducer(platform.kafka_bootstrap_servers, client_id=NAME, **{"linger.ms": 1})
    app = build_app(settings, producer, source="/paysaga/callback", readiness={"kafka": producer.check_connection})
    return build_service(NAME, settings, app, platform=platform, producer=producer)


if __name__ == "__main__":
    serve_forever(build)
