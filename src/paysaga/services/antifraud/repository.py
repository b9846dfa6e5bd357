"""Anti-Fraud queries. Only this module speaks SQL to the antifraud database."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import asyncpg

from paysaga.services.antifraud.domain import (
    CheckRecord,
    Decision,
    PaymentToCheck,
    PriorPayment,
    Reason,
    Velocity,
    Verdict,
)

LearnedFrom = Literal["event", "check"]
Outcome = Literal["COMPLETED", "FAILED"]

_CHECK_COLUMNS = (
    "payment_id, user_id, wallet_id, amount, currency, recipient_account, recipient_bic, recipient_name,"
    " window_end, decision, reasons, score, velocity_count, velocity_sum, checked_at"
)


def _check_from_row(row: asyncpg.Record) -> CheckRecord:
    return CheckRecord(
        payment=PaymentToCheck(
            payment_id=row["payment_id"],
            user_id=row["user_id"],
            wallet_id=row["wallet_id"],
            amount=row["amount"],
            currency=row["currency"],
            account_number=row["recipient_account"],
            bank_bic=row["recipient_bic"],
            recipient_name=row["recipient_name"],
            created_at=row["window_end"],
        ),
        verdict=Verdict(
            decision=Decision(row["decision"]),
            reasons=tuple(Reason(r) for r in row["reasons"]),
            score=row["score"],
        ),
        velocity=Velocity(count=row["velocity_count"], total=row["velocity_sum"]),
        checked_at=row["checked_at"],
    )


async def find_check(conn: asyncpg.Connection, payment_id: str) -> CheckRecord | None:
    row = await conn.fetchrow(f"SELECT {_CHECK_COLUMNS} FROM checks WHERE payment_id = $1", payment_id)
    return _check_from_row(row) if row else None


async def insert_check(
    conn: asyncpg.Connection, payment: PaymentToCheck, window_end: datetime, verdict: Verdict, v: Velocity
) -> CheckRecord | None:
    """Store a decision; None when one is already stored for the payment."""
    row = await conn.fetchrow(
        f"INSERT INTO checks ({_CHECK_COLUMNS})"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, now())"
        f" ON CONFLICT (payment_id) DO NOTHING RETURNING {_CHECK_COLUMNS}",
        payment.payment_id,
        payment.user_id,
        payment.wallet_id,
        payment.amount,
        payment.currency,
        payment.account_number,
        payment.bank_bic,
        payment.recipient_name,
        window_end,
        verdict.decision.value,
        [r.value for r in verdict.reasons],
        verdict.score,
        v.count,
        v.total,
    )
    return _check_from_row(row) if row else None


async def list_checks(
    conn: asyncpg.Connection, *, payment_id: str | None, user_id: str | None, limit: int
) -> list[CheckRecord]:
    rows = await conn.fetch(
        f"SELECT {_CHECK_COLUMNS} FROM checks"
        " WHERE ($1::text IS NULL OR payment_id = $1) AND ($2::text IS NULL OR user_id = $2)"
        " ORDER BY checked_at DESC, payment_id LIMIT $3",
        payment_id,
        user_id,
        limit,
    )
    return [_check_from_row(r) for r in rows]


async def lock_user(conn: asyncpg.Connection, user_id: str) -> None:
    """Serialize the checks of one user until the transaction ends (velocity stays exact)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"antifraud:user:{user_id}")


async def prior_payments(
    conn: asyncpg.Connection, *, user_id: str, exclude_payment_id: str, since: datetime, until: datetime
) -> list[PriorPayment]:
    """The user's other known payments created in (since, until], with whether they failed or were denied."""
    rows = await conn.fetch(
        "SELECT k.payment_id, k.amount, k.currency, k.created_at,"
        "       (o.status = 'FAILED' OR c.decision = 'DENY') IS TRUE AS failed_or_denied"
        " FROM known_payments k"
        " LEFT JOIN payment_outcomes o ON o.payment_id = k.payment_id"
        " LEFT JOIN checks c ON c.payment_id = k.payment_id"
        " WHERE k.user_id = $1 AND k.payment_id <> $2 AND k.created_at > $3 AND k.created_at <= $4",
        user_id,
        exclude_payment_id,
        since,
        until,
    )
    return [PriorPayment(**r) for r in rows]


