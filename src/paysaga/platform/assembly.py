"""The parts most services are built from, so each composition root says only what is its own."""

from __future__ import annotations

from collections.abc import Mapping

from paysaga.contracts.events import Event
from paysaga.platform.consumer import EventConsumer, Handler
from paysaga.platform.db import Database
from paysaga.platform.kafka import KafkaProducer
from paysaga.platform.settings import DatabaseServiceSettings, PlatformSettings, service_database_url


def service_database(name: str, settings: DatabaseServiceSettings, platform: PlatformSettings) -> Database:
    """The service's own database: `<SERVICE>_DATABASE_URL`, else `paysaga_<name>` on the server."""
    dsn = settings.database_url or service_database_url(platform.paysaga_postgres_url, name)
    return Database(dsn, min_size=settings.db_pool_min, max_size=settings.db_pool_max)


def event_consumer(
    name: str,
    group_id: str,
    platform: PlatformSettings,
    db: Database,
    producer: KafkaProducer,
    handlers: Mapping[type[Event], Handler],
) -> EventConsumer:
    """The service's consumer group; `producer` carries its dead letters."""
    return EventConsumer(
        service=name,
        group_id=group_id,
        bootstrap_servers=platform.kafka_bootstrap_servers,
        db=db,
        producer=producer,
        handlers=handlers,
    )
