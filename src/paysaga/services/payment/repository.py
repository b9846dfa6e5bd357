"""Payment queries. Only this module speaks SQL to the payment database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from paysaga.services.payment.domain import CaseKind, ErrorCode, Status

_COLUMNS = (
    "payment_id, user_id, wallet_id, amount, currency, recipient, status, provider_txn_id, error_code,"
    " attempts, last_error, next_attempt_at, created_at, submitted_at, deadline_at, completed_at, late_inquiry_at"
)


@dataclass(frozen=True, slots=True)
class Payment:
    payment_id: UUID
    user_id: UUID
    wallet_id: UUID
    amount: int
    currency: str
    recipient: dict[str, Any]
    status: Status
    provider_txn_id: str | None
    error_code: str | None
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    submitted_at: datetime | None
    deadline_at: datetime
    completed_at: datetime | None
    late_inquiry_at: datetime | None  # a timed-out payout the provider is still asked about (late_inquiries.py)


def _payment(row: asyncpg.Record) -> Payment:
    return Payment(**{**row, "status": Status(row["status"])})


async def insert_received(
    conn: asyncpg.Connection,
    *,
    payment_id: UUID,
    user_id: UUID,
    wallet_id: UUID,
    amount: int,
    currency: str,
    recipient: dict[str, Any],
    created_at: datetime,
    deadline_seconds: float,
) -> bool:
    """Record a new payment, due for processing now; False if it was already recorded."""
    inserted = await conn.fetchval(
        "INSERT INTO payments (payment_id, user_id, wallet_id, amount, currency, recipient, status, created_at,"
        " next_attempt_at, deadline_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, 'RECEIVED', $7, now(), now() + make_interval(secs => $8))"
        " ON CONFLICT (payment_id) DO NOTHING RETURNING true",
        payment_id,
        user_id,
        wallet_id,
        amount,
        currency,
        recipient,
        created_at,
        deadline_seconds,
    )
    return bool(inserted)


async def lock(conn: asyncpg.Connection, payment_id: UUID) -> Payment | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM payments WHERE payment_id = $1 FOR UPDATE", payment_id)
    return _payment(row) if row else None


async def get(conn: asyncpg.Connection, payment_id: UUID) -> Payment | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM payments WHERE payment_id = $1", payment_id)
    return _payment(row) if row else None


async def lock_by_txn(conn: asyncpg.Connection, provider_txn_id: str) -> Payment | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM payments WHERE provider_txn_id = $1 FOR UPDATE", provider_txn_id)
    return _payment(row) if row else None


async def lock_txn_id(conn: asyncpg.Connection, provider_txn_id: str) -> None:
    """Serialise, per provider txn id, storing the id and receiving its callback (see handlers)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('provider_txn'), hashtext($1))", provider_txn_id)


async def claim_due(conn: asyncpg.Connection, *, limit: int, lease_seconds: float) -> list[Payment]:
    """Lease up to `limit` payments whose next step is due (several workers may run at once)."""
    rows = await conn.fetch(
        f"UPDATE payments SET lease_until = now() + make_interval(secs => $2) WHERE payment_id IN ("
        " SELECT payment_id FROM payments WHERE next_attempt_at <= now()"
        " AND (lease_until IS NULL OR lease_until < now())"
        " ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)"
        f" RETURNING {_COLUMNS}",
        limit,
        lease_seconds,
    )
    return [_payment(r) for r in rows]


async def move(
    conn: asyncpg.Connection,
    payment_id: UUID,
    status: Status,
    *,
    next_attempt_in: float | None,
    provider_txn_id: str | None = None,
    keep_lease: bool = False,
) -> Payment:
    """Advance a non-final payment (locked by the caller); the next step is due in `next_attempt_in`
    seconds. `keep_lease`: the worker goes on with the next step itself, so nobody else may claim it."""
    row = await conn.fetchrow(
        "UPDATE payments SET status = $2, provider_txn_id = COALESCE($3, provider_txn_id), attempts = 0,"
        " last_error = NULL, lease_until = CASE WHEN $5 THEN lease_until END, updated_at = now(),"
        " submitted_at = CASE WHEN $2 = 'SUBMITTED' THEN now() ELSE submitted_at END,"
        " next_attempt_at = CASE WHEN $4::float8 IS NULL THEN NULL ELSE now() + make_interval(secs => $4) END"
        f" WHERE payment_id = $1 RETURNING {_COLUMNS}",
        payment_id,
        status.value,
        provider_txn_id,
        next_attempt_in,
        keep_lease,
    )
    assert row is not None, "move() of a payment that is not there"
    return _payment(row)


async def finish(
    conn: asyncpg.Connection, payment_id: UUID, status: Status, error_code: ErrorCode | None, at: datetime
) -> None:
    await conn.execute(
        "UPDATE payments SET status = $2, error_code = $3, completed_at = $4, next_attempt_at = NULL,"
        " lease_until = NULL, updated_at = now() WHERE payment_id = $1",
        payment_id,
        status.value,
        error_code.value if error_code else None,
        at,
    )


