"""Helpers of the DWH integration tests: saga events onto the real topics, and the comparison of
DuckDB with what the topics hold."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import orjson
from confluent_kafka import Producer

from paysaga.contracts.topics import ALL_TOPICS
from paysaga.platform.kafka import KafkaAccess
from paysaga.services.dwh.store import DwhStore
from tests.support.kafka import read_topic
from tests.unit.services.dwh.factory import Outcome, Produced, Saga, customer, saga, top_up

OUTCOMES: tuple[Outcome, ...] = ("COMPLETED", "COMPLETED", "DECLINED", "FRAUD", "PENDING", "COMPLETED")


def wave(count: int, start: datetime | None = None) -> tuple[list[Saga], list[Produced]]:
    """`count` payments (mixed outcomes, each its own timings), and one customer and one top-up per payment."""
    base = start or datetime.now(UTC).replace(microsecond=0)
    sagas = [
        saga(
            OUTCOMES[i % len(OUTCOMES)],
            base + timedelta(seconds=i),
            amount=1000 * (i + 1),
            callback_after_ms=400 + 10 * i,
            final_after_ms=900 + 25 * i,
        )
        for i in range(count)
    ]
    events = [e for s in sagas for e in s.events] + [customer(base) for _ in range(count)]
    events += [top_up(base, amount=1000 * (i + 1)) for i in range(count)]
    return sagas, events


def produce(kafka: KafkaAccess, events: list[Produced], *, pause: float = 0.0) -> None:
    """Put the events on their topics (acknowledged by the broker), optionally one by one, slowly."""
    producer = Producer(kafka.client_config(**{"enable.idempotence": True, "acks": "all", "linger.ms": 1}))
    for event in events:
        producer.produce(event.topic, key=event.key, value=event.value, headers=cast(Any, event.headers))
        if pause:
            assert producer.flush(10) == 0
            time.sleep(pause)
    assert producer.flush(10) == 0


def stored_of(store: DwhStore, events: list[Produced]) -> int:
    """How many raw rows the DWH holds for these events (by event id)."""
    ids = [e.ce_id for e in events]
    return store.fetch("SELECT count(*) FROM raw_events WHERE list_contains($ids, ce_id)", {"ids": ids})[0][0]


def eventually(check: Callable[[], bool], *, timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def assert_matches_the_topics(store: DwhStore, kafka: KafkaAccess, *, timeout: float = 60.0) -> dict[str, int]:
    """Every record now on every topic is in DuckDB exactly once, with its key, payload and
    headers; and DuckDB holds nothing else up to the offsets read (other tests' services may
    still be publishing, so records after the snapshot may come too). Returns the counts."""
    counts = {}
    for topic in ALL_TOPICS:
        on_topic = {(r.partition, r.offset): r for r in read_topic(kafka, topic)}
        ends: dict[int, int] = defaultdict(int)
        for partition, offset in on_topic:
            ends[partition] = max(ends[partition], offset + 1)

        def stored(topic: str = topic) -> list[tuple]:
            return store.fetch(
                'SELECT "partition", "offset", key, payload, payload_text, headers FROM raw_events WHERE topic = ?',
                [topic],
            )

        def complete(on_topic: dict = on_topic, stored: Callable[[], list[tuple]] = stored) -> bool:
            return on_topic.keys() <= {(p, o) for p, o, *_ in stored()}

        eventually(complete, timeout=timeout, what=f"{topic} ingested")
        rows = stored()
        positions = [(p, o) for p, o, *_ in rows]
        assert len(positions) == len(set(positions)), f"duplicate offsets in {topic}"
        snapshot = {(p, o): rest for p, o, *rest in rows if o < ends.get(p, 0)}
        assert snapshot.keys() == on_topic.keys(), f"{topic}: DuckDB and the topic differ"
        assert len(snapshot) == len(on_topic)
        for position, (key, payload, payload_text, headers) in snapshot.items():
            record = on_topic[position]
            assert (key or None) == record.key
            if payload is not None:
                assert orjson.loads(payload) == record.json
            else:  # not JSON, or a tombstone
                assert (payload_text or "") == record.value.decode(errors="replace")
            assert orjson.loads(headers) == record.headers
        counts[topic] = len(on_topic)
    return counts


def assert_sagas(store: DwhStore, sagas: list[Saga]) -> None:
    """The payment_sagas view has each of these payments once, with its status, error and durations."""
    rows = {
        r["payment_id"]: r
        for r in store.fetch_dicts(
            "SELECT * FROM payment_sagas WHERE list_contains($ids, payment_id)", {"ids": [s.payment_id for s in sagas]}
        )
    }
    assert rows.keys() == {s.payment_id for s in sagas}
    for s in sagas:
        row = rows[s.payment_id]
        assert (row["status"], row["error_code"], row["amount"]) == (s.status, s.error_code, s.amount), s
        assert row["final_events"] == (0 if s.status == "PENDING" else 1)
        assert row["duration_ms"] == (None if s.status == "PENDING" else s.final_after_ms)
        assert row["to_callback_ms"] == (s.callback_after_ms if s.txn_id else None)
