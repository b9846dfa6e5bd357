"""The unit of work: one database transaction that also carries the events it raised.

Events collected with `publish()` are written to the outbox inside the same transaction as
the state change, at commit; the relay sends them after it, so a crash never leaves a state
change without its event, or the reverse. Two contracts: a command handler owns its
`UnitOfWork` (enters it once, commits); an event handler gets a `Transaction` from the
consumer — connection, publish, after_commit — which it can neither commit nor enter.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Protocol

import asyncpg

from paysaga.contracts.events import Event
from paysaga.platform.db import Database
from paysaga.platform.outbox import write_outbox
from paysaga.platform.tracing import current_traceparent


class Transaction(Protocol):
    """What a handler may do inside a transaction it does not own."""

    @property
    def conn(self) -> asyncpg.Connection: ...

    def publish(self, event: Event) -> None: ...

    def after_commit(self, callback: Callable[[], None]) -> None: ...


class HandlerTransaction:
    """The `Transaction` the consumer hands an event handler: the consumer commits it, with the
    inbox claim, once every handler of the batch has run."""

    __slots__ = ("_uow",)

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    @property
    def conn(self) -> asyncpg.Connection:
        return self._uow.conn

    def publish(self, event: Event) -> None:
        self._uow.publish(event)

    def after_commit(self, callback: Callable[[], None]) -> None:
        self._uow.after_commit(callback)


class UnitOfWork:
    def __init__(self, db: Database, *, source: str) -> None:
        self._db = db
        self._source = source
        self._events: list[tuple[Event, str | None]] = []
        self._conn: asyncpg.Connection | None = None
        self._tx: asyncpg.transaction.Transaction | None = None
        self._committed = False
        self._entered = False
        self._after_commit: list[Callable[[], None]] = []

    @property
    def conn(self) -> asyncpg.Connection:
        if self._conn is None:
            raise RuntimeError("UnitOfWork used outside `async with`")
        return self._conn

    def publish(self, event: Event) -> None:
        """Record an event to be written to the outbox with this transaction (and the trace it
        was raised in: one transaction may carry the events of several handled records)."""
        self._events.append((event, current_traceparent()))

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` once the transaction has committed (e.g. wake a worker); never on rollback."""
        self._after_commit.append(callback)

    async def __aenter__(self) -> UnitOfWork:
        if self._entered:
            # One transaction per unit of work: a second `async with` (nested, or after the first
            # ended) would silently run outside the first one's commit or rollback.
            raise RuntimeError("a UnitOfWork is entered once; make a new one for another transaction")
        self._entered = True
        self._conn = await self._db.acquire()
        self._tx = self._conn.transaction()
        try:
            await self._tx.start()
        except BaseException:
            # No `async with` body runs, so no __aexit__: give the connection back here.
            await self._db.pool.release(self._conn)
            self._conn = self._tx = None
            raise
        return self

    async def commit(self) -> None:
        if self._events:
            await write_outbox(self.conn, self._events, source=self._source)
            self._events.clear()
        assert self._tx is not None
        try:
            await self._tx.commit()
        except BaseException:
            # A failed COMMIT (e.g. a deferred constraint) has already ended the transaction:
            # there is nothing to roll back, and trying would hide the real error.
            self._tx = None
            raise
        self._committed = True
        for callback in self._after_commit:
            callback()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if not self._committed and self._tx is not None:
                await self._tx.rollback()
        finally:
            if self._conn is not None:
                await self._db.pool.release(self._conn)
            self._conn = self._tx = None
            self._events.clear()
            self._after_commit.clear()
