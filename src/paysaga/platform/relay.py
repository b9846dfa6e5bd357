"""The outbox relay: publishes committed outbox rows to Kafka, per lane, in order.

Woken by LISTEN/NOTIFY (the outbox trigger), with a slow poll as a safety net. A pass is one transaction: it
takes `pg_try_advisory_xact_lock` on lanes no other relay holds, sends their oldest pending rows with the
idempotent producer and marks them published once acknowledged, so several relays share the lanes without
duplicating or reordering. A crash before the commit leaves the rows pending and they are sent again
(at-least-once; consumers drop the repeat by `ce_id`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import asyncpg
import structlog
from confluent_kafka import KafkaException, Message
from opentelemetry.trace import Span

from paysaga.contracts.cloudevents import H_ID, H_TRACEPARENT, H_TYPE
from paysaga.platform.db import Database
from paysaga.platform.failpoints import failpoint
from paysaga.platform.kafka import DeliveryFailed, KafkaProducer, kafka_access
from paysaga.platform.metrics import outbox_metrics
from paysaga.platform.outbox import LANES, NOTIFY_CHANNEL
from paysaga.platform.tracing import end_send, start_send

log = structlog.get_logger("paysaga.relay")

_LOCK_NAMESPACE = 0x0B0C  # first key of the two-key advisory lock: "outbox lanes"

# Up to $2 lanes with pending rows whose lock this transaction gets, tried in random order, so
# relays share the lanes. The lock must be tried row by row above the shuffle and stop at the
# limit: in a plain subquery PostgreSQL pushes the filter below the sort, and the statement then
# locks every pending lane while returning only $2 of them (another relay finds none free). The
# MATERIALIZED CTE is the fence that keeps the filter out. The rows are read by a second
# statement: in READ COMMITTED each statement has its own snapshot, and only one taken after the
# lock sees a lane as its last holder committed it.
_LOCK_LANES = """
WITH pending AS MATERIALIZED (
    SELECT lane FROM (SELECT DISTINCT lane FROM outbox WHERE published_at IS NULL) d ORDER BY random()
)
SELECT lane FROM pending WHERE pg_try_advisory_xact_lock($1, lane) LIMIT $2
"""
# The oldest pending rows of each locked lane, up to a batch per lane (no lane starves another).
_READ_LANES = """
SELECT o.id, o.lane, o.topic, o.key, o.payload, o.headers
FROM unnest($1::smallint[]) AS l(lane),
     LATERAL (SELECT * FROM outbox WHERE lane = l.lane AND published_at IS NULL ORDER BY id LIMIT $2) o
