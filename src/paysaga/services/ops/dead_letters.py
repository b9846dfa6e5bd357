"""Dead letters (SPEC §9): browse the `<topic>.dlq` records with their reasons, straight from Kafka
(assigned partitions, no consumer group, nothing committed), and replay them to their original
topic with their original key and headers.

Why a replay is safe (docs/runbook.md): every consumer group that applied the event before finds
its `ce_id` in its inbox and drops it; only the group that failed it applies it. Each replay is
recorded in the Ops database before it is sent (PENDING), then PUBLISHED or FAILED: a record
with a replay that did not fail is not replayed again unless forced (409 for one record, skipped
in a filter's batch). A replay the service stopped in the middle of stays PENDING: it may have
been sent, so it counts as replayed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import structlog

from paysaga.platform.db import Database
from paysaga.platform.kafka import KafkaProducer
from paysaga.platform.problems import Problem, not_found
from paysaga.services.ops import repository
from paysaga.services.ops.domain import (
    DeadLetter,
    DeadLetterFilter,
    dead_letter_topics,
    decode_positions,
    encode_positions,
)
from paysaga.services.ops.kafka_clients import OpsKafka
from paysaga.services.ops.schemas import (
    DeadLetterPage,
    DeadLetterView,
    RecordCoordinates,
    ReplayItem,
    ReplayRef,
    ReplayRequest,
    ReplayResponse,
)

log = structlog.get_logger("paysaga.ops")


@dataclass(frozen=True)
class ScanLimits:
    records: int  # read at most per request
    seconds: float  # spent reading Kafka at most per request
    replay_records: int  # re-published at most per request


class DeadLetters:
    def __init__(self, db: Database, kafka: OpsKafka, producer: KafkaProducer, limits: ScanLimits) -> None:
        self._db = db
        self._kafka = kafka
        self._producer = producer
        self._limits = limits

    # --- browse -----------------------------------------------------------------------------

    async def page(
        self, *, topic: str | None, selection: DeadLetterFilter, limit: int, cursor: str | None
    ) -> DeadLetterPage:
        topics = dead_letter_topics(topic)
        start = decode_positions(cursor) if cursor else {}
        result = await asyncio.to_thread(
            self._kafka.read,
            topics,
            start=start,
            keep=selection.matches,
            limit=limit,
            scan_limit=self._limits.records,
            seconds=self._limits.seconds,
        )
        records = sorted(result.records, key=lambda r: r.coordinates)
        async with self._db.connection() as conn:
            replays = await repository.replays_of(conn, [r.coordinates for r in records])
        by_record: dict[tuple[str, int, int], list[ReplayRef]] = {}
        for row in replays:
            by_record.setdefault((row["dlq_topic"], row["dlq_partition"], row["dlq_offset"]), []).append(
                ReplayRef(
                    replay_id=row["replay_id"],
                    status=row["status"],
                    operator_id=str(row["operator_id"]),
                    forced=row["forced"],
                    requested_at=row["requested_at"],
                )
            )
        return DeadLetterPage(
            items=[view(r, by_record.get(r.coordinates, [])) for r in records],
            next_cursor=None if result.complete else encode_positions(result.positions),
            scanned=result.scanned,
        )

    # --- replay -----------------------------------------------------------------------------

    async def replay(self, request: ReplayRequest, *, operator_id: UUID, request_key: str) -> ReplayResponse:
        """Re-publish the selected records. One record already replayed (and not forced) → 409;
        one that does not exist → 404. A filter replays up to `limit` records not replayed yet."""
        if request.record is not None:
            record = await self._one(request.record)
            items = await self._publish([record], operator_id=operator_id, request_key=request_key, force=request.force)
            if items[0].outcome == "ALREADY_REPLAYED":
                raise Problem(
                    409,
                    "already-replayed",
                    "Already replayed",
                    f"{record.topic}[{record.partition}]@{record.offset} was replayed before (replay "
                    f"{items[0].replay_id}); send force=true to replay it again.",
                    replayId=items[0].replay_id,
                )
            return _response(items, complete=True, skipped=0)
        assert request.filter is not None
        chosen = request.filter
        [topic] = dead_letter_topics(chosen.topic)
        selection = DeadLetterFilter(group=chosen.group, reason=chosen.reason, ce_type=chosen.ce_type)
        async with self._db.connection() as conn:
            replayed = set() if request.force else await repository.replayed_offsets(conn, topic)
        skipped = 0

        def keep(record: DeadLetter) -> bool:
            nonlocal skipped
            if not selection.matches(record):
                return False
            if (record.partition, record.offset) in replayed:
                skipped += 1
                return False
            return True

        result = await asyncio.to_thread(
            self._kafka.read,
            [topic],
            start={},
            keep=keep,
            limit=min(request.limit, self._limits.replay_records),
            scan_limit=self._limits.records,
            seconds=self._limits.seconds,
        )
        items = await self._publish(
            result.records, operator_id=operator_id, request_key=request_key, force=request.force
        )
        skipped += sum(1 for i in items if i.outcome == "ALREADY_REPLAYED")  # replayed meanwhile by someone else
        items = [i for i in items if i.outcome != "ALREADY_REPLAYED"]
        return _response(items, complete=result.complete, skipped=skipped)

    async def _one(self, where: RecordCoordinates) -> DeadLetter:
        [topic] = dead_letter_topics(where.topic)
        record = await asyncio.to_thread(
            self._kafka.read_one, topic, where.partition, where.offset, seconds=self._limits.seconds
        )
        if record is None:
            raise not_found(f"no record at {topic}[{where.partition}]@{where.offset}")
        return record

    async def _publish(
        self, records: list[DeadLetter], *, operator_id: UUID, request_key: str, force: bool
    ) -> list[ReplayItem]:
        """Record each replay (PENDING), send them all, then record how each went."""
        planned: list[tuple[DeadLetter, int, bool]] = []  # record, its (new or earlier) replay id, new?
        async with self._db.transaction() as conn:
            for record in records:
                await repository.lock_record(conn, *record.coordinates)
                earlier = await repository.live_replay(conn, *record.coordinates)
                if earlier is not None and not force:
                    planned.append((record, earlier, False))
                    continue
                new_id = await repository.insert_replay(conn, _new_replay(record, operator_id, request_key, force))
                planned.append((record, new_id, True))
        sends: list[asyncio.Future[Any]] = []
        for record, replay_id, new in planned:
            if new:
                sends.append(
                    self._producer.send(
                        record.original_topic,
                        key=record.key,
                        value=record.value,
                        headers=record.replay_headers(replay_id),
                    )
                )
        outcomes = iter(await asyncio.gather(*sends, return_exceptions=True))
        items: list[ReplayItem] = []
        finished: list[tuple[int, str, str | None, int | None, int | None]] = []
        for record, replay_id, new in planned:
            if not new:
                items.append(_item(record, "ALREADY_REPLAYED", replay_id))
                continue
            outcome = next(outcomes)
            if isinstance(outcome, BaseException):
                error = f"{type(outcome).__name__}: {outcome}"[:2000]
                finished.append((replay_id, "FAILED", error, None, None))
                items.append(_item(record, "FAILED", replay_id, error=error))
                log.error("ops.replay_failed", replay_id=replay_id, topic=record.topic, error=error)
            else:
                partition, offset = outcome.partition(), outcome.offset()
                assert partition is not None and offset is not None, "an acknowledged record has a position"
                finished.append((replay_id, "PUBLISHED", None, partition, offset))
                items.append(_item(record, "REPLAYED", replay_id, partition=partition, offset=offset))
                log.info(
                    "ops.replayed",
                    replay_id=replay_id,
                    dead_letter=f"{record.topic}[{record.partition}]@{record.offset}",
                    event_id=record.ce_id,
                    to=f"{record.original_topic}[{partition}]@{offset}",
                )
        if finished:
            async with self._db.connection() as conn:
                await repository.finish_replays(conn, finished)
        return items


def view(record: DeadLetter, replays: list[ReplayRef]) -> DeadLetterView:
    value = record.value_json()
    return DeadLetterView(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        timestamp=record.timestamp,
        key=record.key_text,
        reason=record.reason,
        error=record.error,
        consumer_group=record.consumer_group,
        original_topic=record.original_topic,
        original_partition=record.original_partition,
        original_offset=record.original_offset,
        failed_at=record.failed_at,
        ce_type=record.ce_type,
        ce_id=record.ce_id,
        headers={k: v.decode(errors="replace") for k, v in record.headers},
        value=value,
        value_text=None if value is not None else record.value.decode(errors="replace"),
        replays=replays,
    )


def _new_replay(record: DeadLetter, operator_id: UUID, request_key: str, force: bool) -> repository.NewReplay:
    return repository.NewReplay(
        operator_id=operator_id,
        request_key=request_key,
        dlq_topic=record.topic,
        dlq_partition=record.partition,
        dlq_offset=record.offset,
        original_topic=record.original_topic,
        original_partition=record.original_partition,
        original_offset=record.original_offset,
        consumer_group=record.consumer_group,
        reason=record.reason,
        ce_id=record.ce_id,
        ce_type=record.ce_type,
        record_key=record.key_text,
        forced=force,
    )


def _item(
    record: DeadLetter,
    outcome: str,
    replay_id: int | None,
    *,
    error: str | None = None,
    partition: int | None = None,
    offset: int | None = None,
) -> ReplayItem:
    return ReplayItem.model_validate(
        {
            "dead_letter": RecordCoordinates(topic=record.topic, partition=record.partition, offset=record.offset),
            "original_topic": record.original_topic,
            "ce_id": record.ce_id,
            "ce_type": record.ce_type,
            "consumer_group": record.consumer_group,
            "outcome": outcome,
            "replay_id": replay_id,
            "error": error,
            "published_partition": partition,
            "published_offset": offset,
        }
    )


def _response(items: list[ReplayItem], *, complete: bool, skipped: int) -> ReplayResponse:
    return ReplayResponse(
        replayed=sum(1 for i in items if i.outcome == "REPLAYED"),
        failed=sum(1 for i in items if i.outcome == "FAILED"),
        already_replayed=skipped + sum(1 for i in items if i.outcome == "ALREADY_REPLAYED"),
        complete=complete,
        items=items,
    )
