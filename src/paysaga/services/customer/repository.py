"""Customer queries. Only this module speaks SQL to the customer database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg


@dataclass(frozen=True, slots=True)
class CustomerRow:
    user_id: UUID
    email: str
    name: str
    phone: str
    currency: str
    password_hash: str
    created_at: datetime


class EmailTaken(Exception):
    pass


async def insert_customer(
    conn: asyncpg.Connection,
    *,
    user_id: UUID,
    email: str,
    email_normalized: str,
    password_hash: str,
    name: str,
    phone: str,
    currency: str,
    created_at: datetime,
) -> None:
    try:
        await conn.execute(
            "INSERT INTO customers (user_id, email, email_normalized, password_hash, name, phone,"
            " currency, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            user_id,
            email,
            email_normalized,
            password_hash,
            name,
            phone,
            currency,
            created_at,
        )
    except asyncpg.UniqueViolationError as exc:
        raise EmailTaken(email) from exc


async def find_by_email(conn: asyncpg.Connection, email_normalized: str) -> CustomerRow | None:
    row = await conn.fetchrow(
        "SELECT user_id, email, name, phone, currency, password_hash, created_at"
        " FROM customers WHERE email_normalized = $1",
        email_normalized,
    )
    return CustomerRow(**row) if row else None


async def find_by_id(conn: asyncpg.Connection, user_id: UUID) -> CustomerRow | None:
    row = await conn.fetchrow(
        "SELECT user_id, email, name, phone, currency, password_hash, created_at FROM customers WHERE user_id = $1",
        user_id,
    )
    return CustomerRow(**row) if row else None


async def update_password_hash(conn: asyncpg.Connection, user_id: UUID, password_hash: str) -> None:
    await conn.execute("UPDATE customers SET password_hash = $2 WHERE user_id = $1", user_id, password_hash)
