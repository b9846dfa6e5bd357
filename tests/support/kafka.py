"""Reading and writing topics in tests, with plain librdkafka clients: as the broker's super user
(`infra.kafka`), or as whichever principal a test passes."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import orjson
from confluent_kafka import OFFSET_BEGINNING, Consumer, Message, Producer, TopicPartition

from paysaga.contracts.bus import EXPECTED_SOURCES
from paysaga.contracts.cloudevents import EventMeta, headers_dict
from paysaga.contracts.events import Event
from paysaga.platform.kafka import KafkaAccess


@dataclass
class Record:
    topic: str
    partition: int
    offset: int
    key: str | None
    value: bytes
    headers: dict[str, str]

    @property
    def json(self) -> dict:
        return orjson.loads(self.value)


def publisher_meta(event: Event, event_id: str | None = None) -> EventMeta:
    """The CloudEvents attributes of `event` as its publisher writes them (the contract's source), now."""
    return EventMeta(
        id=event_id or str(uuid.uuid4()),
        type=event.type_name(),
        source=EXPECTED_SOURCES[event.type_name()],
        time=datetime.now(UTC),
    )


def read_topic(kafka: KafkaAccess, topic: str) -> list[Record]:
    """Every record now on the topic, from the beginning to the high watermark of each partition."""
    consumer = Consumer(
        kafka.client_config(
            **{
                "group.id": f"test-reader-{uuid.uuid4()}",
                "enable.auto.commit": False,
                "log_level": 0,
            }
        )
    )
    try:
        meta = consumer.list_topics(topic, timeout=10)
        partitions = sorted(meta.topics[topic].partitions)
        ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions}
        todo = {p for p in partitions if ends[p] > 0}
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in todo])
        records: list[Record] = []
        deadline = time.monotonic() + 30
        while todo and time.monotonic() < deadline:
            for msg in consumer.consume(500, timeout=0.5):
                of_topic, partition, offset, key = msg.topic(), msg.partition(), msg.offset(), msg.key()
                if msg.error() or of_topic is None or partition is None or offset is None:
                    continue
                records.append(
                    Record(
                        of_topic,
                        partition,
                        offset,
                        key.decode(errors="backslashreplace") if key else None,  # lossless, as the DWH stores it
                        msg.value() or b"",
                        headers_dict(msg.headers()),
                    )
                )
                if offset + 1 >= ends[partition]:
                    todo.discard(partition)
        return records
    finally:
        consumer.close()


def read_messages(kafka: KafkaAccess, topic: str, key: str, count: int, timeout: float = 20.0) -> list[Message]:
    """The first `count` raw records of `key` on the topic, as a consumer would poll them."""
    consumer = Consumer(kafka.client_config(**{"group.id": f"test-raw-{uuid.uuid4()}", "log_level": 0}))
    try:
        partitions = sorted(consumer.list_topics(topic, timeout=10).topics[topic].partitions)
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        found: list[Message] = []
        deadline = time.monotonic() + timeout
        while len(found) < count and time.monotonic() < deadline:
            found += [m for m in consumer.consume(500, timeout=0.5) if not m.error() and m.key() == key.encode()]
        return found[:count]
    finally:
        consumer.close()


def wait_for_records(
    kafka: KafkaAccess, topic: str, predicate: Callable[[Record], bool], *, count: int = 1, timeout: float = 20.0
) -> list[Record]:
    """Poll the topic until at least `count` records match."""
    deadline = time.monotonic() + timeout
    while True:
        found = [r for r in read_topic(kafka, topic) if predicate(r)]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.3)


def produce_raw(
    kafka: KafkaAccess,
    topic: str,
    *,
    key: str | bytes | None,
    value: bytes,
    headers: list[tuple[str, bytes]],
    partition: int | None = None,
) -> None:
    producer = Producer(kafka.client_config(**{"enable.idempotence": True, "acks": "all"}))
    if partition is None:
        producer.produce(topic, key=key, value=value, headers=cast(Any, headers))  # the stubs want a wider list
    else:
        producer.produce(topic, key=key, value=value, headers=cast(Any, headers), partition=partition)
    assert producer.flush(10) == 0


@contextmanager
def dead_bootstrap() -> Iterator[KafkaAccess]:
    """A local address where nothing listens (the port stays bound, so nobody else takes it)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield KafkaAccess(f"127.0.0.1:{sock.getsockname()[1]}")
    finally:
        sock.close()