ORDER BY o.lane, o.id
"""


async def lock_lanes(conn: asyncpg.Connection, limit: int) -> list[int]:
    """Lock up to `limit` lanes with pending rows that no other transaction holds, for the rest of
    this transaction; those lanes, and only those are locked."""
    return [r["lane"] for r in await conn.fetch(_LOCK_LANES, _LOCK_NAMESPACE, limit)]


class OutboxRelay:
    def __init__(
        self,
        db: Database,
        producer: KafkaProducer,
        *,
        batch_size: int = 500,
        max_lanes: int = LANES // 2,
        poll_interval: float = 1.0,
        retry_backoff: float = 1.0,
    ) -> None:
        self._db = db
        self._producer = producer
        self._batch_size = batch_size
        self._max_lanes = max_lanes
        self._poll_interval = poll_interval
        self._retry_backoff = retry_backoff
        self._wakeup = asyncio.Event()
        self._stopping = asyncio.Event()
        self.published = 0
        self._metrics = outbox_metrics()

    def stop(self) -> None:
        self._stopping.set()
        self._wakeup.set()

    async def run(self) -> None:
        """Publish until `stop()`; the batch in hand is finished before returning."""
        listener: asyncpg.Connection | None = None
        try:
            while not self._stopping.is_set():
                if listener is None or listener.is_closed():
                    listener = await self._listen()
                try:
                    more = await self.publish_pending()
                except (
                    OSError,
                    asyncpg.PostgresError,
                    asyncpg.InterfaceError,
                    TimeoutError,
                    DeliveryFailed,
                    KafkaException,
                ) as exc:
                    log.warning("relay.retry", error=repr(exc), backoff=self._retry_backoff)
                    self._metrics.errors.inc()
                    await self._sleep(self._retry_backoff)
                    continue
                if more:
                    continue  # a NOTIFY during the pass also wakes the sleep below at once
                await self._sleep(self._poll_interval)
        finally:
            if listener is not None and not listener.is_closed():
                await listener.close()

    async def _listen(self) -> asyncpg.Connection | None:
        try:
            conn = await asyncpg.connect(self._db.dsn)
            await conn.add_listener(NOTIFY_CHANNEL, lambda *_: self._wakeup.set())
            return conn
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("relay.listen_failed", error=repr(exc))
            return None

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), seconds)
        self._wakeup.clear()

    async def publish_pending(self) -> bool:
        """One pass over up to `max_lanes` lanes no other relay holds, in one transaction: a batch
        of each. True if there may be more to publish right now (a full batch, or the lane cap hit).
        A lane whose send fails keeps its rows from the failed one on pending (the error is raised
        after the acknowledged rows are marked and committed), so one bad row holds back only the
        rest of its lane."""
        self._wakeup.clear()
        started = time.perf_counter()
        async with self._db.transaction() as conn:
            lanes = await lock_lanes(conn, self._max_lanes)
            if not lanes:
                return False
            rows = await conn.fetch(_READ_LANES, lanes, self._batch_size)
            by_lane: dict[int, list[asyncpg.Record]] = {}
            for row in rows:
                by_lane.setdefault(row["lane"], []).append(row)
            failpoint("relay.before_publish")
            results = await asyncio.gather(*(self._send(lane_rows) for lane_rows in by_lane.values()))
            failpoint("relay.after_publish")
            sent = [
                r["id"]
                for lane_rows, (acked, _) in zip(by_lane.values(), results, strict=True)
                for r in lane_rows[:acked]
            ]
            if sent:
                await conn.execute("UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])", sent)
        self.published += len(sent)
        if sent:
            self._metrics.relay_published(len(sent), time.perf_counter() - started)
        failure = next((e for _, e in results if e is not None), None)
        if failure is not None:
            raise failure
        full = any(len(lane_rows) >= self._batch_size for lane_rows in by_lane.values())
        return full or len(lanes) >= self._max_lanes

    async def _send(self, rows: list[asyncpg.Record]) -> tuple[int, BaseException | None]:
        """Send one lane's rows in order and wait for every ack: how many rows, from the first, the
        broker acknowledged, and the first error, if any. Only that run is marked published; the
        rest of the lane waits (and is sent again), so no row is marked ahead of one that failed."""
        deliveries: list[asyncio.Future[Message]] = []
        sends: list[Span | None] = []  # each record's send span (tracing)
        refused: BaseException | None = None
        try:
            for r in rows:
                headers = _traced_headers(r, sends)
                deliveries.append(
                    self._producer.send(
                        r["topic"],
                        key=r["key"],
                        value=bytes(r["payload"]),
                        headers=[(k, v.encode()) for k, v in headers.items()],
                    )
                )
        except Exception as exc:  # refused before it was queued (too large, say): the lane waits
            refused = exc
        results = await asyncio.gather(*deliveries, return_exceptions=True)
        for i, span in enumerate(sends):  # one more than `results` when the last was refused
            end_send(span, results[i] if i < len(results) else refused)
        failed = next((i for i, r in enumerate(results) if isinstance(r, BaseException)), None)
        if failed is None:
            return len(results), refused
        error = results[failed]
        assert isinstance(error, BaseException)
        return failed, error


def _traced_headers(row: asyncpg.Record, sends: list[Span | None]) -> dict[str, str]:
    """The row's headers, its `traceparent` replaced by that of the record's send span (appended to
    `sends`), whose parent is the stored one: consumers continue the trace from this send."""
    headers: dict[str, str] = row["headers"]
    span, traceparent = start_send(
        row["topic"],
        key=row["key"],
        event_id=headers.get(H_ID, ""),
        event_type=headers.get(H_TYPE, ""),
        traceparent=headers.get(H_TRACEPARENT),
    )
    sends.append(span)
    if span is None or traceparent is None:
        return headers
    return {**headers, H_TRACEPARENT: traceparent}


async def run_standalone(dsn: str) -> None:
    """A relay process of its own (`paysaga relay --dsn ...`), stopped by SIGTERM/SIGINT."""
    import signal

    from paysaga.platform.bootstrap import init_process
    from paysaga.platform.settings import PlatformSettings

    platform = PlatformSettings()
    init_process("relay", platform)
    db = Database(dsn, min_size=1, max_size=4)
    await db.connect()
    producer = KafkaProducer(kafka_access(platform), client_id="relay")
    relay = OutboxRelay(db, producer)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, relay.stop)
    log.info("relay.started")
    try:
        await relay.run()
    finally:
        await producer.close()
        await db.close()
        log.info("relay.stopped", published=relay.published)