async def postpone(
    conn: asyncpg.Connection, payment_id: UUID, *, status: Status, delay: float, error: str | None
) -> None:
    """The step failed for now (an outage) or has to wait: try again later. Only while the payment
    is still in `status`: a worker whose lease ran out must not reschedule what another moved on."""
    await conn.execute(
        "UPDATE payments SET attempts = attempts + 1, last_error = $3, lease_until = NULL, updated_at = now(),"
        " next_attempt_at = LEAST(now() + make_interval(secs => $2), GREATEST(deadline_at, now()))"
        " WHERE payment_id = $1 AND status = $4",
        payment_id,
        delay,
        error,
        status.value,
    )


async def schedule_late_inquiry(
    conn: asyncpg.Connection, payment_id: UUID, *, first_in_seconds: float, horizon_seconds: float
) -> None:
    """A payment that timed out while the provider still said PROCESSING: ask again later."""
    await conn.execute(
        "UPDATE payments SET late_inquiry_at = now() + make_interval(secs => $2),"
        " late_inquiry_until = now() + make_interval(secs => $3) WHERE payment_id = $1",
        payment_id,
        first_in_seconds,
        horizon_seconds,
    )


@dataclass(frozen=True, slots=True)
class LateInquiry:
    payment_id: UUID
    provider_txn_id: str
    until: datetime


async def claim_late_inquiries(conn: asyncpg.Connection, *, limit: int, next_in_seconds: float) -> list[LateInquiry]:
    """Up to `limit` due follow-up inquiries, each put off by `next_in_seconds` as it is taken, so
    another instance does not ask too and one a crash interrupts is asked again then."""
    rows = await conn.fetch(
        "UPDATE payments SET late_inquiry_at = now() + make_interval(secs => $2) WHERE payment_id IN ("
        " SELECT payment_id FROM payments WHERE late_inquiry_at <= now()"
        " ORDER BY late_inquiry_at LIMIT $1 FOR UPDATE SKIP LOCKED)"
        " RETURNING payment_id, provider_txn_id, late_inquiry_until",
        limit,
        next_in_seconds,
    )
    return [LateInquiry(r["payment_id"], r["provider_txn_id"], r["late_inquiry_until"]) for r in rows]


async def end_late_inquiry(conn: asyncpg.Connection, payment_id: UUID) -> None:
    await conn.execute(
        "UPDATE payments SET late_inquiry_at = NULL, late_inquiry_until = NULL, updated_at = now()"
        " WHERE payment_id = $1",
        payment_id,
    )


async def store_early_callback(
    conn: asyncpg.Connection, *, provider_txn_id: str, event_id: str, status: str, received_at: datetime
) -> None:
    await conn.execute(
        "INSERT INTO early_callbacks (provider_txn_id, event_id, status, received_at) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT DO NOTHING",
        provider_txn_id,
        event_id,
        status,
        received_at,
    )


async def take_early_callbacks(conn: asyncpg.Connection, provider_txn_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        "DELETE FROM early_callbacks WHERE provider_txn_id = $1 RETURNING event_id, status, received_at",
        provider_txn_id,
    )


async def stale_early_txns(conn: asyncpg.Connection, *, older_than_seconds: float, limit: int) -> list[str]:
    """Provider txn ids whose callbacks have waited this long for a payment to claim them, and
    that are due for a lookup (those that could not be resolved wait their turn: see defer_lookup)."""
    rows = await conn.fetch(
        "SELECT provider_txn_id FROM early_callbacks GROUP BY provider_txn_id"
        " HAVING min(received_at) < now() - make_interval(secs => $1)"
        " AND coalesce(max(next_lookup_at), '-infinity') <= now()"
        " ORDER BY max(next_lookup_at) NULLS FIRST, min(received_at) LIMIT $2",
        older_than_seconds,
        limit,
    )
    return [r["provider_txn_id"] for r in rows]


async def defer_lookup(conn: asyncpg.Connection, provider_txn_id: str, *, seconds: float) -> None:
    """This txn id could not be resolved now: look it up again later, after the others."""
    await conn.execute(
        "UPDATE early_callbacks SET next_lookup_at = now() + make_interval(secs => $2) WHERE provider_txn_id = $1",
        provider_txn_id,
        seconds,
    )


async def attach_txn_id(conn: asyncpg.Connection, payment_id: UUID, provider_txn_id: str) -> None:
    """Record the provider's id on a payment that never learnt it (its answers were lost)."""
    await conn.execute(
        "UPDATE payments SET provider_txn_id = $2, updated_at = now()"
        " WHERE payment_id = $1 AND provider_txn_id IS NULL",
        payment_id,
        provider_txn_id,
    )


async def open_case(
    conn: asyncpg.Connection, payment: Payment, kind: CaseKind, callback_status: str, provider_txn_id: str
) -> bool:
    opened = await conn.fetchval(
        "INSERT INTO reconciliation_cases (kind, payment_id, provider_txn_id, payment_status, error_code,"
        " callback_status) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (payment_id, kind) DO NOTHING RETURNING true",
        kind.value,
        payment.payment_id,
        provider_txn_id,
        payment.status.value,
        payment.error_code,
        callback_status,
    )
    return bool(opened)


async def list_cases(conn: asyncpg.Connection, *, open_only: bool) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT case_id, kind, payment_id, provider_txn_id, payment_status, error_code, callback_status,"
        " opened_at, resolved_at, resolution FROM reconciliation_cases"
        + (" WHERE resolved_at IS NULL" if open_only else "")
        + " ORDER BY case_id DESC LIMIT 500"
    )
