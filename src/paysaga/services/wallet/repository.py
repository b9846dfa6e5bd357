"""Wallet queries: the only SQL of the wallet service.

A change of a wallet's amounts is one UPDATE (the row lock serialises the writers of a wallet,
the table's CHECKs keep the amounts valid) and its ledger entry, in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from paysaga.services.wallet.domain import Movement, Reservation, ReservationStatus, Wallet

_COLUMNS = "wallet_id, user_id, currency, balance, reserved, created_at"


async def create_wallet(
    conn: asyncpg.Connection, *, wallet_id: UUID, user_id: UUID, currency: str, created_at: datetime
) -> bool:
    """Open a wallet for the user; False when the user already has one."""
    created = await conn.fetchval(
        "INSERT INTO wallets (wallet_id, user_id, currency, created_at) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (user_id) DO NOTHING RETURNING true",
        wallet_id,
        user_id,
        currency,
        created_at,
    )
    return bool(created)


async def find_by_user(conn: asyncpg.Connection, user_id: UUID) -> Wallet | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM wallets WHERE user_id = $1", user_id)
    return Wallet(**row) if row else None


async def lock_by_user(conn: asyncpg.Connection, user_id: UUID) -> Wallet | None:
    """The wallet, locked until the end of the transaction (writers of one wallet go one by one)."""
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM wallets WHERE user_id = $1 FOR UPDATE", user_id)
    return Wallet(**row) if row else None


async def lock_wallets_of(conn: asyncpg.Connection, payment_ids: list[UUID]) -> None:
    """Lock the wallets these payments reserved from, in wallet_id order, until the end of the
    transaction (the lock the UPDATE of their amounts takes anyway)."""
    await conn.execute(
        "SELECT w.wallet_id FROM wallets w"
        " WHERE w.wallet_id IN (SELECT wallet_id FROM reservations WHERE payment_id = ANY($1::uuid[]))"
        " ORDER BY w.wallet_id FOR NO KEY UPDATE OF w",
        payment_ids,
    )


async def apply_movement(conn: asyncpg.Connection, wallet_id: UUID, movement: Movement, *, reference: UUID) -> Wallet:
    """Change the wallet's amounts by the movement and write its ledger entry, in one statement (one
    round trip); the wallet after it."""
    row = await conn.fetchrow(
        f"WITH moved AS (UPDATE wallets SET balance = balance + $2, reserved = reserved + $3, updated_at = now()"
        f" WHERE wallet_id = $1 RETURNING {_COLUMNS}),"
        " entry AS (INSERT INTO wallet_ledger (wallet_id, kind, amount, balance_after, reserved_after, reference)"
        " SELECT wallet_id, $4::text, $5::bigint, balance, reserved, $6::uuid FROM moved)"
        f" SELECT {_COLUMNS} FROM moved",
        wallet_id,
        movement.balance_delta,
        movement.reserved_delta,
        movement.kind.value,
        movement.amount,
        reference,
    )
    if row is None:
        raise LookupError(f"wallet {wallet_id} does not exist")
    return Wallet(**row)


async def find_reservation(conn: asyncpg.Connection, payment_id: UUID, *, lock: bool = False) -> Reservation | None:
    row = await conn.fetchrow(
        "SELECT payment_id, wallet_id, amount, currency, recipient, status, created_at FROM reservations"
        " WHERE payment_id = $1" + (" FOR UPDATE" if lock else ""),
        payment_id,
    )
    if row is None:
        return None
    return Reservation(**{**row, "status": ReservationStatus(row["status"])})


async def insert_reservation(
    conn: asyncpg.Connection,
    *,
    payment_id: UUID,
    wallet_id: UUID,
    amount: int,
    currency: str,
    recipient: dict[str, Any],
    created_at: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO reservations (payment_id, wallet_id, amount, currency, recipient, status, created_at)"
        " VALUES ($1, $2, $3, $4, $5, 'RESERVED', $6)",
        payment_id,
        wallet_id,
        amount,
        currency,
        recipient,
        created_at,
    )


async def settle_reservation(conn: asyncpg.Connection, payment_id: UUID, status: ReservationStatus) -> None:
    await conn.execute(
        "UPDATE reservations SET status = $2, settled_at = now() WHERE payment_id = $1",
        payment_id,
        status.value,
    )


async def find_top_up(conn: asyncpg.Connection, top_up_id: UUID) -> tuple[UUID, int] | None:
    row = await conn.fetchrow("SELECT wallet_id, amount FROM top_ups WHERE top_up_id = $1", top_up_id)
    return (row["wallet_id"], row["amount"]) if row else None


async def insert_top_up(
    conn: asyncpg.Connection, *, top_up_id: UUID, wallet_id: UUID, amount: int, at: datetime
) -> None:
    await conn.execute(
        "INSERT INTO top_ups (top_up_id, wallet_id, amount, created_at) VALUES ($1, $2, $3, $4)",
        top_up_id,
        wallet_id,
        amount,
        at,
    )


async def ledger(conn: asyncpg.Connection, wallet_id: UUID, limit: int = 100) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT entry_id, kind, amount, balance_after, reserved_after, reference, created_at"
        " FROM wallet_ledger WHERE wallet_id = $1 ORDER BY entry_id DESC LIMIT $2",
        wallet_id,
        limit,
    )


# --- reads for reconciliation (operators) ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CurrencyTotals:
    currency: str
    wallets: int
    balance: int
    reserved: int


async def totals_by_currency(conn: asyncpg.Connection) -> list[CurrencyTotals]:
    """Sum of the balances (reserved money included) and of the reserved amounts, per currency, in one
    statement: a consistent snapshot."""
    rows = await conn.fetch(
        "SELECT currency, count(*) AS wallets, coalesce(sum(balance), 0) AS balance,"
        " coalesce(sum(reserved), 0) AS reserved FROM wallets GROUP BY currency ORDER BY currency"
    )
    # sum(bigint) is numeric in PostgreSQL: exact, converted without loss.
    return [CurrencyTotals(r["currency"], r["wallets"], int(r["balance"]), int(r["reserved"])) for r in rows]


async def settled_reservations(
    conn: asyncpg.Connection,
    *,
    settled_from: datetime,
    settled_to: datetime,
    limit: int,
    after: tuple[datetime, UUID] | None,
) -> list[asyncpg.Record]:
    """Reservations settled (COMMITTED or RELEASED) in [settled_from, settled_to), by settlement time then
    payment id, starting after the keyset position `after`."""
    return await conn.fetch(
        "SELECT payment_id, wallet_id, amount, currency, status, settled_at FROM reservations"
        " WHERE settled_at >= $1 AND settled_at < $2"
        " AND ($3::timestamptz IS NULL OR (settled_at, payment_id) > ($3, $4::uuid))"
        " ORDER BY settled_at, payment_id LIMIT $5",
        settled_from,
        settled_to,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )


async def held_reservations(
    conn: asyncpg.Connection, *, created_before: datetime, limit: int
) -> tuple[int, list[asyncpg.Record]]:
    """How many reservations made before `created_before` are still held, and the oldest `limit` of them."""
    total: int = await conn.fetchval(
        "SELECT count(*) FROM reservations WHERE status = 'RESERVED' AND created_at < $1", created_before
    )
    rows = await conn.fetch(
        "SELECT payment_id, wallet_id, amount, currency, created_at FROM reservations"
        " WHERE status = 'RESERVED' AND created_at < $1 ORDER BY created_at, payment_id LIMIT $2",
        created_before,
        limit,
    )
    return total, rows


async def payment_entries(conn: asyncpg.Connection, payment_id: UUID) -> list[asyncpg.Record]:
    """The wallet ledger's entries of one payment (its reservation and settlement), oldest first."""
    return await conn.fetch(
        "SELECT entry_id, kind, amount, balance_after, reserved_after, created_at FROM wallet_ledger"
        " WHERE reference = $1 AND kind IN ('RESERVE', 'PAYOUT', 'RELEASE') ORDER BY entry_id",
        payment_id,
    )
