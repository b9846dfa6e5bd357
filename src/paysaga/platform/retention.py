"""Retention of the outbox and the inbox: rows nobody needs any more are deleted, in small batches.

- An outbox row is needed until the relay published it; published rows are kept a while longer
  (to answer "was it sent, and when?") and then deleted. Unpublished rows are never deleted.
- An inbox row guards against a redelivery of its event. Kafka itself forgets records after its
  retention (7 days by default), so an inbox row older than that can never be matched again; the
  default keeps them 8 days.
"""

from __future__ import annotations

import structlog

from paysaga.platform.db import Database
from paysaga.platform.periodic import Periodic

log = structlog.get_logger("paysaga.retention")

_OUTBOX = (
    "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox"
    " WHERE published_at < now() - make_interval(secs => $1) ORDER BY published_at LIMIT $2)"
)
_INBOX = (
    "DELETE FROM inbox WHERE ctid IN (SELECT ctid FROM inbox"
    " WHERE processed_at < now() - make_interval(secs => $1) ORDER BY processed_at LIMIT $2)"
)


class Retention:
    """Deletes outbox rows published more than `outbox_keep_seconds` ago and inbox rows older than
    `inbox_keep_seconds` (None: that table is not in this service's database); `worker()` does it
    every `every_seconds`."""

    def __init__(
        self,
        db: Database,
        *,
        outbox_keep_seconds: float | None,
        inbox_keep_seconds: float | None,
        every_seconds: float = 600.0,
        batch: int = 5000,
    ) -> None:
        self._db = db
        self._outbox_keep = outbox_keep_seconds
        self._inbox_keep = inbox_keep_seconds
        self._every = every_seconds
        self._batch = batch

    def worker(self) -> Periodic:
        return Periodic("retention", self._round, every_seconds=self._every)

    async def _round(self) -> None:
        outbox, inbox = await self.purge()
        if outbox or inbox:
            log.info("retention.purged", outbox_rows=outbox, inbox_rows=inbox)

    async def purge(self) -> tuple[int, int]:
        """One round; the number of outbox and inbox rows deleted."""
        outbox = await self._purge(_OUTBOX, self._outbox_keep) if self._outbox_keep is not None else 0
        inbox = await self._purge(_INBOX, self._inbox_keep) if self._inbox_keep is not None else 0
        return outbox, inbox

    async def _purge(self, statement: str, keep_seconds: float) -> int:
        """Delete in batches of `batch` rows (short transactions, short locks) until none is left."""
        total = 0
        while True:
            async with self._db.connection() as conn:
                status = await conn.execute(statement, keep_seconds, self._batch)
            deleted = int(status.split()[-1])
            total += deleted
            if deleted < self._batch:
                return total
