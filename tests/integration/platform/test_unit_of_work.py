"""The unit of work against the real database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg
import pytest

from paysaga.contracts.events import PaymentCompleted
from paysaga.platform.db import Database
from paysaga.platform.unit_of_work import UnitOfWork

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
