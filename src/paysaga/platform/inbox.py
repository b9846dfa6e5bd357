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


async def claim_many(
    conn: asyncpg.Connection, records: list[tuple[str, str, str, str, int, int]]
) -> set[tuple[str, str]]:
    """Record many events as applied in one statement; return the (source, id) pairs that were new.

    `records` are (event_source, event_id, event_type, topic, partition, offset). An id that comes
    twice in `records` is returned once: the caller applies it once.
    """
    if not records:
        return set()
    columns = list(zip(*records, strict=True))
    rows = await conn.fetch(
        "INSERT INTO inbox (event_source, event_id, event_type, topic, kafka_partition, kafka_offset)"
        " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::integer[], $6::bigint[])"
        " ON CONFLICT DO NOTHING RETURNING event_source, event_id",
        *columns,
    )
    return {(r["event_source"], r["event_id"]) for r in rows}


async def applied(conn: asyncpg.Connection, *, sources: list[str], event_ids: list[str]) -> list[asyncpg.Record]:
    """The inbox rows of these event ids from any of these sources (each pair looked up by the key)."""
    return await conn.fetch(
        "SELECT event_source, event_id, event_type, topic, kafka_partition, kafka_offset, processed_at FROM inbox"
        " WHERE (event_source, event_id) IN (SELECT s, i FROM unnest($1::text[]) AS s, unnest($2::text[]) AS i)",
        sources,
        event_ids,
    )
