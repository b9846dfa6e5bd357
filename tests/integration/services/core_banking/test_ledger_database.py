"""The database keeps the ledger honest on its own: an append-only journal, and no entry that does
not balance gets committed — whatever the writer (these tests write SQL directly, past the domain)."""

from __future__ import annotations

import asyncpg
import pytest

from paysaga.platform.db import Database
from paysaga.services.core_banking import handlers, repository
from paysaga.services.core_banking.domain import EntryDraft, EntryKind, Line, Side
from tests.integration.services.core_banking.helpers import apply, completed, initiated, new_payment_id

pytestmark = pytest.mark.integration


async def posted_payout(db: Database, amount: int = 10_000) -> tuple[str, int]:
    payment_id = new_payment_id()
    await apply(db, handlers.record_payment, initiated(payment_id, amount))
    await apply(db, handlers.post_payout, completed(payment_id))
    async with db.connection() as conn:
        entry_id = await repository.find_payout_entry(conn, payment_id)
    assert entry_id is not None
    return payment_id, entry_id


async def lines_of(db: Database, entry_id: int) -> list[tuple[str, str, int]]:
    async with db.connection() as conn:
        rows = await conn.fetch(
            "SELECT account_code, side, amount FROM journal_lines WHERE entry_id = $1 ORDER BY line_id", entry_id
        )
    return [(r["account_code"], r["side"], r["amount"]) for r in rows]


async def new_entry(conn: asyncpg.Connection, payment_id: str | None = None) -> int:
    return await conn.fetchval(
        "INSERT INTO journal_entries (kind, payment_id, description, effective_at)"
        " VALUES ('PAYOUT', $1, 'test', now()) RETURNING entry_id",
        payment_id or new_payment_id(),
    )


async def add_line(conn: asyncpg.Connection, entry_id: int, code: str, side: str, amount: int) -> None:
    await conn.execute(
        "INSERT INTO journal_lines (entry_id, account_code, currency, side, amount) VALUES ($1, $2, 'RUB', $3, $4)",
        entry_id,
        code,
        side,
        amount,
    )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE journal_lines SET amount = amount + 1 WHERE entry_id = $1",
        "UPDATE journal_lines SET side = 'CREDIT' WHERE entry_id = $1 AND side = 'DEBIT'",
        "DELETE FROM journal_lines WHERE entry_id = $1",
        "UPDATE journal_entries SET description = 'edited' WHERE entry_id = $1",
        "DELETE FROM journal_entries WHERE entry_id = $1",
    ],
)
async def test_the_journal_refuses_updates_and_deletes(db: Database, statement: str) -> None:
    _, entry_id = await posted_payout(db)
    before = await lines_of(db, entry_id)
    async with db.connection() as conn:
        with pytest.raises(asyncpg.RestrictViolationError, match="append-only"):
            await conn.execute(statement, entry_id)
    assert await lines_of(db, entry_id) == before


async def test_the_journal_refuses_truncate(db: Database) -> None:
    await posted_payout(db)
    async with db.connection() as conn:
        for table in ("journal_lines", "journal_entries"):
            with pytest.raises(asyncpg.PostgresError, match="append-only"):
                await conn.execute(f"TRUNCATE {table} CASCADE")
        assert await conn.fetchval("SELECT count(*) FROM journal_lines") > 0


async def test_an_unbalanced_entry_is_refused_at_commit(db: Database) -> None:
    payment_id = new_payment_id()
    async with db.connection() as conn:
        with pytest.raises(asyncpg.CheckViolationError, match="unbalanced in RUB: debits 100, credits 90"):
            async with conn.transaction():  # the COMMIT at the end of the block is what fails
                entry_id = await new_entry(conn, payment_id)
                await add_line(conn, entry_id, "2100", "DEBIT", 100)
                await add_line(conn, entry_id, "1100", "CREDIT", 90)  # accepted for now: checked at commit
                lines_written = await conn.fetchval("SELECT count(*) FROM journal_lines WHERE entry_id = $1", entry_id)
        assert lines_written == 2
        assert await conn.fetchval("SELECT count(*) FROM journal_entries WHERE payment_id = $1", payment_id) == 0


async def test_an_entry_with_a_single_line_or_none_is_refused_at_commit(db: Database) -> None:
    async with db.connection() as conn:
        for lines in ([], [("1900", "DEBIT", 5)]):
            with pytest.raises(asyncpg.CheckViolationError, match="at least two"):
                async with conn.transaction():
                    entry_id = await new_entry(conn)
                    for code, side, amount in lines:
                        await add_line(conn, entry_id, code, side, amount)


async def test_a_balanced_entry_written_by_hand_is_accepted(db: Database) -> None:
    async with db.connection() as conn, conn.transaction():
        entry_id = await new_entry(conn)
        await add_line(conn, entry_id, "2100", "DEBIT", 60)
        await add_line(conn, entry_id, "1900", "DEBIT", 40)
        await add_line(conn, entry_id, "1100", "CREDIT", 100)
    assert await lines_of(db, entry_id) == [("2100", "DEBIT", 60), ("1900", "DEBIT", 40), ("1100", "CREDIT", 100)]


async def test_lines_cannot_be_added_to_a_posted_entry_even_balanced_ones(db: Database) -> None:
    _, entry_id = await posted_payout(db)
    async with db.connection() as conn:
        with pytest.raises(asyncpg.RestrictViolationError, match="already posted"):
            async with conn.transaction():
                await add_line(conn, entry_id, "1900", "DEBIT", 1)
                await add_line(conn, entry_id, "1900", "CREDIT", 1)
    assert len(await lines_of(db, entry_id)) == 2


async def test_a_second_payout_entry_for_one_payment_is_not_written(db: Database) -> None:
    payment_id, entry_id = await posted_payout(db, 4_200)
    draft = EntryDraft(
        kind=EntryKind.PAYOUT,
        lines=(Line("2100", "RUB", Side.DEBIT, 4_200), Line("1100", "RUB", Side.CREDIT, 4_200)),
        description="again",
        effective_at=completed(payment_id).completed_at,
        payment_id=payment_id,
    )
    async with db.transaction() as conn:
        assert await repository.post(conn, draft) is None
    async with db.connection() as conn:
        with pytest.raises(asyncpg.UniqueViolationError):
            await new_entry(conn, payment_id)
        entries = await repository.entries_of_payment(conn, payment_id)
    assert [e.entry_id for e in entries] == [entry_id]


async def test_the_handler_posts_once_even_when_called_again_with_new_event_ids(db: Database) -> None:
    payment_id, entry_id = await posted_payout(db, 3_000)
    await apply(db, handlers.post_payout, completed(payment_id))
    await apply(db, handlers.record_payment, initiated(payment_id, 3_000))
    async with db.connection() as conn:
        entries = await repository.entries_of_payment(conn, payment_id)
    assert [e.entry_id for e in entries] == [entry_id]
