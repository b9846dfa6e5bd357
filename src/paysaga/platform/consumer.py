"""The consumer runner: Kafka records → typed events → handlers, in transactions with the inbox.

A polled batch is applied in ONE transaction (inbox claims, handlers in each partition's order, their outbox
rows), a few statements per record instead of a transaction each; its offsets are stored for commit only after
that commit. If anything fails, the batch rolls back and is redone one record per transaction to isolate the
record at fault: an invalid record, one whose `ce_source` is not the publisher of its type (a forgery: see
`contracts.bus`), or one whose handler still fails after `max_attempts` (its try in the batch counts as the
first), is dead-lettered and the partition moves on; an outage (`is_outage`, including
`TransientError`) is retried without limit and never dead-letters.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
import traceback
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import structlog
from confluent_kafka import KafkaException, Message, TopicPartition
from confluent_kafka.aio import AIOConsumer
from pydantic import ValidationError

from paysaga.contracts.bus import EXPECTED_SOURCES
from paysaga.contracts.cloudevents import EventMeta, InvalidEnvelope, parse_headers, strict_headers_dict
from paysaga.contracts.events import Event
from paysaga.contracts.topics import dead_letter_topic
from paysaga.platform import inbox
from paysaga.platform.backoff import backoff_delay
from paysaga.platform.db import Database
from paysaga.platform.kafka import DeliveryFailed, KafkaAccess, KafkaProducer, consumer_config
from paysaga.platform.metrics import ConsumerLag, ConsumerMetrics
from paysaga.platform.tracing import processing
from paysaga.platform.unit_of_work import HandlerTransaction, Transaction, UnitOfWork

log = structlog.get_logger("paysaga.consumer")


class TransientError(Exception):
    """Raised by a handler to say: not now, retry later (never dead-letter)."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """Where a record came from, for handlers that need more than the event."""

    meta: EventMeta
    topic: str
    partition: int
    offset: int
    key: str | None


Handler = Callable[[Any, Transaction, Delivery], Awaitable[None]]
# Runs in a batch's transaction before its handlers, with the batch's new events: e.g. to take the
# row locks the handlers will take, in one order (two instances' batches locking rows in the order
# their records came can deadlock).
BatchPreparer = Callable[[Transaction, Sequence[Event]], Awaitable[None]]

_OUTAGES = (
    OSError,
    TimeoutError,
    DeliveryFailed,
    TransientError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.exceptions.TransactionRollbackError,
)


def is_outage(exc: BaseException) -> bool:
    return isinstance(exc, _OUTAGES)


@dataclass(slots=True)
class _Prepared:
    msg: Message
    event: Event
    handler: Handler
    delivery: Delivery


class _Skip:
    """An event type this service does not handle."""


_SKIP = _Skip()


def _position(msg: Message) -> tuple[str, int, int]:
    """Where a consumed record sits (librdkafka types these optional: only error events lack them)."""
    topic, partition, offset = msg.topic(), msg.partition(), msg.offset()
    assert topic is not None and partition is not None and offset is not None, "a record without a position"
    return topic, partition, offset


def _headers(msg: Message) -> list[tuple[str, bytes]]:
    """The record's headers, to copy onto its dead letter."""
    raw = msg.headers() or []
    pairs = raw.items() if isinstance(raw, dict) else raw
    return [(k, v if isinstance(v, bytes) else (v or "").encode()) for k, v in pairs]


class InvalidKey(ValueError):
    """A record whose key is not UTF-8 text (every key we write is an id)."""


class UnexpectedSource(ValueError):
    """A record whose `ce_source` is not the service that publishes its type: never applied."""


def _check_source(meta: EventMeta) -> None:
    expected = EXPECTED_SOURCES.get(meta.type)
    if meta.source != expected:
        raise UnexpectedSource(f"{meta.type} is published by {expected}, not by {meta.source!r}")


def _key(msg: Message) -> str | None:
    key = msg.key()
    if not key:
        return None
    if isinstance(key, str):
        return key
    try:
        return key.decode()
    except UnicodeDecodeError as exc:
        raise InvalidKey(f"record key is not UTF-8: {key[:64]!r}") from exc


