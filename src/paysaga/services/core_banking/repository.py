"""Core Banking queries. Only this module speaks SQL to the ledger database.

The journal is append-only and every entry balances: the domain checks a draft before it is
written, and the database checks again (triggers refuse UPDATE/DELETE, and a deferred constraint
trigger refuses at commit an entry whose debits and credits differ in any currency).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import asyncpg

from paysaga.services.core_banking.domain import (
    Account,
    AccountType,
    EntryDraft,
    EntryKind,
    JournalEntry,
    Line,
    Side,
)


async def lock_payment(conn: asyncpg.Connection, payment_id: str) -> None:
    """Serialise the handlers of one payment until the end of the transaction.

    PaymentInitiated and PaymentCompleted of a payment are on one partition, so one consumer sees
    them in order; the lock covers a rebalance (two owners for a moment) and manual replays: without
    it, each could miss the other's row and the completion would wait forever.
    """
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('core-banking:' || $1, 0))", payment_id)


# --- accounts -----------------------------------------------------------------------------------


def _account(row: asyncpg.Record) -> Account:
    return Account(row["code"], row["name"], AccountType(row["type"]), row["description"])


async def list_accounts(conn: asyncpg.Connection) -> list[Account]:
    rows = await conn.fetch("SELECT code, name, type, description FROM accounts ORDER BY code")
    return [_account(r) for r in rows]


# --- known payments and early completions -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KnownPayment:
    payment_id: str
    wallet_id: str
    user_id: str
    amount: int
    currency: str
    initiated_at: datetime


@dataclass(frozen=True, slots=True)
class UnpostedCompletion:
    payment_id: str
    provider_txn_id: str
    completed_at: datetime
    source_event_id: str
    received_at: datetime


async def insert_known_payment(conn: asyncpg.Connection, payment: KnownPayment) -> bool:
    """False when the payment id was already known (the stored row is left alone)."""
    inserted = await conn.fetchval(
        "INSERT INTO known_payments (payment_id, wallet_id, user_id, amount, currency, initiated_at)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (payment_id) DO NOTHING RETURNING true",
        payment.payment_id,
        payment.wallet_id,
        payment.user_id,
        payment.amount,
        payment.currency,
        payment.initiated_at,
    )
    return bool(inserted)


async def find_known_payment(conn: asyncpg.Connection, payment_id: str) -> KnownPayment | None:
    row = await conn.fetchrow(
        "SELECT payment_id, wallet_id, user_id, amount, currency, initiated_at FROM known_payments"
        " WHERE payment_id = $1",
        payment_id,
    )
    return KnownPayment(**row) if row else None


async def keep_unposted_completion(
    conn: asyncpg.Connection, *, payment_id: str, provider_txn_id: str, completed_at: datetime, source_event_id: str
) -> bool:
    """False when a completion of this payment is already waiting (the first one is kept)."""
    inserted = await conn.fetchval(
        "INSERT INTO unposted_completions (payment_id, provider_txn_id, completed_at, source_event_id)"
        " VALUES ($1, $2, $3, $4) ON CONFLICT (payment_id) DO NOTHING RETURNING true",
        payment_id,
        provider_txn_id,
        completed_at,
        source_event_id,
    )
    return bool(inserted)


async def take_unposted_completion(conn: asyncpg.Connection, payment_id: str) -> UnpostedCompletion | None:
    """Remove and return the completion waiting for this payment, if any."""
    row = await conn.fetchrow(
        "DELETE FROM unposted_completions WHERE payment_id = $1"
        " RETURNING payment_id, provider_txn_id, completed_at, source_event_id, received_at",
        payment_id,
    )
    return UnpostedCompletion(**row) if row else None


async def list_unposted_completions(conn: asyncpg.Connection, limit: int) -> list[UnpostedCompletion]:
    rows = await conn.fetch(
        "SELECT payment_id, provider_txn_id, completed_at, source_event_id, received_at FROM unposted_completions"
        " ORDER BY received_at LIMIT $1",
        limit,
    )
    return [UnpostedCompletion(**r) for r in rows]


# --- journal -------------------------------------------------------------------------------------


async def post(conn: asyncpg.Connection, draft: EntryDraft) -> int | None:
    """Write the entry and its lines; its id, or None when its business fact is already journaled: the
    payment (or the top-up) has an entry of this kind, or the reversed entry has its reversal."""
    entry_id = await conn.fetchval(
        "INSERT INTO journal_entries (kind, payment_id, provider_txn_id, description, effective_at,"
        " source_event_id, reverses_entry_id, top_up_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        " ON CONFLICT DO NOTHING RETURNING entry_id",
        draft.kind.value,
        draft.payment_id,
        draft.provider_txn_id,
        draft.description,
        draft.effective_at,
        draft.source_event_id,
        draft.reverses_entry_id,
        draft.top_up_id,
    )
    if entry_id is None:
        return None
    await conn.executemany(
        "INSERT INTO journal_lines (entry_id, account_code, currency, side, amount) VALUES ($1, $2, $3, $4, $5)",
        [(entry_id, line.account_code, line.currency, line.side.value, line.amount) for line in draft.lines],
    )
    return int(entry_id)


_ENTRY_COLUMNS = (
    "e.entry_id, e.kind, e.payment_id, e.provider_txn_id, e.description, e.effective_at, e.posted_at,"
    " e.source_event_id, e.reverses_entry_id, r.entry_id AS reversed_by_entry_id, e.top_up_id"
)


async def _entries(conn: asyncpg.Connection, where: str, *args: object, suffix: str = "") -> list[JournalEntry]:
    """Entries matching `where` (on alias `e`), each with its lines and the id of its reversal, if any."""
    rows = await conn.fetch(
        f"SELECT {_ENTRY_COLUMNS} FROM journal_entries e"
        f" LEFT JOIN journal_entries r ON r.reverses_entry_id = e.entry_id WHERE {where} {suffix}",
        *args,
    )
    if not rows:
        return []
    ids = [r["entry_id"] for r in rows]
    line_rows = await conn.fetch(
        "SELECT entry_id, account_code, currency, side, amount FROM journal_lines"
        " WHERE entry_id = ANY($1::bigint[]) ORDER BY line_id",
        ids,
    )
    lines: dict[int, list[Line]] = {i: [] for i in ids}
    for lr in line_rows:
        lines[lr["entry_id"]].append(Line(lr["account_code"], lr["currency"], Side(lr["side"]), lr["amount"]))
    return [
        JournalEntry(
            entry_id=r["entry_id"],
            kind=EntryKind(r["kind"]),
            lines=tuple(lines[r["entry_id"]]),
            description=r["description"],
            effective_at=r["effective_at"],
            posted_at=r["posted_at"],
            payment_id=r["payment_id"],
            provider_txn_id=r["provider_txn_id"],
            source_event_id=r["source_event_id"],
            reverses_entry_id=r["reverses_entry_id"],
            reversed_by_entry_id=r["reversed_by_entry_id"],
            top_up_id=r["top_up_id"],
        )
        for r in rows
    ]


async def find_entry(conn: asyncpg.Connection, entry_id: int, *, lock: bool = False) -> JournalEntry | None:
    """The entry; with `lock`, its row is locked first, so two reversals of it go one by one (the read
    after the lock is a new statement: it sees a reversal committed while this one waited)."""
    if lock and await conn.fetchval("SELECT 1 FROM journal_entries WHERE entry_id = $1 FOR UPDATE", entry_id) is None:
        return None
    found = await _entries(conn, "e.entry_id = $1", entry_id)
    return found[0] if found else None


async def find_payout_entry(conn: asyncpg.Connection, payment_id: str) -> int | None:
    return await conn.fetchval(
        "SELECT entry_id FROM journal_entries WHERE payment_id = $1 AND kind = 'PAYOUT'", payment_id
    )


async def entries_of_payment(conn: asyncpg.Connection, payment_id: str) -> list[JournalEntry]:
    return await _entries(conn, "e.payment_id = $1", payment_id, suffix="ORDER BY e.entry_id")


async def entries_of_top_up(conn: asyncpg.Connection, top_up_id: str) -> list[JournalEntry]:
    return await _entries(conn, "e.top_up_id = $1", top_up_id, suffix="ORDER BY e.entry_id")


async def latest_entries(conn: asyncpg.Connection, *, limit: int, before: int | None) -> list[JournalEntry]:
    """Newest first; `before` is an entry id (the cursor of the next page)."""
    return await _entries(
        conn, "($1::bigint IS NULL OR e.entry_id < $1)", before, limit, suffix="ORDER BY e.entry_id DESC LIMIT $2"
    )


async def account_totals(conn: asyncpg.Connection) -> list[tuple[str, Account, int, int]]:
    """(currency, account, debits, credits) for every account with lines, in one snapshot."""
    rows = await conn.fetch(
        "SELECT l.currency, a.code, a.name, a.type, a.description,"
        " coalesce(sum(l.amount) FILTER (WHERE l.side = 'DEBIT'), 0) AS debits,"
        " coalesce(sum(l.amount) FILTER (WHERE l.side = 'CREDIT'), 0) AS credits"
        " FROM journal_lines l JOIN accounts a ON a.code = l.account_code"
        " GROUP BY l.currency, a.code ORDER BY l.currency, a.code"
    )
    return [(r["currency"], _account(r), _int(r["debits"]), _int(r["credits"])) for r in rows]


async def find_account(conn: asyncpg.Connection, code: str) -> Account | None:
    row = await conn.fetchrow("SELECT code, name, type, description FROM accounts WHERE code = $1", code)
    return _account(row) if row else None


async def account_currency_totals(conn: asyncpg.Connection, code: str) -> list[tuple[str, int, int]]:
    """(currency, debits, credits) of one account, per currency it has lines in, in one statement."""
    rows = await conn.fetch(
        "SELECT currency,"
        " coalesce(sum(amount) FILTER (WHERE side = 'DEBIT'), 0) AS debits,"
        " coalesce(sum(amount) FILTER (WHERE side = 'CREDIT'), 0) AS credits"
        " FROM journal_lines WHERE account_code = $1 GROUP BY currency ORDER BY currency",
        code,
    )
    return [(r["currency"], _int(r["debits"]), _int(r["credits"])) for r in rows]


def _int(value: Decimal | int) -> int:
    return int(value)  # sum(bigint) is numeric in PostgreSQL: exact, converted without loss


# --- a payment's history (operators) ----------------------------------------------------------------


async def known_payment_row(conn: asyncpg.Connection, payment_id: str) -> asyncpg.Record | None:
    """The amount learned from the payment's PaymentInitiated, and when it was learned."""
    return await conn.fetchrow(
        "SELECT amount, currency, initiated_at, recorded_at FROM known_payments WHERE payment_id = $1", payment_id
    )


async def unposted_completion(conn: asyncpg.Connection, payment_id: str) -> UnpostedCompletion | None:
    """The payment's completion, if it waits for its PaymentInitiated (the amount)."""
    row = await conn.fetchrow(
        "SELECT payment_id, provider_txn_id, completed_at, source_event_id, received_at FROM unposted_completions"
        " WHERE payment_id = $1",
        payment_id,
    )
    return UnpostedCompletion(**row) if row else None
