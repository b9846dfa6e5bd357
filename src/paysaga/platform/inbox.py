"""The inbox: the CloudEvents ids (unique per `ce_source`) of the events a service has applied,
written in the handler's own transaction.

A redelivered event finds its id already there and is skipped, so nothing is applied twice.
"""

import asyncpg

DDL = (
    """CREATE TABLE inbox (
    event_source text        NOT NULL,
    event_id     text        NOT NULL,
    event_type   text        NOT NULL,
    topic        text        NOT NULL,
    kafka_partition integer  NOT NULL,
    kafka_offset bigint      NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_source, event_id)
)""",
    "CREATE INDEX inbox_processed_at ON inbox (processed_at)",
)

DROP_DDL = ("DROP TABLE inbox",)


async def claim(
    conn: asyncpg.Connection,
    *,
    event_source: str,
    event_id: str,
    event_type: str,
    topic: str,
    partition: int,
    offset: int,
) -> bool:
    """Record the event as applied; False if it already was (a redelivery)."""
    inserted = await conn.fetchval(
        "INSERT INTO inbox (event_source, event_id, event_type, topic, kafka_partition, kafka_offset)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING true",
        event_source,
        event_id,
        event_type,
        topic,
        partition,
        offset,
    )
    return bool(inserted)
