"""Wallet queries. Only this module speaks SQL to the wallet database."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from paysaga.services.wallet.domain import Wallet

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
