"""The transactional outbox table: events written with the state change, published by the relay.

Rows are spread over `LANES` lanes by a hash of the Kafka key. A relay publishes a lane only
while it holds that lane's advisory lock, in `id` order, so events of one key keep their order
however many relays run. Per key, `id` order is commit order because every writer locks the
aggregate (the key's row) before it inserts its event.
"""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime

import asyncpg

from paysaga.contracts.cloudevents import EventMeta
from paysaga.contracts.events import Event
from paysaga.platform.tracing import current_traceparent

LANES = 16
NOTIFY_CHANNEL = "paysaga_outbox"

DDL = (
    f"""CREATE TABLE outbox (
    id           bigserial PRIMARY KEY,
    event_id     uuid        NOT NULL UNIQUE,
    topic        text        NOT NULL,
    key          text        NOT NULL,
    lane         smallint    NOT NULL CHECK (lane >= 0 AND lane < {LANES}),
    event_type   text        NOT NULL,
    payload      bytea       NOT NULL,
    headers      jsonb       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
)""",
    "CREATE INDEX outbox_pending ON outbox (lane, id) WHERE published_at IS NULL",
    "CREATE INDEX outbox_published_at ON outbox (published_at) WHERE published_at IS NOT NULL",
    f"""CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{NOTIFY_CHANNEL}', '');
    RETURN NULL;
END $$""",
    """CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify()""",
)

DROP_DDL = ("DROP TABLE outbox", "DROP FUNCTION outbox_notify()")


def lane_of(key: str) -> int:
    return zlib.crc32(key.encode()) % LANES


async def write_outbox(
    conn: asyncpg.Connection, events: Sequence[Event | tuple[Event, str | None]], *, source: str
) -> None:
    """Insert events into the outbox on `conn`, which must be inside the caller's transaction.

    An event may come with the `traceparent` it was raised under; a bare event takes the current one.
    """
    current = current_traceparent()
    now = datetime.now(UTC)
    rows = []
    for item in events:
        event, traceparent = item if isinstance(item, tuple) else (item, current)
        meta = EventMeta(id=str(uuid.uuid4()), type=event.type_name(), source=source, time=now, traceparent=traceparent)
        headers = {k: v.decode() for k, v in meta.to_headers()}
        rows.append((meta.id, event.topic, event.key, lane_of(event.key), meta.type, event.to_json(), headers))
    await conn.executemany(
        "INSERT INTO outbox (event_id, topic, key, lane, event_type, payload, headers)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
        rows,
    )


async def pending_backlog(conn: asyncpg.Connection) -> tuple[int, float]:
    """How many rows wait to be published, and the age in seconds of the oldest (0 when none wait)."""
    row = await conn.fetchrow(
        "SELECT count(*) AS n, coalesce(extract(epoch FROM now() - min(created_at)), 0) AS age"
        " FROM outbox WHERE published_at IS NULL"
    )
    return int(row["n"]), max(0.0, float(row["age"]))
