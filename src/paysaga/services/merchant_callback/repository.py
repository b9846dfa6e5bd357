"""Merchant Callback queries. Only this module speaks SQL to the merchant_callback database."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from paysaga.services.merchant_callback.domain import DeliveryStatus, Outcome

# --- subscriptions -------------------------------------------------------------------------------

_SUBSCRIPTION_COLUMNS = "subscription_id, account_number, url, created_at, deleted_at"


@dataclass(frozen=True, slots=True)
class Subscription:
    """A subscription as it is shown: never with its secret."""

    subscription_id: UUID
    account_number: str
    url: str
    created_at: datetime
    deleted_at: datetime | None


async def insert_subscription(
    conn: asyncpg.Connection, *, subscription_id: UUID, account_number: str, url: str, secret_encrypted: bytes
) -> Subscription | None:
    """The new subscription (its secret stored encrypted only); None if the account already has an
    active one for this URL."""
    row = await conn.fetchrow(
        "INSERT INTO subscriptions (subscription_id, account_number, url, secret_encrypted) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (account_number, url) WHERE deleted_at IS NULL DO NOTHING"
        f" RETURNING {_SUBSCRIPTION_COLUMNS}",
        subscription_id,
        account_number,
        url,
        secret_encrypted,
    )
    return Subscription(**row) if row else None


async def get_subscription(conn: asyncpg.Connection, subscription_id: UUID) -> Subscription | None:
    row = await conn.fetchrow(
        f"SELECT {_SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE subscription_id = $1", subscription_id
    )
    return Subscription(**row) if row else None


async def list_subscriptions(conn: asyncpg.Connection, *, account_number: str | None, limit: int) -> list[Subscription]:
    rows = await conn.fetch(
        f"SELECT {_SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE deleted_at IS NULL"
        " AND ($1::text IS NULL OR account_number = $1) ORDER BY created_at DESC, subscription_id LIMIT $2",
        account_number,
        limit,
    )
    return [Subscription(**r) for r in rows]


async def delete_subscription(conn: asyncpg.Connection, subscription_id: UUID) -> bool:
    """Deactivate it (kept for the deliveries that name it); False if unknown or already deleted."""
    deleted = await conn.fetchval(
        "UPDATE subscriptions SET deleted_at = now() WHERE subscription_id = $1 AND deleted_at IS NULL RETURNING true",
        subscription_id,
    )
    return bool(deleted)


async def encrypt_plaintext_secrets(
    conn: asyncpg.Connection, encrypt: Callable[[str], bytes], *, batch: int = 100
) -> int:
    """Encrypt the secrets still stored in plaintext (rows from before migration 0002, or written by
    an instance of the old version during a rolling deploy) and clear the plaintext; one transaction
    per batch, rows locked with SKIP LOCKED so several instances can run it at once. The count done."""
    done = 0
    while True:
        async with conn.transaction():
            rows = await conn.fetch(
                "SELECT subscription_id, secret FROM subscriptions WHERE secret IS NOT NULL"
                " ORDER BY subscription_id LIMIT $1 FOR UPDATE SKIP LOCKED",
                batch,
            )
            if rows:
                await conn.executemany(
                    "UPDATE subscriptions SET secret_encrypted = $2, secret = NULL WHERE subscription_id = $1",
                    [(r["subscription_id"], encrypt(r["secret"])) for r in rows],
                )
        done += len(rows)
        if len(rows) < batch:
            return done


# --- payments ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PaymentFacts:
    payment_id: str
    account_number: str | None
    amount: int | None
    currency: str | None
    outcome: Outcome | None
    provider_txn_id: str | None
    error_code: str | None
    completed_at: datetime | None


async def lock_payment(conn: asyncpg.Connection, payment_id: str) -> PaymentFacts:
    """The payment's row, created empty if new, locked until the end of the transaction."""
    await conn.execute("INSERT INTO payments (payment_id) VALUES ($1) ON CONFLICT DO NOTHING", payment_id)
    row = await conn.fetchrow(
        "SELECT payment_id, account_number, amount, currency, outcome, provider_txn_id, error_code, completed_at"
        " FROM payments WHERE payment_id = $1 FOR UPDATE",
        payment_id,
    )
    assert row is not None
    return PaymentFacts(**{**row, "outcome": Outcome(row["outcome"]) if row["outcome"] else None})


