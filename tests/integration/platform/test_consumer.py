"""The consumer runner: inbox deduplication, dead letters, retries, graceful stop."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

import pytest
from prometheus_client import REGISTRY

from paysaga.contracts.bus import event_source
from paysaga.contracts.cloudevents import EventMeta
from paysaga.contracts.events import CustomerCreated, Event
from paysaga.contracts.topics import CUSTOMER_EVENTS, dead_letter_topic
from paysaga.platform.consumer import Delivery, EventConsumer, TransientError
from paysaga.platform.db import Database
from paysaga.platform.kafka import KafkaProducer
from paysaga.platform.unit_of_work import Transaction
from tests.support.infra import Infra
from tests.support.kafka import Record, produce_raw, read_messages, wait_for_records

pytestmark = pytest.mark.integration

CUSTOMER = event_source("customer")  # the one source a consumer accepts CustomerCreated from


async def record_applied(event: CustomerCreated, uow: Transaction, delivery: Delivery) -> None:
    await uow.conn.execute("INSERT INTO applied (event_id, user_id) VALUES ($1, $2)", delivery.meta.id, event.user_id)


def send_customer_created(
    infra: Infra,
    user_id: str,
    *,
    event_id: str | None = None,
    body: bytes | None = None,
    headers: list[tuple[str, bytes]] | None = None,
    key: str | None = None,
) -> str:
    event_id = event_id or str(uuid.uuid4())
    event = CustomerCreated(user_id=user_id, currency="RUB", created_at=datetime.now(UTC))
    meta = EventMeta(id=event_id, type="CustomerCreated", source=CUSTOMER, time=datetime.now(UTC))
    produce_raw(
        infra.kafka,
        CUSTOMER_EVENTS,
        key=key or user_id,
        value=body if body is not None else event.to_json(),
        headers=headers if headers is not None else meta.to_headers(),
    )
    return event_id


async def applied_count(db: Database, user_id: str) -> int:
    async with db.connection() as conn:
        return await conn.fetchval("SELECT count(*) FROM applied WHERE user_id = $1", user_id)


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 20) -> bool:
    for _ in range(int(timeout / 0.1)):
        if await check():
            return True
        await asyncio.sleep(0.1)
    return False


def make_consumer(
    db: Database, producer: KafkaProducer, infra: Infra, handler, group: str | None = None, **kw
) -> EventConsumer:
    return EventConsumer(
        service="platformtest",
        source="/paysaga/platformtest",
        group_id=group or f"test-{uuid.uuid4()}",
        kafka=infra.kafka,
        db=db,
        producer=producer,
        handlers={CustomerCreated: handler},
        backoff_initial=0.02,
        **kw,
    )


def counted(name: str, consumer: EventConsumer, **labels: str) -> float:
    """A consumer metric of this test's group (each test has a group of its own)."""
    return REGISTRY.get_sample_value(name, {"group": consumer.group_id, **labels}) or 0.0


def mine(key: str, consumer: EventConsumer) -> Callable[[Record], bool]:
    """Dead letters of this test's consumer (the platform's own consumers may dead-letter the same records)."""
    return lambda r: r.key == key and r.headers.get("dlq_consumer_group") == consumer.group_id


async def test_redelivered_event_is_applied_once(db: Database, producer: KafkaProducer, infra: Infra) -> None:
    user = f"dup-{uuid.uuid4()}"
    event_id = send_customer_created(infra, user)
    send_customer_created(infra, user, event_id=event_id)  # the same event again (a redelivery)
    marker = f"marker-{uuid.uuid4()}"
    send_customer_created(infra, marker, key=user)  # behind both copies on their partition
    consumer = make_consumer(db, producer, infra, record_applied)
    task = asyncio.create_task(consumer.run())
    try:
        assert await eventually(lambda: _positive(db, marker))
    finally:
        consumer.stop()
        await task
    assert await applied_count(db, user) == 1


async def _positive(db: Database, user: str) -> bool:
    return await applied_count(db, user) > 0


