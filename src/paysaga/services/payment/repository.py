"""Payment's storage: loads and saves payments, claims due work. Only this module speaks SQL to the
payment database; the rules live in domain.py."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from paysaga.services.payment.domain import Case, Payment, Status, Step

# The stored fields of a Payment, in column order; those a save may change (the rest are fixed
# when the payment is recorded).
_FIELDS = (
    "payment_id", "user_id", "wallet_id", "amount", "currency", "recipient", "status", "provider_txn_id",
    "error_code", "attempts", "last_error", "next_attempt_at", "created_at", "submitted_at", "deadline_at",
    "completed_at", "late_inquiry_at", "late_inquiry_until", "failure_reported_at", "traceparent",
)  # fmt: skip
_FIXED = (
    "payment_id", "user_id", "wallet_id", "amount", "currency", "recipient", "created_at", "deadline_at", "traceparent",
)  # fmt: skip
_MUTABLE = tuple(f for f in _FIELDS if f not in _FIXED)
_COLUMNS = ", ".join(_FIELDS)


def _values(payment: Payment, fields: tuple[str, ...]) -> list[object]:
    return [payment.status.value if f == "status" else getattr(payment, f) for f in fields]


def _payment(row: Mapping[str, Any]) -> Payment:
    return Payment(**{**row, "status": Status(row["status"])})


@dataclass(frozen=True, slots=True)
class EarlyCallback:
    """A callback that came before its payment stored the provider's txn id."""

    event_id: str
    status: str
    received_at: datetime


_STEP_COLUMNS = "at, kind, from_status, to_status, attempt, error_code, error, next_action_at, details"
_STEP_TYPES = ("timestamptz", "text", "text", "text", "integer", "text", "text", "timestamptz", "jsonb")


def _steps(steps: list[Step], first: int) -> tuple[str, list[object]]:
    """`unnest(...)` of the steps' columns as parameters $first.., and their values: a few steps are
    one row set, written in the statement that saves the payment (no extra round trip)."""
    arrays = ", ".join(f"${first + i}::{t}[]" for i, t in enumerate(_STEP_TYPES))
    columns: list[list[object]] = [
        [s.at for s in steps],
        [s.kind.value for s in steps],
        [s.from_status.value if s.from_status else None for s in steps],
        [s.to_status.value for s in steps],
        [s.attempt for s in steps],
        [s.error_code for s in steps],
        [s.error for s in steps],
        [s.next_action_at for s in steps],
        [s.details for s in steps],
    ]
    return f"unnest({arrays})", list(columns)


async def add(conn: asyncpg.Connection, payment: Payment, steps: list[Step]) -> bool:
    """Record a new payment and its first steps; False (and nothing written) if it was already recorded."""
    placeholders = ", ".join(f"${i}" for i in range(1, len(_FIELDS) + 1))
    rows, values = _steps(steps, len(_FIELDS) + 1)
    inserted = await conn.fetchval(
        f"WITH added AS (INSERT INTO payments ({_COLUMNS}) VALUES ({placeholders})"
        " ON CONFLICT (payment_id) DO NOTHING RETURNING payment_id),"
        f" steps AS (INSERT INTO payment_history (payment_id, {_STEP_COLUMNS})"
        f" SELECT added.payment_id, s.* FROM added, {rows} AS s)"
        " SELECT count(*) > 0 FROM added",
        *_values(payment, _FIELDS),
        *values,
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


async def save(conn: asyncpg.Connection, payment: Payment, steps: list[Step], *, keep_lease: bool = False) -> None:
    """Write a payment's state (locked by the caller) and the steps that led to it, in one statement.
    The worker's lease ends with it, unless `keep_lease`: the worker goes on with the next step
    itself, so nobody else may claim it."""
    changes = ", ".join(f"{f} = ${i}" for i, f in enumerate(_MUTABLE, start=3))
    update = (
        f"UPDATE payments SET {changes}, lease_until = CASE WHEN $2 THEN lease_until END, updated_at = now()"
        " WHERE payment_id = $1"
    )
    args = [payment.payment_id, keep_lease, *_values(payment, _MUTABLE)]
    if not steps:
        await conn.execute(update, *args)
        return
    rows, values = _steps(steps, len(args) + 1)
    await conn.execute(
        f"WITH saved AS ({update}) INSERT INTO payment_history (payment_id, {_STEP_COLUMNS}) SELECT $1, * FROM {rows}",
        *args,
        *values,
    )


async def add_steps(conn: asyncpg.Connection, payment_id: UUID, steps: list[Step]) -> None:
    """Steps that changed nothing of the payment (a duplicate callback)."""
    if steps:
        rows, values = _steps(steps, 2)
        await conn.execute(
            f"INSERT INTO payment_history (payment_id, {_STEP_COLUMNS}) SELECT $1, * FROM {rows}", payment_id, *values
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


async def count_stuck(conn: asyncpg.Connection, *, older_than_seconds: float) -> int:
    """Payments not final this long after they were initiated (the `payments_open` index)."""
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM payments WHERE status NOT IN ('COMPLETED', 'FAILED')"
            " AND created_at < now() - make_interval(secs => $1)",
            older_than_seconds,
        )
    )