async def set_initiated(
    conn: asyncpg.Connection, payment_id: str, *, account_number: str, amount: int, currency: str, at: datetime
) -> None:
    await conn.execute(
        "UPDATE payments SET account_number = $2, amount = $3, currency = $4, initiated_at = $5, updated_at = now()"
        " WHERE payment_id = $1",
        payment_id,
        account_number,
        amount,
        currency,
        at,
    )


async def set_outcome(
    conn: asyncpg.Connection,
    payment_id: str,
    *,
    outcome: Outcome,
    provider_txn_id: str | None,
    error_code: str | None,
    completed_at: datetime,
) -> None:
    await conn.execute(
        "UPDATE payments SET outcome = $2, provider_txn_id = $3, error_code = $4, completed_at = $5,"
        " updated_at = now() WHERE payment_id = $1 AND outcome IS NULL",
        payment_id,
        outcome.value,
        provider_txn_id,
        error_code,
        completed_at,
    )


# --- deliveries ----------------------------------------------------------------------------------


async def create_deliveries(
    conn: asyncpg.Connection,
    *,
    payment_id: str,
    account_number: str,
    event_type: str,
    body: bytes,
    give_up_at: datetime,
) -> list[UUID]:
    """One delivery, due now, per active subscription of the account that has none for this payment."""
    rows = await conn.fetch(
        "INSERT INTO deliveries (delivery_id, payment_id, subscription_id, event_type, body, status,"
        " next_attempt_at, give_up_at)"
        " SELECT gen_random_uuid(), $1, subscription_id, $3, $4, 'PENDING', now(), $5 FROM subscriptions"
        " WHERE account_number = $2 AND deleted_at IS NULL ORDER BY subscription_id"
        " ON CONFLICT ON CONSTRAINT one_outcome_per_payment DO NOTHING RETURNING delivery_id",
        payment_id,
        account_number,
        event_type,
        body.decode(),
        give_up_at,
    )
    return [r["delivery_id"] for r in rows]


@dataclass(frozen=True, slots=True)
class DueDelivery:
    """A leased delivery with what is needed to send it."""

    delivery_id: UUID
    payment_id: str
    subscription_id: UUID
    event_type: str
    body: str
    attempts: int
    round_attempts: int
    give_up_at: datetime
    lease_token: UUID
    url: str
    secret_encrypted: bytes | None  # None: still in plaintext (encrypt_plaintext_secrets has not run on it)
    subscription_deleted: bool


async def claim_due(conn: asyncpg.Connection, *, limit: int, lease_seconds: float) -> list[DueDelivery]:
    """Lease up to `limit` due deliveries (several dispatchers may run at once)."""
    rows = await conn.fetch(
        "UPDATE deliveries d SET lease_until = now() + make_interval(secs => $2), lease_token = gen_random_uuid()"
        " FROM subscriptions s WHERE s.subscription_id = d.subscription_id AND d.delivery_id IN ("
        " SELECT delivery_id FROM deliveries WHERE status = 'PENDING' AND next_attempt_at <= now()"
        " AND (lease_until IS NULL OR lease_until < now())"
        " ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)"
        " RETURNING d.delivery_id, d.payment_id, d.subscription_id, d.event_type, d.body, d.attempts,"
        " d.round_attempts, d.give_up_at, d.lease_token, s.url, s.secret_encrypted,"
        " s.deleted_at IS NOT NULL AS subscription_deleted",
        limit,
        lease_seconds,
    )
    return [DueDelivery(**r) for r in rows]


async def record_attempt(
    conn: asyncpg.Connection,
    delivery_id: UUID,
    *,
    attempted_at: datetime,
    duration_ms: float,
    status_code: int | None,
    error: str | None,
) -> None:
    await conn.execute(
        "INSERT INTO delivery_attempts (delivery_id, attempted_at, duration_ms, status_code, error, succeeded)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        delivery_id,
        attempted_at,
        duration_ms,
        status_code,
        error,
        error is None,
    )