async def test_an_event_from_a_service_that_does_not_publish_its_type_is_dead_lettered_never_applied(
    db: Database, producer: KafkaProducer, infra: Infra
) -> None:
    """A second line behind the ACLs: a record whose ce_source is not its type's publisher (SPEC §11;
    the contract says CustomerCreated comes from Customer) is refused, whoever could write it."""
    key = f"forged-{uuid.uuid4()}"  # one key: one partition, in this order
    forged = EventMeta(id=str(uuid.uuid4()), type="CustomerCreated", source="/paysaga/wallet", time=datetime.now(UTC))
    send_customer_created(infra, f"{key}-forged", key=key, headers=forged.to_headers())
    send_customer_created(infra, key)  # a genuine one after it
    consumer = make_consumer(db, producer, infra, record_applied)
    task = asyncio.create_task(consumer.run())
    try:
        assert await eventually(lambda: _positive(db, key))
    finally:
        consumer.stop()
        await task
    [dead] = await asyncio.to_thread(
        wait_for_records, infra.kafka, dead_letter_topic(CUSTOMER_EVENTS), mine(key, consumer)
    )
    assert dead.headers["dlq_reason"] == "unexpected-source"
    assert "CustomerCreated is published by /paysaga/customer, not by '/paysaga/wallet'" in dead.headers["dlq_error"]
    assert (dead.headers["ce_id"], dead.headers["ce_source"]) == (forged.id, "/paysaga/wallet")  # kept as it came
    assert await applied_count(db, f"{key}-forged") == 0
    assert await applied_count(db, key) == 1


async def test_poison_messages_go_to_the_dead_letter_topic_and_the_partition_moves_on(
    db: Database, producer: KafkaProducer, infra: Infra
) -> None:
    key = f"poison-{uuid.uuid4()}"  # one key: all records on one partition, in this order
    meta = EventMeta(id=str(uuid.uuid4()), type="CustomerCreated", source=CUSTOMER, time=datetime.now(UTC))
    send_customer_created(infra, key, body=b"{not json")  # unparseable
    send_customer_created(infra, key, body=b'{"userId": "u", "currency": "XXX1"}')  # schema-invalid
    send_customer_created(infra, key, headers=[("ce_id", meta.id.encode())])  # no CloudEvents envelope
    send_customer_created(infra, key)  # a good one after them
    consumer = make_consumer(db, producer, infra, record_applied)
    task = asyncio.create_task(consumer.run())
    try:
        assert await eventually(lambda: _positive(db, key))
    finally:
        consumer.stop()
        await task
    dead = await asyncio.to_thread(
        wait_for_records, infra.kafka, dead_letter_topic(CUSTOMER_EVENTS), mine(key, consumer), count=3
    )
    assert sorted(r.headers["dlq_reason"] for r in dead) == [
        "invalid-envelope",
        "schema-invalid",
        "schema-invalid",
    ]
    assert all(r.headers["dlq_original_topic"] == CUSTOMER_EVENTS for r in dead)
    assert {r.value for r in dead} >= {b"{not json"}
    assert await applied_count(db, key) == 1


async def test_a_handler_that_keeps_failing_is_retried_then_dead_lettered(
    db: Database, producer: KafkaProducer, infra: Infra
) -> None:
    key = f"failing-{uuid.uuid4()}"
    attempts: list[str] = []

    async def always_fails(event: CustomerCreated, uow: Transaction, delivery: Delivery) -> None:
        if event.user_id == key:
            attempts.append(delivery.meta.id)
            raise ValueError("a bug in the handler")
        await record_applied(event, uow, delivery)

    bad_id = send_customer_created(infra, key)
    after = f"after-{uuid.uuid4()}"
    send_customer_created(infra, after, key=key)  # same partition: it waits behind the failing one
    consumer = make_consumer(db, producer, infra, always_fails, max_attempts=3)
    task = asyncio.create_task(consumer.run())
    try:
        assert await eventually(lambda: _positive(db, after))
    finally:
        consumer.stop()
        await task
    assert attempts == [bad_id] * 3
    dead = await asyncio.to_thread(
        wait_for_records, infra.kafka, dead_letter_topic(CUSTOMER_EVENTS), mine(key, consumer)
    )
    assert len(dead) == 1
    assert dead[0].headers["dlq_reason"] == "handler-failed"
    assert "a bug in the handler" in dead[0].headers["dlq_error"]
    assert await applied_count(db, key) == 0  # each failed attempt rolled back
    # Retried (once or twice: its try in a batch counts as the first when the batch had one), then the dead letter.
    assert counted("paysaga_consumer_records_retried_total", consumer, cause="error") in (1, 2)
    assert counted("paysaga_consumer_records_dead_lettered_total", consumer, reason="handler-failed") == 1


async def test_transient_errors_are_retried_without_dead_lettering(
    db: Database, producer: KafkaProducer, infra: Infra
) -> None:
    key = f"transient-{uuid.uuid4()}"
    failures = {"left": 6}  # more than max_attempts: outages never count towards dead-lettering

    async def flaky(event: CustomerCreated, uow: Transaction, delivery: Delivery) -> None:
        if event.user_id == key and failures["left"] > 0:
            failures["left"] -= 1
            raise TransientError("downstream not ready")
        await record_applied(event, uow, delivery)

    send_customer_created(infra, key)
    consumer = make_consumer(db, producer, infra, flaky, max_attempts=2)
    task = asyncio.create_task(consumer.run())
    try:
        assert await eventually(lambda: _positive(db, key))
    finally:
        consumer.stop()
        await task
    assert failures["left"] == 0
    dead = await asyncio.to_thread(
        wait_for_records,
        infra.kafka,
        dead_letter_topic(CUSTOMER_EVENTS),
        mine(key, consumer),
        timeout=0,
    )
    assert dead == []
    assert await applied_count(db, key) == 1
    # Outage retries (the first failure may have been its batch's, rolled back), none an error retry.
    assert counted("paysaga_consumer_records_retried_total", consumer, cause="outage") in (5, 6)
    assert counted("paysaga_consumer_records_retried_total", consumer, cause="error") == 0
    assert counted("paysaga_consumer_records_dead_lettered_total", consumer, reason="handler-failed") == 0


