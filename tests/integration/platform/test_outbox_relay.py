"""The outbox and its relay against the real broker and database."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections import defaultdict
from datetime import UTC, datetime

import pytest
from confluent_kafka import KafkaException

from paysaga.contracts.cloudevents import parse_headers
from paysaga.contracts.events import PaymentCompleted
from paysaga.contracts.topics import PAYMENT_EVENTS
from paysaga.platform.db import Database
from paysaga.platform.kafka import KafkaAccess, KafkaProducer
from paysaga.platform.outbox import LANES, lane_of
from paysaga.platform.relay import OutboxRelay, lock_lanes
from paysaga.platform.unit_of_work import UnitOfWork
from tests.support.infra import Infra
from tests.support.kafka import Record, read_topic, wait_for_records

pytestmark = pytest.mark.integration


def completed(payment_id: str, seq: int) -> PaymentCompleted:
    """A PaymentCompleted whose providerTxnId carries a sequence number, to check ordering."""
    return PaymentCompleted(payment_id=payment_id, provider_txn_id=f"seq-{seq:05d}", completed_at=datetime.now(UTC))


async def write_events(db: Database, events: list[PaymentCompleted], per_tx: int = 1) -> None:
    for i in range(0, len(events), per_tx):
        async with UnitOfWork(db, source="/test") as uow:
            for e in events[i : i + per_tx]:
                uow.publish(e)
            await uow.commit()


def of_run(prefix: str) -> list[Record]:
    return [r for r in read_topic_cached() if r.key and r.key.startswith(prefix)]


_bootstrap: list[KafkaAccess] = []


def read_topic_cached() -> list[Record]:
    return read_topic(_bootstrap[0], PAYMENT_EVENTS)


@pytest.fixture(autouse=True)
def _remember_bootstrap(infra: Infra) -> None:
    _bootstrap[:] = [infra.kafka]


async def pending(db: Database, prefix: str) -> int:
    async with db.connection() as conn:
        return await conn.fetchval(
            "SELECT count(*) FROM outbox WHERE published_at IS NULL AND key LIKE $1", prefix + "%"
        )


def run_relay_process(infra: Infra, dsn: str, failpoint: str | None, timeout: float = 30) -> int:
    env = {**os.environ, **infra.kafka.environment(), "PAYSAGA_LOG_FORMAT": "json"}
    if failpoint:
        env["PAYSAGA_FAILPOINTS"] = failpoint
    proc = subprocess.Popen(
        [sys.executable, "-m", "paysaga.cli", "relay", "--dsn", dsn],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.terminate()
        return proc.wait(10)


async def test_event_and_state_change_commit_together_or_not_at_all(db: Database) -> None:
    prefix = f"atomic-{uuid.uuid4()}-"
    with pytest.raises(RuntimeError):
        async with UnitOfWork(db, source="/test") as uow:
            uow.publish(completed(prefix + "a", 1))
            await uow.conn.execute("INSERT INTO applied (event_id, user_id) VALUES ('x', $1)", prefix)
            raise RuntimeError("handler failed before commit")
    async with db.connection() as conn:
        assert await conn.fetchval("SELECT count(*) FROM outbox WHERE key LIKE $1", prefix + "%") == 0
        assert await conn.fetchval("SELECT count(*) FROM applied WHERE user_id = $1", prefix) == 0


async def test_relay_publishes_with_cloudevents_headers(db: Database, producer: KafkaProducer, infra: Infra) -> None:
    prefix = f"headers-{uuid.uuid4()}-"
    await write_events(db, [completed(prefix + "p", 1)])
    relay = OutboxRelay(db, producer)
    task = asyncio.create_task(relay.run())
    try:
        records = await asyncio.to_thread(
            wait_for_records, infra.kafka, PAYMENT_EVENTS, lambda r: (r.key or "").startswith(prefix)
        )
    finally:
        relay.stop()
        await task
    assert len(records) == 1
    record = records[0]
    meta = parse_headers(record.headers)
    assert meta.type == "PaymentCompleted"
    assert meta.source == "/test"
    assert record.headers["content-type"] == "application/json"
    assert record.key == prefix + "p"
    assert set(record.json) == {"paymentId", "providerTxnId", "completedAt"}
    assert await pending(db, prefix) == 0


async def test_crash_between_commit_and_publish_publishes_exactly_once(db: Database, infra: Infra) -> None:
    prefix = f"crash-{uuid.uuid4()}-"
    await write_events(db, [completed(prefix + str(i % 3), i) for i in range(9)])

    # The relay process dies (as kill -9 would) after reading the rows, before sending them.
    assert run_relay_process(infra, db.dsn, "relay.before_publish") == 137
    assert await pending(db, prefix) == 9
    assert of_run(prefix) == []

    # A new relay publishes them: each exactly once.
    proc = subprocess.Popen(
        [sys.executable, "-m", "paysaga.cli", "relay", "--dsn", db.dsn],
        env={**os.environ, **infra.kafka.environment()},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            if await pending(db, prefix) == 0:
                break
            await asyncio.sleep(0.1)
    finally:
        proc.terminate()
        assert proc.wait(20) == 0  # graceful stop on SIGTERM
    records = of_run(prefix)
    ids = [r.headers["ce_id"] for r in records]
    assert len(ids) == 9 and len(set(ids)) == 9


async def test_crash_after_publish_before_marking_repeats_with_the_same_event_id(db: Database, infra: Infra) -> None:
    """The one window the outbox cannot close: the broker has the record, the row is not marked.
    The record is sent again with the same ce_id, which consumers' inboxes drop (see test_consumer)."""
    prefix = f"repeat-{uuid.uuid4()}-"
    await write_events(db, [completed(prefix + "k", 1)])
    assert run_relay_process(infra, db.dsn, "relay.after_publish") == 137
    assert await pending(db, prefix) == 1
    relay_producer = KafkaProducer(infra.kafka, client_id="test-relay")
    relay = OutboxRelay(db, relay_producer)
    await relay.publish_pending()
    assert relay.published == 1
    await relay_producer.close()
    records = of_run(prefix)
    assert len(records) == 2
    assert records[0].headers["ce_id"] == records[1].headers["ce_id"]
    assert await pending(db, prefix) == 0