async def settle_attempt(
    conn: asyncpg.Connection,
    delivery_id: UUID,
    lease_token: UUID,
    *,
    status: DeliveryStatus,
    attempted_at: datetime | None,
    status_code: int | None,
    error: str | None,
    next_attempt_at: datetime | None,
) -> bool:
    """Apply an attempt's result and release the lease; False if the lease was lost meanwhile.
    `attempted_at` None: no attempt was made (the delivery is only given up)."""
    made = attempted_at is not None
    updated = await conn.fetchval(
        "UPDATE deliveries SET status = $3, attempts = attempts + $4::int, round_attempts = round_attempts + $4::int,"
        " last_attempt_at = COALESCE($5, last_attempt_at),"
        " last_status_code = CASE WHEN $4::int = 1 THEN $6 ELSE last_status_code END, last_error = $7,"
        " next_attempt_at = $8, lease_until = NULL, lease_token = NULL,"
        " delivered_at = CASE WHEN $3 = 'DELIVERED' THEN now() END,"
        " dead_at = CASE WHEN $3 = 'DEAD' THEN now() END"
        " WHERE delivery_id = $1 AND lease_token = $2 AND status = 'PENDING' RETURNING true",
        delivery_id,
        lease_token,
        status.value,
        1 if made else 0,
        attempted_at,
        status_code,
        error,
        next_attempt_at,
    )
    return bool(updated)


_DELIVERY_COLUMNS = (
    "d.delivery_id, d.payment_id, d.subscription_id, s.url, d.event_type, d.body, d.status, d.attempts,"
    " d.next_attempt_at, d.give_up_at, d.last_attempt_at, d.last_status_code, d.last_error, d.created_at,"
    " d.delivered_at, d.dead_at"
)


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    delivery_id: UUID
    payment_id: str
    subscription_id: UUID
    url: str
    event_type: str
    body: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    give_up_at: datetime
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    dead_at: datetime | None


def _delivery(row: Mapping[str, Any]) -> DeliveryRow:
    return DeliveryRow(**{**row, "status": DeliveryStatus(row["status"])})


async def get_delivery(conn: asyncpg.Connection, delivery_id: UUID) -> DeliveryRow | None:
    row = await conn.fetchrow(
        f"SELECT {_DELIVERY_COLUMNS} FROM deliveries d JOIN subscriptions s USING (subscription_id)"
        " WHERE d.delivery_id = $1",
        delivery_id,
    )
    return _delivery(row) if row else None


async def deliveries_of_payment(conn: asyncpg.Connection, payment_id: str) -> list[DeliveryRow]:
    rows = await conn.fetch(
        f"SELECT {_DELIVERY_COLUMNS} FROM deliveries d JOIN subscriptions s USING (subscription_id)"
        " WHERE d.payment_id = $1 ORDER BY d.created_at, d.delivery_id",
        payment_id,
    )
    return [_delivery(r) for r in rows]


@dataclass(frozen=True, slots=True)
class AttemptRow:
    delivery_id: UUID
    attempted_at: datetime
    duration_ms: float
    status_code: int | None
    error: str | None
    succeeded: bool


async def attempts_of(conn: asyncpg.Connection, delivery_ids: list[UUID]) -> dict[UUID, list[AttemptRow]]:
    rows = await conn.fetch(
        "SELECT delivery_id, attempted_at, duration_ms, status_code, error, succeeded FROM delivery_attempts"
        " WHERE delivery_id = ANY($1::uuid[]) ORDER BY attempt_id",
        delivery_ids,
    )
    found: dict[UUID, list[AttemptRow]] = {i: [] for i in delivery_ids}
    for r in rows:
        found[r["delivery_id"]].append(AttemptRow(**r))
    return found


async def lock_delivery(conn: asyncpg.Connection, delivery_id: UUID) -> tuple[DeliveryRow, bool] | None:
    """The delivery, locked, and whether its subscription is still active."""
    row = await conn.fetchrow(
        f"SELECT {_DELIVERY_COLUMNS}, s.deleted_at IS NULL AS active FROM deliveries d"
        " JOIN subscriptions s USING (subscription_id) WHERE d.delivery_id = $1 FOR UPDATE OF d",
        delivery_id,
    )
    if row is None:
        return None
    values = dict(row)
    active = values.pop("active")
    return _delivery(values), bool(active)


async def reschedule(conn: asyncpg.Connection, delivery_id: UUID, *, give_up_at: datetime) -> None:
    """A dead delivery is due again now, with a fresh backoff and horizon."""
    await conn.execute(
        "UPDATE deliveries SET status = 'PENDING', next_attempt_at = now(), give_up_at = $2, round_attempts = 0,"
        " dead_at = NULL, lease_until = NULL, lease_token = NULL WHERE delivery_id = $1",
        delivery_id,
        give_up_at,
    )
