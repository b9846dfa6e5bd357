"""The read model's queries.

Events of one payment may arrive twice or out of order (a replay, a dead letter re-driven), so
every write is an upsert that only moves a payment forward: a final status beats PENDING whatever
the clocks say, and between equal ranks the later event time wins (the seeds' timestamp check).
A late PaymentInitiated fills in the details of a row a final event created, never its status.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

_RANK = "CASE {s} WHEN 'PENDING' THEN 0 ELSE 1 END"
_MOVES_FORWARD = (
    f"({_RANK.format(s='EXCLUDED.status')} > {_RANK.format(s='payments_view.status')}"
    f" OR ({_RANK.format(s='EXCLUDED.status')} = {_RANK.format(s='payments_view.status')}"
    " AND EXCLUDED.status_at > payments_view.status_at))"
)

COLUMNS = (
    "payment_id, user_id, status, amount, currency, recipient, provider_txn_id, error_code, created_at, updated_at"
)


async def upsert_initiated(
    conn: asyncpg.Connection,
    *,
    payment_id: UUID,
    user_id: UUID,
    wallet_id: UUID,
    amount: int,
    currency: str,
    recipient: dict[str, Any],
    created_at: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO payments_view (payment_id, user_id, wallet_id, status, amount, currency, recipient,"
        " created_at, status_at, updated_at, refreshed_at)"
        " VALUES ($1, $2, $3, 'PENDING', $4, $5, $6, $7, $7, $7, now())"
        " ON CONFLICT (payment_id) DO UPDATE SET user_id = EXCLUDED.user_id, wallet_id = EXCLUDED.wallet_id,"
        " amount = EXCLUDED.amount, currency = EXCLUDED.currency, recipient = EXCLUDED.recipient,"
        " created_at = EXCLUDED.created_at,"
        f" status = CASE WHEN {_MOVES_FORWARD} THEN EXCLUDED.status ELSE payments_view.status END,"
        f" status_at = CASE WHEN {_MOVES_FORWARD} THEN EXCLUDED.status_at ELSE payments_view.status_at END,"
        " updated_at = GREATEST(payments_view.updated_at, EXCLUDED.updated_at), refreshed_at = now()",
        payment_id,
        user_id,
        wallet_id,
        amount,
        currency,
        recipient,
        created_at,
    )


async def upsert_final(
    conn: asyncpg.Connection,
    *,
    payment_id: UUID,
    status: str,
    provider_txn_id: str | None,
    error_code: str | None,
    at: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO payments_view (payment_id, status, provider_txn_id, error_code, status_at, updated_at,"
        " refreshed_at) VALUES ($1, $2, $3, $4, $5, $5, now())"
        " ON CONFLICT (payment_id) DO UPDATE SET status = EXCLUDED.status,"
        " provider_txn_id = EXCLUDED.provider_txn_id, error_code = EXCLUDED.error_code,"
        " status_at = EXCLUDED.status_at, updated_at = GREATEST(payments_view.updated_at, EXCLUDED.updated_at),"
        " refreshed_at = now()"
        f" WHERE {_MOVES_FORWARD}",
        payment_id,
        status,
        provider_txn_id,
        error_code,
        at,
    )


async def get_for_user(conn: asyncpg.Connection, user_id: UUID, payment_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {COLUMNS} FROM payments_view WHERE payment_id = $1 AND user_id = $2", payment_id, user_id
    )


async def history(
    conn: asyncpg.Connection,
    user_id: UUID,
    *,
    limit: int,
    status: str | None,
    after: tuple[datetime, UUID] | None,
) -> list[asyncpg.Record]:
    """Newest first, keyset-paginated on (created_at, payment_id)."""
    return await conn.fetch(
        f"SELECT {COLUMNS} FROM payments_view WHERE user_id = $1"
        " AND ($2::text IS NULL OR status = $2)"
        " AND ($3::timestamptz IS NULL OR (created_at, payment_id) < ($3, $4))"
        " ORDER BY created_at DESC, payment_id DESC LIMIT $5",
        user_id,
        status,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )


async def get(conn: asyncpg.Connection, payment_id: UUID) -> asyncpg.Record | None:
    """The read-model row of a payment, whoever's it is (for operators)."""
    return await conn.fetchrow(
        f"SELECT {COLUMNS}, wallet_id, status_at, refreshed_at FROM payments_view WHERE payment_id = $1", payment_id
    )