async def test_a_pass_locks_only_the_lanes_it_takes_so_relays_share_them(db: Database) -> None:
    prefix = f"share-{uuid.uuid4()}-"
    keys = [f"{prefix}{k}" for k in range(40)]
    assert len({lane_of(k) for k in keys}) >= 6
    await write_events(db, [completed(k, i) for i, k in enumerate(keys)])
    try:
        async with db.transaction() as first, db.transaction() as second:
            taken = await lock_lanes(first, 3)
            also = await lock_lanes(second, 3)
            held = await second.fetch(
                "SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND classid = $1 AND granted"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                0x0B0C,
            )
        assert len(taken) == 3 and len(also) == 3 and not set(taken) & set(also)
        # No lane locked beyond those returned (a lock taken and not used would starve the other relay).
        assert sorted(r["objid"] for r in held) == sorted(taken + also)
    finally:
        async with db.connection() as conn:
            await conn.execute("DELETE FROM outbox WHERE key LIKE $1", prefix + "%")


async def test_two_relays_publish_each_event_once_in_order_per_key(db: Database, infra: Infra) -> None:
    prefix = f"two-{uuid.uuid4()}-"
    keys = [f"{prefix}{k}" for k in range(12)]
    assert len({lane_of(k) for k in keys}) >= 4
    # Two lanes and two rows per pass each: neither relay can take every pending lane at once (with the
    # default half of the lanes, one relay could hold all of the few lanes these keys use, every pass).
    relays = [
        OutboxRelay(db, KafkaProducer(infra.kafka, client_id=f"relay-{i}"), batch_size=2, max_lanes=2) for i in range(2)
    ]
    tasks = [asyncio.create_task(r.run()) for r in relays]
    # Writers keep committing while both relays run, several events per transaction.
    events = [completed(keys[i % len(keys)], i) for i in range(600)]
    await asyncio.gather(*(write_events(db, events[w::4], per_tx=5) for w in range(4)))
    for _ in range(200):
        if await pending(db, prefix) == 0:
            break
        await asyncio.sleep(0.1)
    for r in relays:
        r.stop()
    await asyncio.gather(*tasks)
    for r in relays:
        await r._producer.close()

    assert all(r.published > 0 for r in relays), "both relays should have taken part"
    records = of_run(prefix)
    ids = [r.headers["ce_id"] for r in records]
    assert len(ids) == 600 and len(set(ids)) == 600
    # Per key, the order on the partition is the order the events were committed in (outbox id order).
    async with db.connection() as conn:
        rows = await conn.fetch("SELECT key, event_id::text FROM outbox WHERE key LIKE $1 ORDER BY id", prefix + "%")
    committed: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        committed[row["key"]].append(row["event_id"])
    seen: dict[str, list[str]] = defaultdict(list)
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        seen[record.key or ""].append(record.headers["ce_id"])
    assert seen == committed


async def test_a_lane_kafka_refuses_stays_pending_and_the_other_lanes_are_published(db: Database, infra: Infra) -> None:
    prefix = f"poison-{uuid.uuid4()}-"
    keys = [f"{prefix}{k}" for k in range(40)]
    await write_events(db, [completed(k, i) for i, k in enumerate(keys)])
    lanes: defaultdict[int, list[str]] = defaultdict(list)
    for k in keys:
        lanes[lane_of(k)].append(k)
    poisoned_lane, [before, poisoned, *after] = next((lane, ks) for lane, ks in lanes.items() if len(ks) >= 3)
    async with db.connection() as conn:  # a record over the producer's 1 MB limit: refused before it is sent
        await conn.execute("UPDATE outbox SET payload = $2 WHERE key = $1", poisoned, b"x" * 2_000_000)
    others = [k for k in keys if lane_of(k) != poisoned_lane]
    assert others, "the keys should spread over several lanes"
    producer = KafkaProducer(infra.kafka, client_id="test-relay-poison")
    relay = OutboxRelay(db, producer, max_lanes=LANES)  # every lane in one pass
    try:
        with pytest.raises(KafkaException):
            await relay.publish_pending()
        published = {r.key for r in of_run(prefix)}
        assert set(others) <= published  # the healthy lanes went out, in the same pass
        assert before in published and poisoned not in published
        async with db.connection() as conn:
            still = await conn.fetch("SELECT key FROM outbox WHERE published_at IS NULL AND key LIKE $1", prefix + "%")
        # The row before it is marked (not sent again every pass); it and the rest of its lane wait.
        assert {r["key"] for r in still} == {poisoned, *after}
    finally:
        async with db.connection() as conn:  # do not leave a poisoned row for the next relay
            await conn.execute("DELETE FROM outbox WHERE key LIKE $1", prefix + "%")
        await producer.close()
