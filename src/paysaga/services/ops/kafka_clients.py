"""Every Kafka client of the Ops service, made in one place from one configuration (`_config`):
the admin client (groups, committed offsets, watermarks), the dead-letter reader and the replay
producer. Where the cluster asks for credentials they are added in `_config`, once.

What the service needs of the cluster, for its principal's ACLs: DESCRIBE on every consumer group
and topic (lag), READ on the `<topic>.dlq` topics (browsing; the reader assigns partitions and
never joins or commits a group), WRITE on the original topics (replay).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, Message, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from paysaga.contracts.bus import OPERATOR_READER_GROUP, SUBSCRIPTIONS
from paysaga.platform.kafka import KafkaAccess, KafkaProducer
from paysaga.services.ops.domain import DeadLetter

# The reader's group id: librdkafka wants one, but the reader only assigns partitions, so it never
# joins this group and never commits an offset in it.
READER_GROUP = OPERATOR_READER_GROUP


@dataclass(frozen=True, slots=True)
class PartitionLag:
    topic: str
    partition: int
    committed: int | None  # None: the group has not committed on this partition yet
    low: int
    high: int

    @property
    def lag(self) -> int:
        """Records the group has still to apply: from its committed offset, or from the log start
        when it never committed or the log was truncated past it (where the group would resume)."""
        return max(0, self.high - (self.low if self.committed is None else max(self.committed, self.low)))


# Every consumer group of the contract with the topics it reads (`group_lag` shows one before it commits).
CONTRACT_GROUPS: dict[str, tuple[str, ...]] = {sub.group: sub.read_topics for sub in SUBSCRIPTIONS.values()}


@dataclass(frozen=True, slots=True)
class GroupLag:
    group: str
    state: str
    members: int
    partitions: tuple[PartitionLag, ...]


@dataclass(frozen=True, slots=True)
class TopicSize:
    topic: str
    records: int  # now on the topic: high watermarks minus log starts, over its partitions


@dataclass(frozen=True, slots=True)
class ClusterView:
    groups: tuple[GroupLag, ...]
    topics: tuple[TopicSize, ...]


@dataclass(frozen=True, slots=True)
class ReadResult:
    records: list[DeadLetter]
    positions: dict[tuple[str, int], int]  # next offset to read, per partition
    complete: bool  # every partition was read up to its high watermark of when the read began
    scanned: int


def _dead_letter(msg: Message) -> DeadLetter:
    topic, partition, offset = msg.topic(), msg.partition(), msg.offset()
    assert topic is not None and partition is not None and offset is not None, "a record without a position"
    kind, millis = msg.timestamp()
    key = msg.key()
    raw_headers = msg.headers() or []
    pairs = raw_headers.items() if isinstance(raw_headers, dict) else raw_headers
    return DeadLetter(
        topic=topic,
        partition=partition,
        offset=offset,
        timestamp=datetime.fromtimestamp(millis / 1000, UTC) if kind and millis > 0 else None,
        key=key.encode() if isinstance(key, str) else key,
        value=msg.value() or b"",
        headers=tuple((k, v if isinstance(v, bytes) else (v or "").encode()) for k, v in pairs),
    )


class OpsKafka:
    def __init__(self, kafka: KafkaAccess, *, client_id: str = "ops") -> None:
        self.kafka = kafka
        self.client_id = client_id
        self._admin: AdminClient | None = None
        self._members: dict[str, Consumer] = {}

    def _config(self, **overrides: Any) -> dict[str, Any]:
        return self.kafka.client_config(**{"client.id": self.client_id, **overrides})

    def producer(self) -> KafkaProducer:
        """The replay producer (idempotent, acks=all), as every service's."""
        return KafkaProducer(self.kafka, client_id=self.client_id)

    def admin(self) -> AdminClient:
        if self._admin is None:
            self._admin = AdminClient(self._config())
        return self._admin

    def _reader(self) -> Consumer:
        return Consumer(
            self._config(
                **{
                    "group.id": READER_GROUP,
                    "enable.auto.commit": False,
                    "enable.auto.offset.store": False,
                    "enable.partition.eof": False,
                    "log_level": 3,
                }
            )
        )

    # --- the fleet: consumer groups, their lag, the size of the dead-letter topics ----------------

    def cluster_view(self, *, timeout: float, size_of: Callable[[str], bool]) -> ClusterView:
        """Every consumer group with its state, members and lag per partition, and the number of
        records on each topic `size_of` selects. Blocking: run it in a thread."""
        admin = self.admin()
        metadata = admin.list_topics(timeout=timeout)
        listing = admin.list_consumer_groups(request_timeout=timeout).result(timeout)
        group_ids = sorted(g.group_id for g in listing.valid if g.group_id != READER_GROUP)
        descriptions = admin.describe_consumer_groups(group_ids, request_timeout=timeout) if group_ids else {}
        committed_futures = {
            g: admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(g)], request_timeout=timeout)[g]
            for g in group_ids
        }
        committed: dict[str, dict[tuple[str, int], int | None]] = {}
        states: dict[str, tuple[str, int]] = {}
        for group in group_ids:
            found: dict[tuple[str, int], int | None] = {}
            for tp in committed_futures[group].result(timeout).topic_partitions or []:
                found[(tp.topic, tp.partition)] = tp.offset if tp.offset >= 0 else None
            description = descriptions[group].result(timeout)
            for member in description.members:
                for tp in member.assignment.topic_partitions if member.assignment else []:
                    found.setdefault((tp.topic, tp.partition), None)
            committed[group] = found
            states[group] = (_state_name(description.state), len(description.members))
        sized = [(topic, p) for topic, meta in metadata.topics.items() if size_of(topic) for p in meta.partitions]
        partitions = sorted({tp for found in committed.values() for tp in found} | set(sized))
        low, high = self._watermarks(partitions, timeout=timeout)
        groups = tuple(
            GroupLag(
                group=g,
                state=states[g][0],
                members=states[g][1],
                partitions=tuple(
                    PartitionLag(t, p, offset, low.get((t, p), 0), high.get((t, p), 0))
                    for (t, p), offset in sorted(committed[g].items())
                ),
            )
            for g in group_ids
        )
        topics = tuple(
            TopicSize(topic, sum(high.get((t, p), 0) - low.get((t, p), 0) for t, p in sized if t == topic))
            for topic in sorted({t for t, _ in sized})
        )
        return ClusterView(groups, topics)

    def group_lag(self, groups: Mapping[str, Sequence[str]], *, timeout: float) -> tuple[GroupLag, ...]:
        """Each group's committed offset and lag on every partition of the topics it reads (`groups`:
        group → topics, the contract's). Blocking: run it in a thread.

        The committed offsets are read the way a member of the group reads them (OffsetFetch, through
        a client with the group's id that never joins it), not with the admin API's coordinator
        requests: those abort the whole process when a broker drops the connection mid-request
        (librdkafka issue 4605), and this runs every few seconds, broker restarts included. No state
        or members here (`cluster_view` has them)."""
        metadata = self.admin().list_topics(timeout=timeout)
        wanted = {
            g: [(t, p) for t in topics if t in metadata.topics for p in sorted(metadata.topics[t].partitions)]
            for g, topics in groups.items()
        }
        committed: dict[str, dict[tuple[str, int], int | None]] = {}
        for group, partitions in wanted.items():
            found = self._member_of(group).committed([TopicPartition(t, p) for t, p in partitions], timeout=timeout)
            committed[group] = {(tp.topic, tp.partition): tp.offset if tp.offset >= 0 else None for tp in found}
        low, high = self._watermarks(sorted({tp for tps in wanted.values() for tp in tps}), timeout=timeout)
        return tuple(
            GroupLag(
                group=g,
                state="",
                members=0,
                partitions=tuple(
                    PartitionLag(t, p, offset, low.get((t, p), 0), high.get((t, p), 0))
                    for (t, p), offset in sorted(committed[g].items())
                ),
            )
            for g in sorted(wanted)
        )

    async def close(self) -> None:
        """Release the group clients of `group_lag` (at shutdown)."""
        members, self._members = self._members, {}
        for member in members.values():
            await asyncio.to_thread(member.close)

    def _member_of(self, group: str) -> Consumer:
        """A client with the group's id that only reads its committed offsets (it never subscribes)."""
        if group not in self._members:
            self._members[group] = Consumer(
                self._config(**{"group.id": group, "enable.auto.commit": False, "client.id": f"{self.client_id}-lag"})
            )
        return self._members[group]

    def _watermarks(
        self, partitions: Iterable[tuple[str, int]], *, timeout: float
    ) -> tuple[dict[tuple[str, int], int], dict[tuple[str, int], int]]:
        wanted = list(partitions)
        if not wanted:
            return {}, {}
        admin = self.admin()
        earliest = admin.list_offsets(
            {TopicPartition(t, p): OffsetSpec.earliest() for t, p in wanted}, request_timeout=timeout
        )
        latest = admin.list_offsets(
            {TopicPartition(t, p): OffsetSpec.latest() for t, p in wanted}, request_timeout=timeout
        )
        low = {(tp.topic, tp.partition): f.result(timeout).offset for tp, f in earliest.items()}
        high = {(tp.topic, tp.partition): f.result(timeout).offset for tp, f in latest.items()}
        return low, high

    # --- dead letters --------------------------------------------------------------------------

    def read(
        self,
        topics: Iterable[str],
        *,
        start: dict[tuple[str, int], int],
        keep: Callable[[DeadLetter], bool],
        limit: int,
        scan_limit: int,
        seconds: float,
    ) -> ReadResult:
        """Read the topics' partitions from `start` (or their log start) up to the high watermarks
        of when the read began, keeping the records `keep` accepts, until `limit` are kept,
        `scan_limit` were read or `seconds` passed. Assigned partitions, no group: nothing is
        committed anywhere. Blocking: run it in a thread."""
        deadline = time.monotonic() + seconds
        consumer = self._reader()
        try:
            ends = self._reader_ends(consumer, topics, timeout=min(seconds, 10.0))
            positions = {tp: max(start.get(tp, low), low) for tp, (low, _) in ends.items()}
            todo = {tp for tp, (_, high) in ends.items() if positions[tp] < high}
            kept: list[DeadLetter] = []
            scanned = 0
            if todo:
                consumer.assign([TopicPartition(t, p, positions[(t, p)]) for t, p in sorted(todo)])
            while todo and len(kept) < limit and scanned < scan_limit and time.monotonic() < deadline:
                for msg in consumer.consume(500, timeout=0.2):
                    if msg.error():
                        continue
                    record = _dead_letter(msg)
                    tp = (record.topic, record.partition)
                    if tp not in todo or record.offset < positions[tp]:
                        continue
                    if record.offset >= ends[tp][1]:  # written after the read began
                        todo.discard(tp)
                        continue
                    scanned += 1
                    positions[tp] = record.offset + 1
                    if keep(record):
                        kept.append(record)
                    if positions[tp] >= ends[tp][1]:
                        todo.discard(tp)
                    if len(kept) >= limit or scanned >= scan_limit:
                        break
            return ReadResult(kept, positions, complete=not todo, scanned=scanned)
        finally:
            consumer.close()

    def read_one(self, topic: str, partition: int, offset: int, *, seconds: float) -> DeadLetter | None:
        """The record at this position, or None when there is none (never written, or deleted)."""
        consumer = self._reader()
        try:
            described = consumer.list_topics(topic, timeout=seconds).topics.get(topic)
            if described is None or partition not in described.partitions:
                return None  # no such partition: asking for its offsets would fail, not say "none"
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=seconds)
            if not low <= offset < high:
                return None
            consumer.assign([TopicPartition(topic, partition, offset)])
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                msg = consumer.poll(0.2)
                if msg is None or msg.error():
                    continue
                if msg.offset() == offset:
                    return _dead_letter(msg)
                if (msg.offset() or 0) > offset:
                    return None
            raise TimeoutError(f"{topic}[{partition}]@{offset} was not read within {seconds} s")
        finally:
            consumer.close()

    @staticmethod
    def _reader_ends(
        consumer: Consumer, topics: Iterable[str], *, timeout: float
    ) -> dict[tuple[str, int], tuple[int, int]]:
        ends: dict[tuple[str, int], tuple[int, int]] = {}
        metadata = consumer.list_topics(timeout=timeout)
        for topic in topics:
            meta = metadata.topics.get(topic)
            if meta is None or meta.error is not None:
                continue
            for partition in sorted(meta.partitions):
                ends[(topic, partition)] = consumer.get_watermark_offsets(
                    TopicPartition(topic, partition), timeout=timeout
                )
        return ends


def _state_name(state: Any) -> str:
    """`ConsumerGroupState.STABLE` → `STABLE` (the library's enum, or a plain value)."""
    return str(getattr(state, "name", state)).upper()
