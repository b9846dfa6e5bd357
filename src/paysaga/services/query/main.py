"""Composition root of the Query service (the read model)."""

from paysaga.platform.assembly import service_parts
from paysaga.platform.bootstrap import init_process
from paysaga.platform.runtime import Service, serve_forever
from paysaga.platform.settings import PlatformSettings
from paysaga.services.query.app import build_app
from paysaga.services.query.consumers import HANDLERS
from paysaga.services.query.settings import QuerySettings

NAME = "query"


def build(settings: QuerySettings | None = None, platform: PlatformSettings | None = None) -> Service:
    settings, platform = settings or QuerySettings(), platform or PlatformSettings()
    init_process(NAME, platform)
    # Query publishes no events: its producer carries the consumer's dead letters only.
    parts = service_parts(NAME, settings, platform, source="/paysaga/query", relay=False)
    app = build_app(parts.db, readiness=parts.readiness())
    return parts.service(app, consumers=[parts.consumer(HANDLERS, group_id=settings.consumer_group)])


if __name__ == "__main__":
    serve_forever(build)
