"""Payment's storage: loads and saves payments, claims due work. Only this module speaks SQL to the
payment database; the rules live in domain.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from paysaga.services.payment.domain import Case, Payment, Status

# The stored fields of a Payment, in column order; those a save may change (the rest are fixed
# when the payment is recorded).
_FIELDS = (
    "payment_id", "user_id", "wallet_id", "amount", "currency", "recipient", "status", "provider_txn_id",
    "error_code", "attempts", "last_error", "next_attempt_at", "created_at", "submitted_at", "deadline_at",
    "completed_at", "late_inquiry_at", "late_inquiry_until", "failure_reported_at",
)  # fmt: skip
_FIXED = ("payment_id", "user_id", "wallet_id", "amount", "currency", "recipient", "created_at", "deadline_at")
_MUTABLE = tuple(f for f in _FIELDS if f not in _FIXED)
_COLUMNS = ", ".join(_FIELDS)


def _values(payment: Payment, fields: tuple[str, ...]) -> list[object]:
    return [payment.status.value if f == "status" else getattr(payment, f) for f in fields]


def _payment(row: asyncpg.Record) -> Payment:
    return Payment(**{**row, "status": Status(row["status"])})


@dataclass(frozen=True, slots=True)
class EarlyCallback:
    """A callback that came before its payment stored the provider's txn id."""

    event_id: str
    status: str
    received_at: datetime


async def add(conn: asyncpg.Connection, payment: Payment) -> bool:
    """Record a new payment; False if it was already recorded."""
    placeholders = ", ".join(f"${i}" for i in range(1, len(_FIELDS) + 1))
    inserted = await conn.fetchval(
        f"INSERT INTO payments ({_COLUMNS}) VALUES ({placeholders}) ON CONFLICT (payment_id) DO NOTHING RETURNING true",
        *_values(payment, _FIELDS),
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


async def save(conn: asyncpg.Connection, payment: Payment, *, keep_lease: bool = False) -> None:
    """Write a payment's state (locked by the caller). The worker's lease ends with it, unless
    `keep_lease`: the worker goes on with the next step itself, so nobody else may claim it."""
    changes = ", ".join(f"{f} = ${i}" for i, f in enumerate(_MUTABLE, start=3))
    await conn.execute(
        f"UPDATE payments SET {changes}, lease_until = CASE WHEN $2 THEN lease_until END, updated_at = now()"
        " WHERE payment_id = $1",
        payment.payment_id,
        keep_lease,
        *_values(payment, _MUTABLE),
    )


@dataclass(frozen=True, slots=True)
class LateInquiry:
    payment_id: UUID
    provider_txn_id: str


async def claim_late_inquiries(conn: asyncpg.Connection, *, limit: int, next_in_seconds: float) -> list[LateInquiry]:
    """Up to `limit` due follow-up inquiries, each put off by `next_in_seconds` as it is taken, so
    another instance does not ask too and one a crash interrupts is asked again then."""
    rows = await conn.fetch(
        "UPDATE payments SET late_inquiry_at = now() + make_interval(secs => $2) WHERE payment_id IN ("
        " SELECT payment_id FROM payments WHERE late_inquiry_at <= now()"
        " ORDER BY late_inquiry_at LIMIT $1 FOR UPDATE SKIP LOCKED)"
        " RETURNING payment_id, provider_txn_id",
        limit,
        next_in_seconds,
    )
    return [LateInquiry(r["payment_id"], r["provider_txn_id"]) for r in rows]


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


async def take_early_callbacks(conn: asyncpg.Connection, provider_txn_id: str) -> list[EarlyCallback]:
    """The callbacks waiting for this txn id, removed, oldest first."""
    rows = await conn.fetch(
        "DELETE FROM early_callbacks WHERE provider_txn_id = $1 RETURNING event_id, status, received_at",
        provider_txn_id,
    )
    return sorted((EarlyCallback(**r) for r in rows), key=lambda c: c.received_at)


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


async def add_case(conn: asyncpg.Connection, case: Case) -> bool:
    """Open a reconciliation case; False if this payment already has one of this kind."""
    opened = await conn.fetchval(
        "INSERT INTO reconciliation_cases (kind, payment_id, provider_txn_id, payment_status, error_code,"
        " callback_status) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (payment_id, kind) DO NOTHING RETURNING true",
        case.kind.value,
        case.payment_id,
        case.provider_txn_id,
        case.payment_status.value,
        case.error_code,
        case.callback_status,
    )
    return bool(opened)


_CASE_COLUMNS = (
    "case_id, kind, payment_id, provider_txn_id, payment_status, error_code, callback_status,"
    " opened_at, resolved_at, resolved_by, resolution_note"
)


class CaseAlreadyResolved(Exception):
    """The case was resolved before (by whom and when is on the case)."""


async def list_cases(
    conn: asyncpg.Connection,
    *,
    resolved: bool | None,
    kind: str | None = None,
    payment_id: UUID | None = None,
    limit: int = 500,
) -> list[asyncpg.Record]:
    """Cases newest first: open ones (`resolved=False`), resolved ones (True) or all (None)."""
    return await conn.fetch(
        f"SELECT {_CASE_COLUMNS} FROM reconciliation_cases"
        " WHERE ($1::boolean IS NULL OR (resolved_at IS NOT NULL) = $1)"
        " AND ($2::text IS NULL OR kind = $2) AND ($3::uuid IS NULL OR payment_id = $3)"
        " ORDER BY case_id DESC LIMIT $4",
        resolved,
        kind,
        payment_id,
        limit,
    )


async def get_case(conn: asyncpg.Connection, case_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {_CASE_COLUMNS} FROM reconciliation_cases WHERE case_id = $1", case_id)


async def resolve_case(conn: asyncpg.Connection, case_id: int, *, resolved_by: str, note: str) -> asyncpg.Record | None:
    """Mark an open case resolved; None if there is no such case, `CaseAlreadyResolved` if it was."""
    row = await conn.fetchrow(
        "UPDATE reconciliation_cases SET resolved_at = now(), resolved_by = $2, resolution_note = $3"
        f" WHERE case_id = $1 AND resolved_at IS NULL RETURNING {_CASE_COLUMNS}",
        case_id,
        resolved_by,
        note,
    )
    if row is None and await get_case(conn, case_id) is not None:
        raise CaseAlreadyResolved(case_id)
    return row