def _raw_key(msg: Message) -> str | bytes | None:
    """The key as it came, for the dead letter (lossless, even when it is not UTF-8)."""
    return msg.key() or None


def _delivery(msg: Message, meta: EventMeta) -> Delivery:
    topic, partition, offset = _position(msg)
    return Delivery(meta=meta, topic=topic, partition=partition, offset=offset, key=_key(msg))


class _Stopped(Exception):
    """The runner is stopping while a record waits for an outage to end; it stays uncommitted."""


class EventConsumer:
    def __init__(
        self,
        *,
        service: str,
        source: str,
        group_id: str,
        kafka: KafkaAccess,
        db: Database,
        producer: KafkaProducer,
        handlers: Mapping[type[Event], Handler],
        max_attempts: int = 5,
        backoff_initial: float = 0.1,
        backoff_max: float = 5.0,
        batch_size: int = 500,
        before_batch: BatchPreparer | None = None,
        **kafka_overrides: Any,
    ) -> None:
        self.service = service
        self.source = source  # ce_source of the events its handlers raise
        self.group_id = group_id
        self._db = db
        self._producer = producer
        self._handlers = {cls.type_name(): (cls, fn) for cls, fn in handlers.items()}
        self.topics = sorted({cls.topic for cls in handlers})
        self._max_attempts = max_attempts
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._batch_size = batch_size
        self._before_batch = before_batch
        self._conf = consumer_config(kafka, group_id, **kafka_overrides)
        self._stopping = asyncio.Event()
        self.processed = 0
        self.dead_lettered = 0
        self.assigned = asyncio.Event()
        self._in_hand: _Prepared | None = None  # the record whose handler runs in the batch
        self.metrics = ConsumerMetrics(group_id)
        self._lag = ConsumerLag(group_id)

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        consumer = AIOConsumer({**self._conf, **self._lag.async_config()}, max_workers=2)
        await consumer.subscribe(self.topics, on_assign=self._on_assign)
        log.info("consumer.started", group=self.group_id, topics=self.topics)
        try:
            while not self._stopping.is_set():
                # consume() waits for a full batch or the timeout: wait for the first record with
                # poll(), then take whatever else is already fetched without waiting.
                first = await consumer.poll(0.2)
                if first is None:
                    continue
                messages = [first, *await consumer.consume(num_messages=self._batch_size - 1, timeout=0)]
                by_partition: dict[tuple[str, int], list[Message]] = defaultdict(list)
                for msg in messages:
                    if msg.error():
                        log.warning("consumer.kafka_error", group=self.group_id, error=str(msg.error()))
                        continue
                    by_partition[_position(msg)[:2]].append(msg)
                if not by_partition:
                    continue
                done = await self.apply_batch(list(by_partition.values()))
                offsets = [TopicPartition(t, p, o + 1) for t, p, o in (_position(m) for m in done if m is not None)]
                if offsets:
                    try:
                        await consumer.store_offsets(offsets=offsets)
                    except KafkaException as exc:
                        # A partition taken away meanwhile (a rebalance): its new owner gets the
                        # records again, and its inbox drops what this batch already applied.
                        log.warning("consumer.offsets_not_stored", group=self.group_id, error=str(exc))
        finally:
            await consumer.close()  # commits the stored offsets and leaves the group
            self._lag.clear()
            log.info("consumer.stopped", group=self.group_id, processed=self.processed)

    async def _on_assign(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        log.info(
            "consumer.assigned",
            group=self.group_id,
            partitions=[f"{p.topic}/{p.partition}" for p in partitions],
        )
        self.assigned.set()

    async def apply_batch(self, partitions: list[list[Message]]) -> list[Message | None]:
        """Apply a polled batch (each partition's records in order); return, per partition, the last
        record that is done: its offset + 1 may be committed."""
        if self._stopping.is_set():
            return []
        prepared: list[_Prepared] = []
        for messages in partitions:
            for msg in messages:
                item = self._prepare(msg)
                if item is None:  # a record for the dead-letter topic: the one-by-one path handles it
                    return await self._one_by_one(partitions, {})
                if isinstance(item, _Prepared):
                    prepared.append(item)
        if prepared:
            try:
                await self._apply_batch(prepared)
            except Exception as exc:
                self.metrics.rollbacks.inc()
                failed = self._in_hand
                log.warning(
                    "consumer.batch_rolled_back",
                    group=self.group_id,
                    records=len(prepared),
                    event_id=failed.delivery.meta.id if failed else None,
                    error=repr(exc),
                )
                tried = {} if failed is None or is_outage(exc) else {_position(failed.msg): 1}
                return await self._one_by_one(partitions, tried)
            finally:
                self._in_hand = None
        return [messages[-1] for messages in partitions]

    def _prepare(self, msg: Message) -> _Prepared | _Skip | None:
        """The record's event and handler; _SKIP for an event type not handled here; None if invalid."""
        try:
            meta = parse_headers(strict_headers_dict(msg.headers()))
        except InvalidEnvelope:
            return None
        entry = self._handlers.get(meta.type)
        if entry is None:
            return _SKIP
        event_cls, handler = entry
        try:
            _check_source(meta)
            event = event_cls.model_validate_json(msg.value() or b"")
            delivery = _delivery(msg, meta)
        except (UnexpectedSource, ValidationError, InvalidKey):
            return None
        return _Prepared(msg, event, handler, delivery)

    async def _apply_batch(self, prepared: list[_Prepared]) -> None:
        async with UnitOfWork(self._db, source=self.source) as uow:
            tx = HandlerTransaction(uow)
            fresh = await inbox.claim_many(
                uow.conn,
                [
                    (d.meta.source, d.meta.id, d.meta.type, d.topic, d.partition, d.offset)
                    for d in (p.delivery for p in prepared)
                ],
            )
            skipped: list[_Prepared] = []
            to_apply: list[_Prepared] = []
            for item in prepared:
                meta = item.delivery.meta
                if (meta.source, meta.id) not in fresh:
                    skipped.append(item)
                    continue
                fresh.discard((meta.source, meta.id))  # an id twice in one batch is applied once
                to_apply.append(item)
            if self._before_batch is not None and to_apply:
                await self._before_batch(tx, [item.event for item in to_apply])
            for item in to_apply:
                meta = item.delivery.meta
                self._in_hand = item
                with self._processing(item.delivery):
                    started = time.perf_counter()
                    await item.handler(item.event, tx, item.delivery)
                    self.metrics.handler_took(meta.type, time.perf_counter() - started)
            self._in_hand = None
            await uow.commit()
        self.processed += len(prepared)
        self.metrics.applied.inc(len(prepared) - len(skipped))
        self.metrics.duplicates.inc(len(skipped))
        for item in skipped:
            log.info(
                "consumer.duplicate_skipped",
                group=self.group_id,
                event_id=item.delivery.meta.id,
                type=item.delivery.meta.type,
            )

    async def _one_by_one(
        self, partitions: list[list[Message]], tried: dict[tuple[str, int, int], int]
    ) -> list[Message | None]:
        """The batch again, one record per transaction, partitions concurrently."""
        return list(await asyncio.gather(*(self._process_partition(msgs, tried) for msgs in partitions)))

    async def _process_partition(
        self, messages: list[Message], tried: dict[tuple[str, int, int], int]
    ) -> Message | None:
        """Process in order; return the last record that is done (applied, skipped or dead-lettered)."""
        last_done: Message | None = None
        for msg in messages:
            if self._stopping.is_set():
                break
            try:
                await self._process(msg, tried.get(_position(msg), 0))
            except _Stopped:
                break
            last_done = msg
        return last_done

    async def _process(self, msg: Message, attempts_before: int = 0) -> None:
        try:
            meta = parse_headers(strict_headers_dict(msg.headers()))
        except InvalidEnvelope as exc:
            await self._guarded(msg, functools.partial(self._dead_letter, msg, "invalid-envelope", exc))
            return
        entry = self._handlers.get(meta.type)
        if entry is None:
            return  # an event type this service does not react to
        event_cls, handler = entry
        try:
            _check_source(meta)
        except UnexpectedSource as exc:
            await self._guarded(msg, functools.partial(self._dead_letter, msg, "unexpected-source", exc))
            return
        try:
            event = event_cls.model_validate_json(msg.value() or b"")
        except ValidationError as exc:
            await self._guarded(msg, functools.partial(self._dead_letter, msg, "schema-invalid", exc))
            return
        try:
            delivery = _delivery(msg, meta)
        except InvalidKey as exc:
            await self._guarded(msg, functools.partial(self._dead_letter, msg, "invalid-key", exc))
            return
        attempt = attempts_before
        while True:
            attempt += 1
            try:
                with self._processing(delivery):
                    applied = await self._apply(event, handler, delivery)
                self.processed += 1
                (self.metrics.applied if applied else self.metrics.duplicates).inc()
                if not applied:
                    log.info("consumer.duplicate_skipped", group=self.group_id, event_id=meta.id, type=meta.type)
                return
            except Exception as exc:
                if is_outage(exc):
                    log.warning("consumer.outage_retry", group=self.group_id, event_id=meta.id, error=repr(exc))
                    self.metrics.retried_outage.inc()
                    await self._backoff(attempt)
                    continue
                if attempt >= self._max_attempts:
                    log.error(
                        "consumer.giving_up",
                        group=self.group_id,
                        event_id=meta.id,
                        type=meta.type,
                        error=repr(exc),
                    )
                    await self._guarded(msg, functools.partial(self._dead_letter, msg, "handler-failed", exc))
                    return
                log.warning(
                    "consumer.handler_retry",
                    group=self.group_id,
                    event_id=meta.id,
                    attempt=attempt,
                    error=repr(exc),
                )
                self.metrics.retried_error.inc()
                await self._backoff(attempt)

    def _processing(self, d: Delivery) -> contextlib.AbstractContextManager[None]:
        """The record's processing span, in the trace its headers carry (one span per record, also in a batch)."""
        return processing(d.meta, topic=d.topic, partition=d.partition, offset=d.offset, key=d.key, group=self.group_id)

    async def _apply(self, event: Event, handler: Handler, delivery: Delivery) -> bool:
        async with UnitOfWork(self._db, source=self.source) as uow:
            claimed = await inbox.claim(
                uow.conn,
                event_source=delivery.meta.source,
                event_id=delivery.meta.id,
                event_type=delivery.meta.type,
                topic=delivery.topic,
                partition=delivery.partition,
                offset=delivery.offset,
            )
            if not claimed:
                return False
            started = time.perf_counter()
            await handler(event, HandlerTransaction(uow), delivery)
            self.metrics.handler_took(delivery.meta.type, time.perf_counter() - started)
            await uow.commit()
            return True

    async def _guarded(self, msg: Message, action: Callable[[], Awaitable[None]]) -> None:
        """Run `action` until it succeeds; outages are waited out, the runner stopping abandons it."""
        attempt = 0
        while True:
            attempt += 1
            try:
                await action()
                return
            except Exception as exc:
                log.warning("consumer.dead_letter_retry", group=self.group_id, error=repr(exc))
                await self._backoff(attempt)

    async def _dead_letter(self, msg: Message, reason: str, exc: BaseException) -> None:
        error = "".join(traceback.format_exception_only(exc)).strip()[:4000]
        topic, partition, offset = _position(msg)
        headers = _headers(msg)
        headers += [
            ("dlq_reason", reason.encode()),
            ("dlq_error", error.encode()),
            ("dlq_consumer_group", self.group_id.encode()),
            ("dlq_original_topic", topic.encode()),
            ("dlq_original_partition", str(partition).encode()),
            ("dlq_original_offset", str(offset).encode()),
            ("dlq_failed_at", datetime.now(UTC).isoformat().encode()),
        ]
        await self._producer.send(
            dead_letter_topic(topic), key=_raw_key(msg), value=msg.value() or b"", headers=headers
        )
        self.dead_lettered += 1
        self.metrics.dead_lettered(reason)
        log.error(
            "consumer.dead_lettered",
            group=self.group_id,
            reason=reason,
            topic=topic,
            partition=partition,
            offset=offset,
            error=error,
        )

    async def _backoff(self, attempt: int) -> None:
        delay = backoff_delay(attempt, initial=self._backoff_initial, maximum=self._backoff_max)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), delay)
        if self._stopping.is_set():
            raise _Stopped
