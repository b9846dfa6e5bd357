"""Composition root of the Callback service."""

from paysaga.platform.bootstrap import init_process
from paysaga.platform.kafka import KafkaProducer
from paysaga.platform.runtime import Service, serve_forever
from paysaga.platform.settings import PlatformSettings
from paysaga.services.callback.app import build_app
from paysaga.services.callback.settings import CallbackSettings

NAME = "callback"


def build() -> Service:
    platform = PlatformSettings()
    settings = CallbackSettings()
    init_process(NAME, platform)
    producer = KafkaProducer(platform.kafka_bootstrap_servers, client_id=NAME, **{"linger.ms": 1})
    app = build_app(settings, producer, readiness={"kafka": producer.check_connection})
    return Service(
        name=NAME,
        app=app,
        host=settings.host,
        port=settings.port,
        producer=producer,
        shutdown_grace_seconds=settings.shutdown_grace_seconds,
    )


if __name__ == "__main__":
    serve_forever(build)
