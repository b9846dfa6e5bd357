"""Retention: published outbox rows and old inbox rows go, everything still needed stays."""

from __future__ import annotations

import uuid

import pytest

from paysaga.platform.db import Database
from paysaga.platform.retention import Retention

pytestmark = pytest.mark.integration


async def _outbox_row(db: Database, *, published_hours_ago: float | None, created_hours_ago: float) -> int:
    async with db.connection() as conn:
        return await conn.fetchval(
            "INSERT INTO outbox (event_id, topic, key, lane, event_type, payload, headers, created_at, published_at)"
            " VALUES ($1, 'retention-test', 'k', 0, 'Test', '\\x7b7d', '{}', now() - make_interval(hours => $2),"
            " CASE WHEN $3::float8 IS NULL THEN NULL ELSE now() - make_interval(secs => $3 * 3600) END) RETURNING id",
            uuid.uuid4(),
            int(created_hours_ago),
            published_hours_ago,
        )


async def _inbox_row(db: Database, *, hours_ago: float) -> str:
    event_id = str(uuid.uuid4())
    async with db.connection() as conn:
        await conn.execute(
            "INSERT INTO inbox (event_source, event_id, event_type, topic, kafka_partition, kafka_offset, processed_at)"
            " VALUES ('/retention-test', $1, 'Test', 't', 0, 0, now() - make_interval(secs => $2 * 3600))",
            event_id,
            hours_ago,
        )
    return event_id


@pytest.fixture(autouse=True)
async def _cleanup(db: Database):
    yield
    # The unpublished row must not reach the relay tests that share this database.
    async with db.connection() as conn:
        await conn.execute("DELETE FROM outbox WHERE topic = 'retention-test'")


async def test_purge_deletes_only_what_is_past_its_retention(db: Database) -> None:
    old_published = [await _outbox_row(db, published_hours_ago=30, created_hours_ago=31) for _ in range(5)]
    recent_published = await _outbox_row(db, published_hours_ago=1, created_hours_ago=1)
    old_unpublished = await _outbox_row(db, published_hours_ago=None, created_hours_ago=100)
    old_inbox = [await _inbox_row(db, hours_ago=200) for _ in range(3)]
    recent_inbox = await _inbox_row(db, hours_ago=100)

    retention = Retention(db, outbox_keep_seconds=24 * 3600, inbox_keep_seconds=192 * 3600, batch=2)
    outbox_deleted, inbox_deleted = await retention.purge()

    async with db.connection() as conn:
        outbox_left = {r["id"] for r in await conn.fetch("SELECT id FROM outbox WHERE topic = 'retention-test'")}
        inbox_left = {
            r["event_id"] for r in await conn.fetch("SELECT event_id FROM inbox WHERE event_source = '/retention-test'")
        }
    # Batches of 2: the loop went on until every old row was gone.
    assert outbox_deleted >= 5 and inbox_deleted >= 3
    assert not outbox_left & set(old_published)
    assert {recent_published, old_unpublished} <= outbox_left  # an unpublished event is never dropped
    assert not inbox_left & set(old_inbox)
    assert recent_inbox in inbox_left


async def test_a_service_without_an_outbox_only_purges_its_inbox(db: Database) -> None:
    kept = await _outbox_row(db, published_hours_ago=500, created_hours_ago=500)
    gone = await _inbox_row(db, hours_ago=500)
    outbox_deleted, inbox_deleted = await Retention(db, outbox_keep_seconds=None, inbox_keep_seconds=3600).purge()
    async with db.connection() as conn:
        assert await conn.fetchval("SELECT count(*) FROM outbox WHERE id = $1", kept) == 1
        assert await conn.fetchval("SELECT count(*) FROM inbox WHERE event_id = $1", gone) == 0
    assert outbox_deleted == 0 and inbox_deleted >= 1