async def test_stop_finishes_the_event_in_hand_and_commits_its_offset(
    db: Database, producer: KafkaProducer, infra: Infra
) -> None:
    key = f"slow-{uuid.uuid4()}"
    group = f"test-{uuid.uuid4()}"
    started = asyncio.Event()

    async def slow(event: CustomerCreated, uow: Transaction, delivery: Delivery) -> None:
        if event.user_id == key:
            started.set()
            await asyncio.sleep(1.0)
        await record_applied(event, uow, delivery)

    send_customer_created(infra, key)
    consumer = make_consumer(db, producer, infra, slow, group=group)
    task = asyncio.create_task(consumer.run())
    await asyncio.wait_for(started.wait(), 30)
    consumer.stop()  # while the handler is in the middle of the event
    await task
    assert await applied_count(db, key) == 1

    # Restarted in the same group, the consumer does not see that event again.
    seen: list[str] = []

    async def spy(event: CustomerCreated, uow: Transaction, delivery: Delivery) -> None:
        seen.append(event.user_id)

    marker = f"marker-{uuid.uuid4()}"
    send_customer_created(infra, marker, key=key)  # behind that event on its partition
    again = make_consumer(db, producer, infra, spy, group=group)
    task = asyncio.create_task(again.run())
    try:
        for _ in range(200):
            if marker in seen:
                break
            await asyncio.sleep(0.1)
    finally:
        again.stop()
        await task
    assert marker in seen
    assert key not in seen


async def test_a_failing_record_in_a_batch_costs_its_neighbours_nothing(
    db: Database, producer: KafkaProducer, infra: Infra
) -> None:
    """The batch's transaction rolls back and is redone one record at a time: the records before
    and after the bad one are applied exactly once, the bad one is tried max_attempts times in all."""
    key = f"batch-{uuid.uuid4()}"  # one partition, records in this order
    before, after = f"before-{uuid.uuid4()}", f"after-{uuid.uuid4()}"
    calls: list[str] = []

    async def fails_on_key(event: CustomerCreated, uow: Transaction, delivery: Delivery) -> None:
        calls.append(event.user_id)
        if event.user_id == key:
            raise ValueError("a bug in the handler")
        await record_applied(event, uow, delivery)

    send_customer_created(infra, before, key=key)
    send_customer_created(infra, key)
    send_customer_created(infra, after, key=key)
    # The three records as one polled batch, whatever the broker would have grouped.
    batch = await asyncio.to_thread(read_messages, infra.kafka, CUSTOMER_EVENTS, key, 3)
    consumer = make_consumer(db, producer, infra, fails_on_key, max_attempts=3)
    done = await consumer.apply_batch([batch])
    assert done == [batch[-1]]  # the partition may move past all three
    assert calls == [before, key, before, key, key, after]  # the batch, then one by one
    assert await applied_count(db, before) == 1
    assert await applied_count(db, after) == 1
    assert await applied_count(db, key) == 0
    dead = await asyncio.to_thread(
        wait_for_records, infra.kafka, dead_letter_topic(CUSTOMER_EVENTS), mine(key, consumer)
    )
    assert [r.headers["dlq_reason"] for r in dead] == ["handler-failed"]