async def record_payment(
    conn: asyncpg.Connection,
    *,
    payment_id: str,
    user_id: str,
    amount: int,
    currency: str,
    created_at: datetime,
    learned_from: LearnedFrom,
) -> bool:
    """Remember a payment for velocity, once per payment id; False if it was already known."""
    inserted = await conn.fetchval(
        "INSERT INTO known_payments (payment_id, user_id, amount, currency, created_at, learned_from)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (payment_id) DO NOTHING RETURNING true",
        payment_id,
        user_id,
        amount,
        currency,
        created_at,
        learned_from,
    )
    return bool(inserted)


async def record_outcome(
    conn: asyncpg.Connection,
    *,
    payment_id: str,
    status: Outcome,
    error_code: str | None,
    provider_txn_id: str | None,
    completed_at: datetime,
) -> str | None:
    """Record a payment's final state; the first one stays. Returns the status stored before, if any."""
    inserted = await conn.fetchval(
        "INSERT INTO payment_outcomes (payment_id, status, error_code, provider_txn_id, completed_at)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (payment_id) DO NOTHING RETURNING true",
        payment_id,
        status,
        error_code,
        provider_txn_id,
        completed_at,
    )
    if inserted:
        return None
    existing: str = await conn.fetchval("SELECT status FROM payment_outcomes WHERE payment_id = $1", payment_id)
    return existing


@dataclass(frozen=True, slots=True)
class BlockedAccount:
    account_number: str
    reason: str | None
    source: str
    blocked_at: datetime


async def is_blocked(conn: asyncpg.Connection, account_number: str) -> bool:
    found = await conn.fetchval("SELECT true FROM blocked_accounts WHERE account_number = $1", account_number)
    return bool(found)


async def block(
    conn: asyncpg.Connection, account_number: str, *, reason: str | None, source: Literal["api", "seed"]
) -> tuple[BlockedAccount, bool]:
    """Put an account on the blocklist (a new reason replaces the old one); True when it was not there."""
    row = await conn.fetchrow(
        "INSERT INTO blocked_accounts (account_number, reason, source) VALUES ($1, $2, $3)"
        " ON CONFLICT (account_number) DO UPDATE"
        "   SET reason = COALESCE(EXCLUDED.reason, blocked_accounts.reason)"
        " RETURNING account_number, reason, source, blocked_at, (xmax = 0) AS created",
        account_number,
        reason,
        source,
    )
    created = bool(row["created"])
    return (
        BlockedAccount(row["account_number"], row["reason"], row["source"], row["blocked_at"]),
        created,
    )


async def unblock(conn: asyncpg.Connection, account_number: str) -> bool:
    deleted = await conn.fetchval(
        "DELETE FROM blocked_accounts WHERE account_number = $1 RETURNING true", account_number
    )
    return bool(deleted)


async def list_blocked(conn: asyncpg.Connection) -> list[BlockedAccount]:
    rows = await conn.fetch(
        "SELECT account_number, reason, source, blocked_at FROM blocked_accounts ORDER BY account_number"
    )
    return [BlockedAccount(**r) for r in rows]


async def seed_blocklist(conn: asyncpg.Connection, accounts: Iterable[str]) -> int:
    """Add the configured accounts that are not there yet (an account unblocked through the API
    comes back at the next start while it stays in the seed)."""
    added = 0
    for account in accounts:
        inserted = await conn.fetchval(
            "INSERT INTO blocked_accounts (account_number, reason, source) VALUES ($1, $2, 'seed')"
            " ON CONFLICT (account_number) DO NOTHING RETURNING true",
            account,
            "configured blocklist seed",
        )
        added += bool(inserted)
    return added


async def known_payment(conn: asyncpg.Connection, payment_id: str) -> asyncpg.Record | None:
    """When the payment was counted for its user's velocity, and from what (its event or its check)."""
    return await conn.fetchrow("SELECT learned_from, recorded_at FROM known_payments WHERE payment_id = $1", payment_id)


async def outcome(conn: asyncpg.Connection, payment_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT status, error_code, provider_txn_id, completed_at, recorded_at FROM payment_outcomes"
        " WHERE payment_id = $1",
        payment_id,
    )