async def count_open_cases(conn: asyncpg.Connection) -> dict[str, int]:
    """Unresolved reconciliation cases per kind."""
    rows = await conn.fetch(
        "SELECT kind, count(*) AS n FROM reconciliation_cases WHERE resolved_at IS NULL GROUP BY kind"
    )
    return {r["kind"]: int(r["n"]) for r in rows}


async def finals(
    conn: asyncpg.Connection,
    *,
    completed_from: datetime,
    completed_to: datetime,
    limit: int,
    after: tuple[datetime, UUID] | None,
) -> list[asyncpg.Record]:
    """Payments that became final (COMPLETED or FAILED) in [completed_from, completed_to), by completion
    time then payment id, starting after the keyset position `after`."""
    return await conn.fetch(
        "SELECT payment_id, status, error_code, amount, currency, completed_at FROM payments"
        " WHERE completed_at >= $1 AND completed_at < $2"
        " AND ($3::timestamptz IS NULL OR (completed_at, payment_id) > ($3, $4::uuid))"
        " ORDER BY completed_at, payment_id LIMIT $5",
        completed_from,
        completed_to,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )


# --- reads for the operators ----------------------------------------------------------------------


async def history(conn: asyncpg.Connection, payment_id: UUID) -> list[asyncpg.Record]:
    """The payment's steps, oldest first."""
    return await conn.fetch(
        f"SELECT {_STEP_COLUMNS} FROM payment_history WHERE payment_id = $1 ORDER BY step_id", payment_id
    )


async def cases_of(conn: asyncpg.Connection, payment_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT case_id, kind, provider_txn_id, payment_status, error_code, callback_status, opened_at, resolved_at"
        " FROM reconciliation_cases WHERE payment_id = $1 ORDER BY case_id",
        payment_id,
    )


@dataclass(frozen=True, slots=True)
class Search:
    """What the operators look for; every given field must match."""

    payment_id: UUID | None = None
    user_id: UUID | None = None
    provider_txn_id: str | None = None
    status: str | None = None
    error_code: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


async def search(
    conn: asyncpg.Connection, where: Search, *, limit: int, after: tuple[datetime, UUID] | None
) -> list[Payment]:
    """Payments matching `where`, newest first, keyset-paged on (created_at, payment_id) after `after`."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM payments WHERE ($1::uuid IS NULL OR payment_id = $1)"
        " AND ($2::uuid IS NULL OR user_id = $2) AND ($3::text IS NULL OR provider_txn_id = $3)"
        " AND ($4::text IS NULL OR status = $4) AND ($5::text IS NULL OR error_code = $5)"
        " AND ($6::timestamptz IS NULL OR created_at >= $6) AND ($7::timestamptz IS NULL OR created_at < $7)"
        " AND ($8::timestamptz IS NULL OR (created_at, payment_id) < ($8, $9::uuid))"
        " ORDER BY created_at DESC, payment_id DESC LIMIT $10",
        where.payment_id,
        where.user_id,
        where.provider_txn_id,
        where.status,
        where.error_code,
        where.created_from,
        where.created_to,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return [_payment(r) for r in rows]


async def statuses(conn: asyncpg.Connection, payment_ids: list[UUID]) -> list[asyncpg.Record]:
    """The status of each of these payments that exists."""
    return await conn.fetch(
        "SELECT payment_id, status FROM payments WHERE payment_id = ANY($1::uuid[]) ORDER BY payment_id", payment_ids
    )


@dataclass(frozen=True, slots=True)
class StuckGroup:
    """Payments not final, stopped at the same place: their status, whether its step is being
    retried, whether a FAILED callback waits for the provider's word."""

    status: Status
    retrying: bool
    failure_reported: bool
    count: int
    samples: list[Payment]  # the oldest first


async def stuck(conn: asyncpg.Connection, *, older_than_seconds: float, samples: int) -> list[StuckGroup]:
    """The payments not final `older_than_seconds` after they were initiated, grouped by where they
    stopped, each group with its count and its oldest `samples` (the `payments_open` index)."""
    rows = await conn.fetch(
        "SELECT * FROM (SELECT "
        + _COLUMNS
        + ", row_number() OVER w AS nth, count(*) OVER (PARTITION BY status, attempts > 0,"
        " failure_reported_at IS NOT NULL) AS n"
        " FROM payments WHERE status NOT IN ('COMPLETED', 'FAILED') AND created_at < now() - make_interval(secs => $1)"
        " WINDOW w AS (PARTITION BY status, attempts > 0, failure_reported_at IS NOT NULL ORDER BY created_at)) s"
        " WHERE nth <= $2 ORDER BY created_at",
        older_than_seconds,
        samples,
    )
    groups: dict[tuple[Status, bool, bool], StuckGroup] = {}
    for r in rows:
        payment = _payment({k: v for k, v in r.items() if k not in ("nth", "n")})
        key = (payment.status, payment.attempts > 0, payment.failure_reported_at is not None)
        group = groups.setdefault(key, StuckGroup(*key, count=r["n"], samples=[]))
        group.samples.append(payment)
    return list(groups.values())


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
