"""The ingest: every record of every topic into DuckDB, exactly once.

Unlike the platform's EventConsumer, the offsets live in DuckDB, in the same transaction as the rows: each
assigned partition starts at the offset stored there (or at the topic's beginning), never at Kafka's committed
offset, which is written after each batch only as a copy for lag monitoring. Kafka and DuckDB calls block, so
the loop runs in its own thread; any failure starts a new Kafka session after a pause, resuming from DuckDB.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from collections.abc import Sequence
from typing import Any

import structlog
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Message, TopicPartition
from confluent_kafka.admin import AdminClient

from paysaga.contracts.topics import ALL_TOPICS, dead_letter_topic
from paysaga.platform.assembly import batching_fetch
from paysaga.platform.kafka import KafkaAccess
from paysaga.platform.metrics import ConsumerLag, ConsumerMetrics
from paysaga.services.dwh.store import DwhStore, RawRecord

log = structlog.get_logger("paysaga.dwh")

# Every topic, and the dead letters of each: an operator sees a payment's dead letters with its records.
TOPICS = (*ALL_TOPICS, *(dead_letter_topic(t) for t in ALL_TOPICS))


def to_record(msg: Message) -> RawRecord:
    key = msg.key()
    value = msg.value()
    _, timestamp_ms = msg.timestamp()
    partition = msg.partition()
    offset = msg.offset()
    assert partition is not None and offset is not None
    return RawRecord(
        topic=msg.topic() or "",
        partition=partition,
        offset=offset,
        key=key.encode() if isinstance(key, str) else key,
        value=value.encode() if isinstance(value, str) else value,
        headers=_headers(msg),
        timestamp_ms=timestamp_ms if timestamp_ms and timestamp_ms > 0 else None,
    )


def _headers(msg: Message) -> list[tuple[str, bytes | None]]:
    raw = msg.headers() or ()
    items = raw.items() if isinstance(raw, dict) else raw
    return [(k, v.encode() if isinstance(v, str) else v) for k, v in items]


class IngestWorker:
    """A runtime worker (`run()` until `stop()`): Kafka → DuckDB, one transaction per batch."""

    def __init__(
        self,
        store: DwhStore,
        *,
        kafka: KafkaAccess,
        group_id: str = "dwh",
        topics: Sequence[str] = TOPICS,
        batch_size: int = 5000,
        poll_timeout_seconds: float = 5.0,
        session_timeout_ms: int = 10_000,
        retry_backoff_seconds: float = 1.0,
        **overrides: Any,
    ) -> None:
        self.store = store
        self.topics = list(topics)
        self.batch_size = batch_size
        self.poll_timeout_seconds = poll_timeout_seconds
        self.retry_backoff_seconds = retry_backoff_seconds
        self.conf: dict[str, Any] = {
            **kafka.client_config(),
            "group.id": group_id,
            "client.id": group_id,
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            "session.timeout.ms": session_timeout_ms,
            "heartbeat.interval.ms": min(1000, session_timeout_ms // 3),
            "max.poll.interval.ms": 300_000,
            # Batches are filled for up to poll_timeout anyway: fewer, fuller fetches.
            **batching_fetch(min(1000, max(1, int(poll_timeout_seconds * 1000)))),
        }
        self.conf.update(overrides)
        self.metrics = ConsumerMetrics(group_id)
        self._lag = ConsumerLag(group_id)
        self._admin = AdminClient(kafka.client_config())
        self._stop = threading.Event()
        self.batches = 0
        self.records = 0

    # -- runtime interface ---------------------------------------------------------------------

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()

        def target() -> None:
            error: BaseException | None = None
            try:
                self.run_blocking()
            except BaseException as exc:
                error = exc
            with contextlib.suppress(RuntimeError):  # the loop may be gone at process exit
                loop.call_soon_threadsafe(_settle, done, error)

        context = contextvars.copy_context()  # the log context (service name) goes along
        threading.Thread(target=context.run, args=(target,), name="dwh-ingest", daemon=True).start()
        await done

    def stop(self) -> None:
        self._stop.set()

    async def check_kafka(self) -> None:
        await asyncio.to_thread(self._admin.list_topics, timeout=3)

    # -- the loop ------------------------------------------------------------------------------

    def run_blocking(self) -> None:
        log.info("dwh.ingest_started", topics=self.topics, group=self.conf["group.id"], db=str(self.store.path))
        backoff = self.retry_backoff_seconds
        while not self._stop.is_set():
            try:
                self._session()
                backoff = self.retry_backoff_seconds
            except Exception as exc:
                log.error("dwh.ingest_failed", error=repr(exc), retry_in=backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 30.0)
        log.info("dwh.ingest_stopped", batches=self.batches, records=self.records)

    def _session(self) -> None:
        """One membership in the group, until stopped or failing."""
        consumer = Consumer({**self.conf, **self._lag.config()})
        try:
            consumer.subscribe(self.topics, on_assign=self._on_assign, on_revoke=_on_revoke, on_lost=_on_revoke)
            while not self._stop.is_set():
                messages = consumer.consume(self.batch_size, timeout=self.poll_timeout_seconds)
                records: list[RawRecord] = []
                for msg in messages:
                    err = msg.error()
                    if err is not None:
                        if err.fatal():
                            raise KafkaException(err)
                        log.warning("dwh.kafka_error", error=str(err))
                        continue
                    records.append(to_record(msg))
                if records:
                    self._write(consumer, records)
        finally:
            try:
                consumer.close()  # leaves the group; commits nothing (positions are in DuckDB)
            except Exception as exc:
                log.warning("dwh.consumer_close_failed", error=repr(exc))
            self._lag.clear()

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        stored = self.store.stored_offsets()
        for tp in partitions:
            tp.offset = stored.get((tp.topic, tp.partition), OFFSET_BEGINNING)
        consumer.assign(partitions)
        log.info(
            "dwh.partitions_assigned",
            positions={f"{tp.topic}[{tp.partition}]": tp.offset for tp in partitions},
        )

    def _write(self, consumer: Consumer, records: list[RawRecord]) -> None:
        result = self.store.ingest(records)
        self.batches += 1
        self.records += result.inserted
        self.metrics.applied.inc(result.inserted)
        self.metrics.duplicates.inc(result.skipped)
        log.debug("dwh.batch_ingested", inserted=result.inserted, skipped=result.skipped)
        if result.skipped:
            log.info("dwh.redelivery_skipped", skipped=result.skipped)
        # Only a copy, for lag monitoring: positions always come from DuckDB.
        offsets = [TopicPartition(t, p, o) for (t, p), o in result.next_offsets.items()]
        with contextlib.suppress(KafkaException):
            consumer.commit(offsets=offsets, asynchronous=True)


def _on_revoke(consumer: Consumer, partitions: list[TopicPartition]) -> None:
    log.info("dwh.partitions_revoked", partitions=[f"{tp.topic}[{tp.partition}]" for tp in partitions])


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