async def test_before_batch_runs_in_the_batch_transaction_with_the_new_events_only(
    db: Database, producer: KafkaProducer, infra: Infra
) -> None:
    """The hook sees the batch's events not applied before (a duplicate is left out), ahead of the
    handlers, inside the batch's transaction: what it writes commits or rolls back with them."""
    key = f"hook-{uuid.uuid4()}"
    first, second = f"first-{uuid.uuid4()}", f"second-{uuid.uuid4()}"
    seen: list[list[str]] = []
    order: list[str] = []

    async def before(tx: Transaction, events: Sequence[Event]) -> None:
        seen.append([e.user_id for e in events if isinstance(e, CustomerCreated)])
        order.append("hook")
        await tx.conn.execute("INSERT INTO applied (event_id, user_id) VALUES ($1, $2)", str(uuid.uuid4()), key)

    async def handler(event: CustomerCreated, uow: Transaction, delivery: Delivery) -> None:
        order.append(event.user_id)
        if event.user_id == second and order.count(second) == 1:
            raise ValueError("the second batch fails, once")
        await record_applied(event, uow, delivery)

    applied_id = send_customer_created(infra, first, key=key)
    send_customer_created(infra, first, key=key, event_id=applied_id)  # the same event again
    send_customer_created(infra, second, key=key)
    batch = await asyncio.to_thread(read_messages, infra.kafka, CUSTOMER_EVENTS, key, 3)
    consumer = make_consumer(db, producer, infra, handler, before_batch=before)
    await consumer.apply_batch([batch[:1]])
    assert seen == [[first]] and order == ["hook", first]
    assert await applied_count(db, key) == 1  # the hook's row, committed with the batch

    order.clear()
    await consumer.apply_batch([batch[1:]])  # the duplicate and `second`, whose handler fails once
    assert seen[1] == [second]  # the duplicate is not among the new events
    assert order[:2] == ["hook", second]
    assert await applied_count(db, key) == 1  # the failed batch's hook row rolled back with it
    assert await applied_count(db, second) == 1  # redone alone (one by one: no hook)
    assert await applied_count(db, first) == 1


async def test_an_event_already_applied_by_an_earlier_batch_is_skipped(
    db: Database, producer: KafkaProducer, infra: Infra
) -> None:
    user = f"later-dup-{uuid.uuid4()}"
    consumer = make_consumer(db, producer, infra, record_applied)
    task = asyncio.create_task(consumer.run())
    try:
        event_id = send_customer_created(infra, user)
        assert await eventually(lambda: _positive(db, user))
        send_customer_created(infra, user, event_id=event_id)  # redelivered after its batch committed
        marker = f"marker-{uuid.uuid4()}"
        send_customer_created(infra, marker, key=user)  # behind it on the same partition
        assert await eventually(lambda: _positive(db, marker))
    finally:
        consumer.stop()
        await task
    assert await applied_count(db, user) == 1


async def test_a_non_utf8_key_or_a_garbled_envelope_is_dead_lettered_and_the_partition_moves_on(
    db: Database, producer: KafkaProducer, infra: Infra
) -> None:
    marker = f"garbled-{uuid.uuid4()}"  # on every record: finds this test's dead letters
    good = f"after-garbled-{uuid.uuid4()}"

    def send(key: str | bytes, headers: list[tuple[str, bytes]], value: bytes | None = None) -> None:
        user = good if key == good else f"u-{uuid.uuid4()}"
        body = CustomerCreated(user_id=user, currency="RUB", created_at=datetime.now(UTC)).to_json()
        # All on partition 0, in this order: the good record comes after every bad one.
        produce_raw(
            infra.kafka,
            CUSTOMER_EVENTS,
            key=key,
            value=value if value is not None else body,
            headers=[*headers, ("test_marker", marker.encode())],
            partition=0,
        )

    def meta() -> list[tuple[str, bytes]]:
        return EventMeta(
            id=str(uuid.uuid4()), type="CustomerCreated", source=CUSTOMER, time=datetime.now(UTC)
        ).to_headers()

    def replaced(name: str, value: bytes) -> list[tuple[str, bytes]]:
        return [(k, value if k == name else v) for k, v in meta()]

    send(b"\xff\xfe", meta())  # a key that is not UTF-8
    send("k", replaced("ce_id", b"\xff\xfe"))  # an id that is not UTF-8
    send("k", replaced("ce_source", b"/test\x00"))  # a NUL byte in the source
    send("k", replaced("ce_time", b"\xff"))  # a garbled time
    send("k", replaced("ce_specversion", b""))  # a missing header
    send("k", meta(), value=b"\xff\xfe{}")  # a value that is not the event's JSON
    send(good, meta())
    consumer = make_consumer(db, producer, infra, record_applied)
    task = asyncio.create_task(consumer.run())
    try:
        assert await eventually(lambda: _positive(db, good))
    finally:
        consumer.stop()
        await task
    assert not task.cancelled() and task.exception() is None

    def of_this_test(r: Record) -> bool:
        return r.headers.get("test_marker") == marker and r.headers.get("dlq_consumer_group") == consumer.group_id

    dead = await asyncio.to_thread(
        wait_for_records, infra.kafka, dead_letter_topic(CUSTOMER_EVENTS), of_this_test, count=6
    )
    assert sorted(r.headers["dlq_reason"] for r in dead) == [
        "invalid-envelope",
        "invalid-envelope",
        "invalid-envelope",
        "invalid-envelope",
        "invalid-key",
        "schema-invalid",
    ]
    assert await applied_count(db, good) == 1
