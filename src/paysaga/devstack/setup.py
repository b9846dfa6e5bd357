"""Make a PostgreSQL server and a Kafka cluster ready for the platform: topics, databases, migrations."""

from __future__ import annotations

import asyncio

from paysaga.contracts.topics import ALL_TOPICS, dead_letter_topic
from paysaga.devstack.catalog import SERVICES
from paysaga.devstack.postgres import ensure_databases
from paysaga.platform import migrations
from paysaga.platform.kafka import KafkaAccess, ensure_topics
from paysaga.platform.settings import service_database_url

TOPIC_PARTITIONS = 6


async def create_topics(
    kafka: KafkaAccess, *, partitions: int = TOPIC_PARTITIONS, replication_factor: int = 1
) -> list[str]:
    topics = [*ALL_TOPICS, *(dead_letter_topic(t) for t in ALL_TOPICS)]
    return await asyncio.to_thread(
        ensure_topics, kafka, topics, partitions=partitions, replication_factor=replication_factor
    )


async def prepare_databases(admin_url: str, *, recreate: bool = False) -> dict[str, str]:
    """Create each service's database and migrate it to head; returns service → DSN."""
    with_db = [s for s in SERVICES if s.has_database]
    await ensure_databases(admin_url, [s.database for s in with_db], recreate=recreate)
    dsns = {s.name: service_database_url(admin_url, s.name) for s in with_db}
    for name, dsn in dsns.items():
        await asyncio.to_thread(migrations.upgrade, name, dsn)
    return dsns
