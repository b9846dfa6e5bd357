"""Idempotency keys of client requests (`Idempotency-Key`), per user and operation.

The first request with a key mints the resource id (paymentId, topUpId) every repeat reuses, so
a retry after a lost answer hits the same resource. A success is stored and replayed; a refusal
(4xx) changed nothing and frees the key (see `finish`); an outage keeps it. Another body under
the same key is a conflict. Keys are kept `retention` (≥ 24 h).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import orjson
import structlog

from paysaga.platform.db import Database
from paysaga.platform.idempotency_key import MAX_KEY_LENGTH, well_formed
from paysaga.platform.periodic import Periodic
from paysaga.platform.problems import Problem
from paysaga.services.bff import repository
from paysaga.services.bff.repository import KeyRecord

log = structlog.get_logger("paysaga.bff.idempotency")

KEY_PROBLEMS = ((400, "idempotency-key-missing"), (400, "idempotency-key-invalid"), (422, "idempotency-conflict"))


@dataclass(frozen=True, slots=True)
class Answer:
    """What `run_once` answers: the first request's status and body, for it and every repeat."""

    status: int
    body: dict[str, Any]
    resource_id: UUID
    replayed: bool

    @property
    def headers(self) -> dict[str, str]:
        return {"Idempotent-Replayed": "true"} if self.replayed else {}


def request_hash(body: dict[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def check_key(key: str | None) -> str:
    if key is None or not key.strip():
        raise Problem(
            400,
            "idempotency-key-missing",
            "Idempotency-Key required",
            "Send an Idempotency-Key header (e.g. a UUID) so that a retry cannot repeat the operation.",
        )
    if not well_formed(key):
        raise Problem(
            400,
            "idempotency-key-invalid",
            "Invalid Idempotency-Key",
            f"The key must be at most {MAX_KEY_LENGTH} visible ASCII characters (spaces inside).",
        )
    return key


class IdempotencyStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def begin(self, user_id: str, operation: str, key: str, body: dict[str, Any]) -> KeyRecord:
        """The key's record, created now if new. Unless it holds an answer to replay, the caller now
        counts as executing under the key (`in_flight`) until it calls `complete` or `finish`.
        Raises a 422 problem if the key was used with another body."""
        digest = request_hash(body)
        uid = UUID(user_id)
        async with self._db.connection() as conn:
            record = await repository.claim_key(
                conn, uid, operation, key, request_hash=digest, resource_id=uuid.uuid4(), request=body
            )
            counted = record is not None
            if record is None:  # answered (replay), or another body (conflict)
                record = await repository.find_key(conn, uid, operation, key)
        if record is None or (not counted and record.request_hash == digest and record.response_status is None):
            # Freed by a refusal, or freed and taken again, in between: start over (and be counted).
            return await self.begin(user_id, operation, key, body)
        if record.request_hash != digest:
            raise Problem(
                422,
                "idempotency-conflict",
                "Idempotency-Key reused",
                "This Idempotency-Key was used with a different request body; use a new key.",
            )
        return record

    async def complete(self, user_id: str, operation: str, key: str, status: int, body: dict[str, Any]) -> None:
        """Store the answer every repeat gets from now on; this request no longer executes."""
        async with self._db.connection() as conn:
            await repository.store_answer(conn, UUID(user_id), operation, key, status, body)

    async def finish(self, user_id: str, operation: str, key: str, *, refused: bool) -> None:
        """This request ends without an answer to store. A refusal changed nothing: the key is freed,
        unless another request is still executing under it (its answer must find the record, with
        the same resource id). After an outage the key is kept, so a retry reuses the resource id.
        A request that crashed leaves its count behind: its key is then kept, which is safe."""
        uid = UUID(user_id)
        async with self._db.transaction() as conn:
            left = await repository.leave_key(conn, uid, operation, key)
            if refused and left is not None and left.in_flight == 0 and left.response_status is None:
                await repository.delete_key(conn, uid, operation, key)

    async def run_once(
        self,
        user_id: str,
        operation: str,
        key: str | None,
        body: dict[str, Any],
        call: Callable[[UUID], Awaitable[tuple[int, dict[str, Any]]]],
    ) -> Answer:
        """Run `call(resource_id)` at most once per key; replay its stored answer on a repeat."""
        key = check_key(key)
        record = await self.begin(user_id, operation, key, body)
        stored = record.answer
        if stored is not None:
            return Answer(*stored, resource_id=record.resource_id, replayed=True)
        try:
            status_code, answer = await call(record.resource_id)
        except Problem as problem:
            await self.finish(user_id, operation, key, refused=problem.status < 500)
            raise
        except BaseException:
            await self.finish(user_id, operation, key, refused=False)
            raise
        await self.complete(user_id, operation, key, status_code, answer)
        return Answer(status_code, answer, resource_id=record.resource_id, replayed=False)

    async def find_resource(self, user_id: str, operation: str, resource_id: UUID) -> KeyRecord | None:
        """A completed request of this user that created `resource_id` (e.g. a payment not yet in Query)."""
        async with self._db.connection() as conn:
            return await repository.find_answered_resource(conn, UUID(user_id), operation, resource_id)

    async def newest_answered(self, user_id: str, operation: str, status: int, limit: int) -> list[KeyRecord]:
        """The user's newest requests of `operation` answered `status` (e.g. the payments accepted)."""
        async with self._db.connection() as conn:
            return await repository.newest_answered(conn, UUID(user_id), operation, status, limit)

    async def purge(self, older_than_seconds: float) -> int:
        async with self._db.connection() as conn:
            return await repository.purge_keys(conn, older_than_seconds)


def key_purger(store: IdempotencyStore, *, retention_seconds: float, every_seconds: float = 3600) -> Periodic:
    """The worker that deletes keys past their retention, hourly."""

    async def purge() -> None:
        purged = await store.purge(retention_seconds)
        if purged:
            log.info("idempotency.purged", keys=purged)

    return Periodic("idempotency-purge", purge, every_seconds=every_seconds)
