"""The parts most services are built from, so each composition root says only what is its own."""

from __future__ import annotations

from collections.abc import Mapping

from paysaga.contracts.events import Event
from paysaga.platform.consumer import EventConsumer, Handler
from paysaga.platform.db import Database
from paysaga.platform.kafka import KafkaProducer
from paysaga.platform.periodic import Periodic
from paysaga.platform.retention import Retention
from paysaga.platform.settings import (
    DatabaseServiceSettings,
    InboxSettings,
    OutboxSettings,
    PlatformSettings,
    service_database_url,
)


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
    *,
    fetch_wait_ms: int = 0,
) -> EventConsumer:
    """The service's consumer group; `producer` carries its dead letters.

    `fetch_wait_ms` > 0, for a consumer off the payment's critical path: the broker holds each
    fetch up to that long to fill it, so the consumer applies bigger batches (fewer transactions,
    fewer broker requests) at the price of that much latency.
    """
    overrides = batching_fetch(fetch_wait_ms) if fetch_wait_ms > 0 else {}
    return EventConsumer(
        service=name,
        group_id=group_id,
        bootstrap_servers=platform.kafka_bootstrap_servers,
        db=db,
        producer=producer,
        handlers=handlers,
        **overrides,
    )


def batching_fetch(wait_ms: int) -> dict[str, int]:
    """Consumer settings: let the broker wait up to `wait_ms` for 1 MiB before it answers a fetch."""
    return {"fetch.wait.max.ms": wait_ms, "fetch.min.bytes": 1 << 20}


def retention(db: Database, settings: OutboxSettings | InboxSettings) -> Periodic:
    """The worker that deletes the published outbox rows and old inbox rows of the service's database."""
    return Retention(
        db,
        outbox_keep_seconds=settings.outbox_retention_hours * 3600 if isinstance(settings, OutboxSettings) else None,
        inbox_keep_seconds=settings.inbox_retention_hours * 3600 if isinstance(settings, InboxSettings) else None,
        every_seconds=settings.retention_interval_seconds,
    ).worker()
