"""Retention of the outbox and the inbox: rows nobody needs any more are deleted, in small batches.

- An outbox row is needed until the relay published it; published rows are kept a while longer
  (to answer "was it sent, and when?") and then deleted. Unpublished rows are never deleted.
- An inbox row guards against a redelivery of its event. Kafka itself forgets records after its
  retention (7 days by default), so an inbox row older than that can never be matched again; the
  default keeps them 8 days.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from paysaga.platform.db import Database

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
    """A service worker: every `every_seconds`, deletes outbox rows published more than
    `outbox_keep_seconds` ago and inbox rows older than `inbox_keep_seconds` (None: that table
    is not in this service's database)."""

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
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                outbox, inbox = await self.purge()
                if outbox or inbox:
                    log.info("retention.purged", outbox_rows=outbox, inbox_rows=inbox)
            except Exception as exc:  # the database is away: next round
                log.warning("retention.failed", error=repr(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._every)

    async def purge(self) -> tuple[int, int]:
        """One round; the number of outbox and inbox rows deleted."""
        outbox = await self._purge(_OUTBOX, self._outbox_keep) if self._outbox_keep is not None else 0
        inbox = await self._purge(_INBOX, self._inbox_keep) if self._inbox_keep is not None else 0
        return outbox, inbox

    async def _purge(self, statement: str, keep_seconds: float) -> int:
        """Delete in batches of `batch` rows (short transactions, short locks) until none is left."""
        total = 0
        while not self._stopping.is_set():
            async with self._db.connection() as conn:
                status = await conn.execute(statement, keep_seconds, self._batch)
            deleted = int(status.split()[-1])
            total += deleted
            if deleted < self._batch:
                break
        return total
