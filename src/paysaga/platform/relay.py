"""The outbox relay: publishes committed outbox rows to Kafka, per lane, in order.

Wake-up is LISTEN/NOTIFY (the outbox trigger), with a slow poll as a safety net. A pass is one
transaction: it takes `pg_try_advisory_xact_lock` on every lane with pending rows that no other
relay holds, reads those lanes' oldest pending rows, sends them with the idempotent producer,
waits for every ack, marks them published and commits (four statements however many lanes).
Another relay skips the lanes that are locked, so several relays can run at once without
duplicating or reordering. A crash before the commit leaves the rows
pending: they are sent again (at-least-once; consumers drop the repeat by `ce_id`).
"""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg
import structlog

from paysaga.platform.db import Database
from paysaga.platform.failpoints import failpoint
from paysaga.platform.kafka import DeliveryFailed, KafkaProducer
from paysaga.platform.outbox import NOTIFY_CHANNEL

log = structlog.get_logger("paysaga.relay")

_LOCK_NAMESPACE = 0x0B0C  # first key of the two-key advisory lock: "outbox lanes"

# The lanes with pending rows whose lock this transaction gets (MATERIALIZED: each lane's lock is
# tried exactly once, before any row is read), then their oldest pending rows, in id order per lane.
_CLAIM = """
WITH pending AS (SELECT DISTINCT lane FROM outbox WHERE published_at IS NULL),
     mine AS MATERIALIZED (SELECT lane FROM pending WHERE pg_try_advisory_xact_lock($1, lane))
SELECT o.id, o.topic, o.key, o.payload, o.headers
FROM outbox o JOIN mine USING (lane)
WHERE o.published_at IS NULL
ORDER BY o.lane, o.id
LIMIT $2
"""


class OutboxRelay:
    def __init__(
        self,
        db: Database,
        producer: KafkaProducer,
        *,
        batch_size: int = 500,
        poll_interval: float = 1.0,
        retry_backoff: float = 1.0,
    ) -> None:
        self._db = db
        self._producer = producer
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._retry_backoff = retry_backoff
        self._wakeup = asyncio.Event()
        self._stopping = asyncio.Event()
        self.published = 0

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
                    published = await self.publish_pending()
                except (
                    OSError,
                    asyncpg.PostgresError,
                    asyncpg.InterfaceError,
                    TimeoutError,
                    DeliveryFailed,
                ) as exc:
                    log.warning("relay.retry", error=repr(exc), backoff=self._retry_backoff)
                    await self._sleep(self._retry_backoff)
                    continue
                if published >= self._batch_size:
                    continue  # a full batch: more may be waiting (a NOTIFY during the pass also wakes us)
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

    async def publish_pending(self) -> int:
        """One pass: a batch from every lane no other relay holds, in one transaction. Returns how
        many rows were published; a full batch means there may be more right now."""
        self._wakeup.clear()
        async with self._db.transaction() as conn:
            rows = await conn.fetch(_CLAIM, _LOCK_NAMESPACE, self._batch_size)
            if not rows:
                return 0
            failpoint("relay.before_publish")
            deliveries = [
                self._producer.send(
                    r["topic"],
                    key=r["key"],
                    value=bytes(r["payload"]),
                    headers=[(k, v.encode()) for k, v in r["headers"].items()],
                )
                for r in rows
            ]
            await asyncio.gather(*deliveries)
            failpoint("relay.after_publish")
            await conn.execute(
                "UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])", [r["id"] for r in rows]
            )
        self.published += len(rows)
        return len(rows)


async def run_standalone(dsn: str) -> None:
    """A relay process of its own (`paysaga relay --dsn ...`), stopped by SIGTERM/SIGINT."""
    import signal

    from paysaga.platform.bootstrap import init_process
    from paysaga.platform.settings import PlatformSettings

    platform = PlatformSettings()
    init_process("relay", platform)
    db = Database(dsn, min_size=1, max_size=4)
    await db.connect()
    producer = KafkaProducer(platform.kafka_bootstrap_servers, client_id="relay")
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
