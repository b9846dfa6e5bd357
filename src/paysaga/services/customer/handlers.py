"""Customer use cases."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

import structlog

from paysaga.contracts.events import CustomerCreated
from paysaga.platform.db import Database
from paysaga.platform.passwords import PasswordHashing, default_hasher
from paysaga.platform.unit_of_work import UnitOfWork
from paysaga.services.customer import repository
from paysaga.services.customer.domain import check_password_strength, normalize_email

log = structlog.get_logger("paysaga.customer")

_DUMMY_HASH = default_hasher().hash("not-a-real-password-0")


@dataclass(frozen=True, slots=True)
class RegisterCustomer:
    email: str
    password: str
    name: str
    phone: str
    currency: str


async def register_customer(cmd: RegisterCustomer, uow: UnitOfWork, hashing: PasswordHashing) -> UUID:
    """Store the customer and CustomerCreated in one transaction. Raises WeakPassword, EmailTaken,
    HashingBusy."""
    check_password_strength(cmd.password, email=cmd.email)
    # Hashing costs tens of ms of CPU: off the event loop, and before the transaction opens.
    password_hash = await hashing.hash(cmd.password)
    user_id = uuid.uuid4()
    now = datetime.now(UTC)
    async with uow:
        await repository.insert_customer(
            uow.conn,
            user_id=user_id,
            email=cmd.email.strip(),
            email_normalized=normalize_email(cmd.email),
            password_hash=password_hash,
            name=cmd.name.strip(),
            phone=cmd.phone,
            currency=cmd.currency,
            created_at=now,
        )
        uow.publish(CustomerCreated(user_id=str(user_id), currency=cmd.currency, created_at=now))
        await uow.commit()
    log.info("customer.registered", user_id=str(user_id))
    return user_id


async def authenticate(db: Database, hashing: PasswordHashing, email: str, password: str) -> UUID | None:
    """The user id when the credentials match, else None (same work either way: no user enumeration).
    Raises HashingBusy."""
    async with db.connection() as conn:
        customer = await repository.find_by_email(conn, normalize_email(email))
    stored = customer.password_hash if customer else _DUMMY_HASH
    if not await hashing.verify(stored, password):
        return None
    if customer is None:
        return None
    if hashing.needs_rehash(stored):
        new_hash = await hashing.hash(password)
        async with db.connection() as conn:
            await repository.update_password_hash(conn, customer.user_id, new_hash)
    return customer.user_id
