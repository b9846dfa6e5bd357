"""The Ops service's use cases on its own database: operators (create, log in, disable) and the
audit log every mutating action goes through (`audited`)."""

from __future__ import annotations

import functools
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import structlog

from paysaga.platform.db import Database
from paysaga.platform.passwords import PasswordHashing, default_hasher
from paysaga.platform.problems import Problem
from paysaga.services.ops import repository
from paysaga.services.ops.domain import check_password, normalize_email

log = structlog.get_logger("paysaga.ops")

CLI_ACTOR = "cli"


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the email is unknown: a login costs the same either way."""
    return default_hasher().hash("not-a-real-password-0")


async def create_operator(db: Database, hashing: PasswordHashing, *, email: str, password: str) -> UUID:
    """A new operator account (audited as done from the command line). Raises WeakPassword,
    EmailTaken."""
    check_password(password)
    password_hash = await hashing.hash(password)  # slow work before the transaction
    operator_id = uuid.uuid4()
    async with db.transaction() as conn:
        await repository.insert_operator(
            conn, operator_id, email=email.strip(), email_normalized=normalize_email(email), password_hash=password_hash
        )
        audit_id = await repository.begin_audit(
            conn,
            operator_id=None,
            actor=CLI_ACTOR,
            action="operator.create",
            target=str(operator_id),
            summary={"email": email.strip()},
        )
        await repository.finish_audit(conn, audit_id, outcome="succeeded", detail=None)
    log.info("ops.operator_created", operator_id=str(operator_id))
    return operator_id


async def disable_operator(db: Database, *, email: str) -> UUID | None:
    async with db.transaction() as conn:
        operator = await repository.disable_operator(conn, normalize_email(email))
        if operator is None:
            return None
        audit_id = await repository.begin_audit(
            conn,
            operator_id=None,
            actor=CLI_ACTOR,
            action="operator.disable",
            target=str(operator.operator_id),
            summary={"email": operator.email},
        )
        await repository.finish_audit(conn, audit_id, outcome="succeeded", detail=None)
    log.info("ops.operator_disabled", operator_id=str(operator.operator_id))
    return operator.operator_id


async def authenticate(db: Database, hashing: PasswordHashing, email: str, password: str) -> UUID | None:
    """The operator's id when the credentials match an enabled account, else None (the same work
    either way). Raises HashingBusy."""
    async with db.connection() as conn:
        operator = await repository.find_operator(conn, normalize_email(email))
    stored = operator.password_hash if operator else _dummy_hash()
    if not await hashing.verify(stored, password) or operator is None or operator.disabled_at is not None:
        return None
    if hashing.needs_rehash(stored):
        new_hash = await hashing.hash(password)
        async with db.connection() as conn:
            await repository.set_password_hash(conn, operator.operator_id, new_hash)
    return operator.operator_id


@dataclass
class AuditEntry:
    """The audit entry of an action in progress; the action may add to its outcome's detail."""

    audit_id: int
    detail: str | None = None


@asynccontextmanager
async def audited(
    db: Database,
    *,
    operator_id: UUID,
    actor: str,
    action: str,
    target: str | None,
    summary: dict[str, Any],
) -> AsyncIterator[AuditEntry]:
    """Run an operator's action under an audit entry: written before the action starts (so nothing
    is done unaudited: if it cannot be written, the action does not run) and finished with its
    outcome (`succeeded`, or `failed` with the error)."""
    async with db.connection() as conn:
        audit_id = await repository.begin_audit(
            conn, operator_id=operator_id, actor=actor, action=action, target=target, summary=summary
        )
    entry = AuditEntry(audit_id)
    try:
        yield entry
    except BaseException as exc:
        detail = f"{exc.status} {exc.slug}: {exc.detail or exc.title}" if isinstance(exc, Problem) else repr(exc)
        async with db.connection() as conn:
            await repository.finish_audit(conn, audit_id, outcome="failed", detail=detail[:2000])
        raise
    async with db.connection() as conn:
        await repository.finish_audit(conn, audit_id, outcome="succeeded", detail=entry.detail)
