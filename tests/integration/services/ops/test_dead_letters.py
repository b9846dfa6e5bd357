"""Dead letters read straight from Kafka and paged by offsets; replays re-publish the original
record once (409 on a second try, unless forced), each recorded in the Ops database."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from paysaga.contracts.topics import PAYMENT_EVENTS, dead_letter_topic
from paysaga.platform.db import Database
from paysaga.platform.problems import Problem
from paysaga.services.ops import repository
from paysaga.services.ops.dead_letters import DeadLetters
from paysaga.services.ops.domain import REPLAY_HEADER, DeadLetterFilter
from paysaga.services.ops.schemas import RecordCoordinates, ReplayFilter, ReplayRequest
from tests.support.infra import Infra
from tests.support.kafka import produce_raw, wait_for_records

pytestmark = pytest.mark.integration

DLQ = dead_letter_topic(PAYMENT_EVENTS)


def poison(infra: Infra, *, group: str, key: str, reason: str = "handler-failed", partition: int | None = None) -> None:
    """A dead letter as the consumer writes one: the original record's headers, then the dlq_ ones.
    Its type is one no consumer handles, so a replay of it is skipped by every real consumer."""
    headers = {
        "ce_specversion": "1.0",
        "ce_id": str(uuid.uuid4()),
        "ce_type": "OpsTestEvent",
        "ce_source": "/paysaga/ops-test",
        "ce_time": datetime.now(UTC).isoformat(),
        "dlq_reason": reason,
        "dlq_error": "RuntimeError: a bug",
        "dlq_consumer_group": group,
        "dlq_original_topic": PAYMENT_EVENTS,
        "dlq_original_partition": "0",
        "dlq_original_offset": "1",
        "dlq_failed_at": datetime.now(UTC).isoformat(),
    }
    produce_raw(
        infra.kafka,
        DLQ,
        key=key,
        value=b'{"paymentId": "%s"}' % key.encode(),
        headers=[(k, v.encode()) for k, v in headers.items()],
        partition=partition,
    )


async def test_pages_cover_every_matching_record_once_across_partitions(
    infra: Infra, dead_letters: DeadLetters
) -> None:
    group = f"ops-test-{uuid.uuid4().hex[:8]}"
    for i in range(7):
        poison(
            infra,
            group=group,
            key=f"{group}-{i}",
            reason="handler-failed" if i % 2 else "schema-invalid",
            partition=i % 6,
        )
    seen: list[tuple[int, int]] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = await dead_letters.page(
            topic=PAYMENT_EVENTS, selection=DeadLetterFilter(group=group), limit=3, cursor=cursor
        )
        pages += 1
        assert len(page.items) <= 3
        seen += [(i.partition, i.offset) for i in page.items]
        assert all(i.consumer_group == group and i.original_topic == PAYMENT_EVENTS for i in page.items)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert len(seen) == 7 and len(set(seen)) == 7
    assert pages >= 3
    failed = await dead_letters.page(
        topic=DLQ, selection=DeadLetterFilter(group=group, reason="handler-failed"), limit=50, cursor=None
    )
    assert len(failed.items) == 3 and failed.next_cursor is None
    item = failed.items[0]
    assert (
        item.value == {"paymentId": item.key} and item.ce_type == "OpsTestEvent" and item.error == "RuntimeError: a bug"
    )


async def test_a_replay_sends_the_original_record_once_unless_forced(
    infra: Infra, db: Database, dead_letters: DeadLetters, operator_id: uuid.UUID
) -> None:
    group = f"ops-test-{uuid.uuid4().hex[:8]}"
    key = f"{group}-one"
    poison(infra, group=group, key=key)
    [record] = (await dead_letters.page(topic=None, selection=DeadLetterFilter(key=key), limit=5, cursor=None)).items
    where = RecordCoordinates(topic=record.topic, partition=record.partition, offset=record.offset)

    first = await dead_letters.replay(ReplayRequest(record=where), operator_id=operator_id, request_key="k1")
    assert (first.replayed, first.failed, first.items[0].outcome) == (1, 0, "REPLAYED")
    [sent] = await asyncio.to_thread(wait_for_records, infra.kafka, PAYMENT_EVENTS, lambda r: r.key == key)
    assert sent.value == b'{"paymentId": "%s"}' % key.encode()
    assert sent.headers["ce_id"] == record.ce_id and sent.headers["ce_type"] == "OpsTestEvent"
    assert not [h for h in sent.headers if h.startswith("dlq_")]
    assert sent.headers[REPLAY_HEADER] == str(first.items[0].replay_id)
    assert (sent.partition, sent.offset) == (first.items[0].published_partition, first.items[0].published_offset)

    with pytest.raises(Problem) as refused:
        await dead_letters.replay(ReplayRequest(record=where), operator_id=operator_id, request_key="k2")
    assert refused.value.status == 409 and refused.value.slug == "already-replayed"

    forced = await dead_letters.replay(
        ReplayRequest(record=where, force=True), operator_id=operator_id, request_key="k3"
    )
    assert forced.replayed == 1
    assert (
        len(await asyncio.to_thread(wait_for_records, infra.kafka, PAYMENT_EVENTS, lambda r: r.key == key, count=2))
        == 2
    )
    async with db.connection() as conn:
        rows = await repository.replays_of(conn, [(where.topic, where.partition, where.offset)])
    assert [(r["status"], r["forced"], r["request_key"], r["ce_id"]) for r in rows] == [
        ("PUBLISHED", False, "k1", record.ce_id),
        ("PUBLISHED", True, "k3", record.ce_id),
    ]
    page = await dead_letters.page(topic=None, selection=DeadLetterFilter(key=key), limit=5, cursor=None)
    assert [r.status for r in page.items[0].replays] == ["PUBLISHED", "PUBLISHED"]


async def test_a_missing_record_is_not_found(dead_letters: DeadLetters, operator_id: uuid.UUID) -> None:
    with pytest.raises(Problem) as missing:
        await dead_letters.replay(
            ReplayRequest(record=RecordCoordinates(topic=DLQ, partition=0, offset=10**9)),
            operator_id=operator_id,
            request_key="k",
        )
    assert missing.value.status == 404


async def test_a_filter_replays_what_was_not_replayed_yet(
    infra: Infra, dead_letters: DeadLetters, operator_id: uuid.UUID
) -> None:
    group = f"ops-test-{uuid.uuid4().hex[:8]}"
    for i in range(3):
        poison(infra, group=group, key=f"{group}-{i}")
    poison(infra, group=group, key=f"{group}-other", reason="schema-invalid")
    page = await dead_letters.page(
        topic=None, selection=DeadLetterFilter(group=group, reason="handler-failed"), limit=10, cursor=None
    )
    one = page.items[0]
    await dead_letters.replay(
        ReplayRequest(record=RecordCoordinates(topic=one.topic, partition=one.partition, offset=one.offset)),
        operator_id=operator_id,
        request_key="single",
    )
    chosen = ReplayFilter(topic=PAYMENT_EVENTS, group=group, reason="handler-failed")
    batch = await dead_letters.replay(ReplayRequest(filter=chosen), operator_id=operator_id, request_key="batch")
    assert (batch.replayed, batch.already_replayed, batch.failed, batch.complete) == (2, 1, 0, True)
    assert (one.partition, one.offset) not in {(i.dead_letter.partition, i.dead_letter.offset) for i in batch.items}
    again = await dead_letters.replay(ReplayRequest(filter=chosen), operator_id=operator_id, request_key="again")
    assert (again.replayed, again.already_replayed, again.items) == (0, 3, [])
