"""The unit of work against the real database."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from datetime import UTC, datetime

import asyncpg
import pytest

from paysaga.contracts.events import PaymentCompleted
from paysaga.platform.db import Database
from paysaga.platform.tracing import continued
from paysaga.platform.unit_of_work import HandlerTransaction, UnitOfWork

pytestmark = pytest.mark.integration


async def test_a_failed_commit_surfaces_the_database_error_and_writes_nothing(db: Database) -> None:
    table = f"deferred_{uuid.uuid4().hex[:8]}"
    async with db.connection() as conn:
        await conn.execute(f"CREATE TABLE {table} (k int, CONSTRAINT u UNIQUE (k) DEFERRABLE INITIALLY DEFERRED)")
    # The duplicate is only detected at COMMIT: the caller must see that error, not a failed rollback.
    with pytest.raises(asyncpg.UniqueViolationError):
        async with UnitOfWork(db, source="/test") as uow:
            await uow.conn.execute(f"INSERT INTO {table} VALUES (1), (1)")
            await uow.commit()
    async with db.connection() as conn:
        assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 0
        assert db.pool.get_size() >= 1  # the connection went back to the pool usable
        assert await conn.fetchval("SELECT 1") == 1


async def test_after_commit_callbacks_run_only_on_commit(db: Database) -> None:
    calls: list[str] = []
    async with UnitOfWork(db, source="/test") as uow:
        uow.after_commit(lambda: calls.append("committed"))
        # with an event to write as well
        uow.publish(
            PaymentCompleted(payment_id=f"uow-{uuid.uuid4()}", provider_txn_id="t", completed_at=datetime.now(UTC))
        )
        await uow.commit()
    with pytest.raises(RuntimeError):
        async with UnitOfWork(db, source="/test") as uow:
            uow.after_commit(lambda: calls.append("rolled back"))
            raise RuntimeError("boom")
    assert calls == ["committed"]


async def test_each_event_keeps_the_trace_it_was_raised_in(db: Database) -> None:
    """One transaction may carry the events of several consumed records, each of its own trace."""
    traces = ["0af7651916cd43dd8448eb211c80319c", "4bf92f3577b34da6a3ce929d0e0e4736"]
    ids = [f"uow-trace-{uuid.uuid4()}" for _ in traces]
    async with UnitOfWork(db, source="/test") as uow:
        for payment_id, trace_id in zip(ids, traces, strict=True):
            with continued(f"00-{trace_id}-b7ad6b7169203331-01"):
                event = PaymentCompleted(payment_id=payment_id, provider_txn_id="t", completed_at=datetime.now(UTC))
                uow.publish(event)
        await uow.commit()
    async with db.connection() as conn:
        rows = await conn.fetch("SELECT key, headers FROM outbox WHERE key = ANY($1::text[])", ids)
    seen = {r["key"]: r["headers"]["traceparent"].split("-")[1] for r in rows}
    assert seen == dict(zip(ids, traces, strict=True))


async def test_a_transaction_that_cannot_begin_gives_its_connection_back(platform_dsn: str) -> None:
    """BEGIN that never completes (its server process is stopped) is given up; the unit of work
    must still hand its connection back, or a one-connection pool would be empty for good."""
    db = Database(platform_dsn, min_size=1, max_size=1)
    await db.connect()
    try:
        async with db.connection() as conn:
            backend = await conn.fetchval("SELECT pg_backend_pid()")
        os.kill(backend, signal.SIGSTOP)  # the next BEGIN on this connection gets no answer
        resumed = asyncio.get_running_loop().call_later(1.0, os.kill, backend, signal.SIGCONT)
        try:
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.3):
                    async with UnitOfWork(db, source="/test"):
                        pytest.fail("BEGIN cannot have completed")
        finally:
            resumed.cancel()
            os.kill(backend, signal.SIGCONT)
        # The pool's only connection came back: the next unit of work runs (on it or a new one).
        async with asyncio.timeout(10):
            async with UnitOfWork(db, source="/test") as uow:
                assert await uow.conn.fetchval("SELECT 1") == 1
                await uow.commit()
    finally:
        db.pool.terminate()  # close() would wait for a leaked connection for ever


async def test_a_unit_of_work_cannot_be_entered_twice(db: Database) -> None:
    uow = UnitOfWork(db, source="/test")
    async with uow:
        with pytest.raises(RuntimeError, match="entered once"):
            async with uow:
                pass
        await uow.commit()
    with pytest.raises(RuntimeError, match="entered once"):
        async with uow:
            pass


async def test_an_event_handlers_transaction_can_neither_commit_nor_be_entered(db: Database) -> None:
    committed: list[str] = []
    async with UnitOfWork(db, source="/test") as uow:
        tx = HandlerTransaction(uow)
        assert not hasattr(tx, "commit")
        with pytest.raises(TypeError):
            async with tx:  # type: ignore[attr-defined]
                pass
        # What it may do goes with the owner's commit.
        assert await tx.conn.fetchval("SELECT 1") == 1
        tx.after_commit(lambda: committed.append("yes"))
        await uow.commit()
    assert committed == ["yes"]
