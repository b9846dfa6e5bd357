"""The consumer runner: Kafka records → typed events → handlers, each in its own transaction.

For every record: parse the CloudEvents envelope and the payload; claim its id in the inbox and
run the handler in ONE transaction (with the outbox rows the handler raised); only after that
commit is the offset stored for commit. Partitions of a batch are processed concurrently, the
records of one partition strictly in order.

Failures: an unparseable or schema-invalid record goes straight to the dead-letter topic. A
handler that keeps failing is retried with backoff `max_attempts` times, then dead-lettered
with the reason in headers, and the partition moves on. An outage (database or broker out of
reach, serialization conflicts, `TransientError`) is retried without limit and never
dead-letters: the partition waits, losing nothing. Stopping finishes the record in hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import traceback
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import structlog
from confluent_kafka import Message, TopicPartition
from confluent_kafka.aio import AIOConsumer
from pydantic import ValidationError

from paysaga.contracts.cloudevents import EventMeta, InvalidEnvelope, headers_dict, parse_headers
from paysaga.contracts.events import Event
from paysaga.contracts.topics import dead_letter_topic
from paysaga.platform import inbox
from paysaga.platform.db import Database
from paysaga.platform.kafka import DeliveryFailed, KafkaProducer, consumer_config
from paysaga.platform.tracing import span
from paysaga.platform.unit_of_work import UnitOfWork

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


Handler = Callable[[Any, UnitOfWork, Delivery], Awaitable[None]]

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


class _Stopped(Exception):
    """The runner is stopping while a record waits for an outage to end; it stays uncommitted."""


class EventConsumer:
    def __init__(
        self,
        *,
        service: str,
        group_id: str,
        bootstrap_servers: str,
        db: Database,
        producer: KafkaProducer,
        handlers: Mapping[type[Event], Handler],
        max_attempts: int = 5,
        backoff_initial: float = 0.1,
        backoff_max: float = 5.0,
        batch_size: int = 500,
        **kafka_overrides: Any,
    ) -> None:
        self.service = service
        self.group_id = group_id
        self._db = db
        self._producer = producer
        self._handlers = {cls.type_name(): (cls, fn) for cls, fn in handlers.items()}
        self.topics = sorted({cls.topic for cls in handlers})
        self._max_attempts = max_attempts
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._batch_size = batch_size
        self._conf = consumer_config(bootstrap_servers, group_id, **kafka_overrides)
        self._stopping = asyncio.Event()
        self.processed = 0
        self.dead_lettered = 0
        self.assigned = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        consumer = AIOConsumer(self._conf, max_workers=2)
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
                    by_partition[(msg.topic(), msg.partition())].append(msg)
                if not by_partition:
                    continue
                done = await asyncio.gather(*(self._process_partition(msgs) for msgs in by_partition.values()))
                offsets = [TopicPartition(m.topic(), m.partition(), m.offset() + 1) for m in done if m is not None]
                if offsets:
                    await consumer.store_offsets(offsets=offsets)
        finally:
            await consumer.close()  # commits the stored offsets and leaves the group
            log.info("consumer.stopped", group=self.group_id, processed=self.processed)

    async def _on_assign(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        log.info(
            "consumer.assigned",
            group=self.group_id,
            partitions=[f"{p.topic}/{p.partition}" for p in partitions],
        )
        self.assigned.set()

    async def _process_partition(self, messages: list[Message]) -> Message | None:
        """Process in order; return the last record that is done (applied, skipped or dead-lettered)."""
        last_done: Message | None = None
        for msg in messages:
            if self._stopping.is_set():
                break
            try:
                await self._process(msg)
            except _Stopped:
                break
            last_done = msg
        return last_done

    async def _process(self, msg: Message) -> None:
        try:
            meta = parse_headers(headers_dict(msg.headers()))
        except InvalidEnvelope as exc:
            await self._guarded(msg, lambda exc=exc: self._dead_letter(msg, "invalid-envelope", exc))
            return
        entry = self._handlers.get(meta.type)
        if entry is None:
            return  # an event type this service does not react to
        event_cls, handler = entry
        try:
            event = event_cls.model_validate_json(msg.value() or b"")
        except ValidationError as exc:
            await self._guarded(msg, lambda exc=exc: self._dead_letter(msg, "schema-invalid", exc))
            return
        key = msg.key().decode() if msg.key() else None
        delivery = Delivery(meta=meta, topic=msg.topic(), partition=msg.partition(), offset=msg.offset(), key=key)
        attempt = 0
        while True:
            attempt += 1
            try:
                with span(f"consume {meta.type}", meta.traceparent, **{"messaging.consumer.group": self.group_id}):
                    applied = await self._apply(event, handler, delivery)
                self.processed += 1
                if not applied:
                    log.info("consumer.duplicate_skipped", group=self.group_id, event_id=meta.id, type=meta.type)
                return
            except Exception as exc:
                if is_outage(exc):
                    log.warning("consumer.outage_retry", group=self.group_id, event_id=meta.id, error=repr(exc))
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
                    await self._guarded(msg, lambda exc=exc: self._dead_letter(msg, "handler-failed", exc))
                    return
                log.warning(
                    "consumer.handler_retry",
                    group=self.group_id,
                    event_id=meta.id,
                    attempt=attempt,
                    error=repr(exc),
                )
                await self._backoff(attempt)

    async def _apply(self, event: Event, handler: Handler, delivery: Delivery) -> bool:
        async with UnitOfWork(self._db, source=f"/paysaga/{self.service}") as uow:
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
            await handler(event, uow, delivery)
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
        headers = list(msg.headers() or [])
        headers += [
            ("dlq_reason", reason.encode()),
            ("dlq_error", error.encode()),
            ("dlq_consumer_group", self.group_id.encode()),
            ("dlq_original_topic", msg.topic().encode()),
            ("dlq_original_partition", str(msg.partition()).encode()),
            ("dlq_original_offset", str(msg.offset()).encode()),
            ("dlq_failed_at", datetime.now(UTC).isoformat().encode()),
        ]
        key = msg.key().decode() if msg.key() else None
        await self._producer.send(dead_letter_topic(msg.topic()), key=key, value=msg.value() or b"", headers=headers)
        self.dead_lettered += 1
        log.error(
            "consumer.dead_lettered",
            group=self.group_id,
            reason=reason,
            topic=msg.topic(),
            partition=msg.partition(),
            offset=msg.offset(),
            error=error,
        )

    async def _backoff(self, attempt: int) -> None:
        delay = min(self._backoff_max, self._backoff_initial * 2 ** (attempt - 1))
        delay *= random.uniform(0.5, 1.0)  # jitter: replicas do not retry in lockstep
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), delay)
        if self._stopping.is_set():
            raise _Stopped
