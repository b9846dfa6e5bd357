"""Idempotency keys of client requests (the `Idempotency-Key` header), per user and operation.

The first request with a key stores the hash of its body and mints the resource id (paymentId,
topUpId) that every repeat reuses, so a repeat after a lost answer hits the same resource, and
the downstream call is idempotent on it. A successful answer is stored and replayed as is; a
refusal (4xx) frees the key, since it changed nothing; an outage keeps it, so the retry reuses the
resource id. Requests with one key may run at once (all reuse the resource id): a refusal frees
the key only when no other is still executing under it (`in_flight`), so a concurrent success
always finds its record (a request that crashed leaves its count behind: its key is then kept,
which is safe, a retry reuses the resource id). The same key with another body is a conflict. Keys are kept
`retention` (≥ 24 h).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
import structlog
from fastapi.responses import JSONResponse

from paysaga.platform.db import Database
from paysaga.platform.periodic import Periodic
from paysaga.platform.problems import Problem

log = structlog.get_logger("paysaga.bff.idempotency")

MAX_KEY_LENGTH = 255
_RECORD = "request_hash, resource_id, request, response_status, response_body, created_at"


@dataclass(frozen=True, slots=True)
class KeyRecord:
    resource_id: UUID
    request: dict[str, Any]
    response_status: int | None
    response_body: dict[str, Any] | None
    created_at: datetime

    @property
    def answer(self) -> tuple[int, dict[str, Any]] | None:
        """The stored answer every repeat gets, once the first request has completed."""
        if self.response_status is None or self.response_body is None:
            return None
        return self.response_status, self.response_body


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
    if len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise Problem(
            400,
            "idempotency-key-invalid",
            "Invalid Idempotency-Key",
            f"The key must be printable and at most {MAX_KEY_LENGTH} characters.",
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
            # New key: insert it, executing (in_flight 1). Same body, not answered yet: join the
            # requests executing under it. Both in one statement, so no refusal can slip between.
            row = await conn.fetchrow(
                "INSERT INTO idempotency_keys (user_id, operation, key, request_hash, resource_id, request, in_flight)"
                " VALUES ($1, $2, $3, $4, $5, $6, 1) ON CONFLICT (user_id, operation, key) DO UPDATE"
                " SET in_flight = idempotency_keys.in_flight + 1"
                " WHERE idempotency_keys.request_hash = EXCLUDED.request_hash"
                f" AND idempotency_keys.response_status IS NULL RETURNING {_RECORD}",
                uid,
                operation,
                key,
                digest,
                uuid.uuid4(),
                body,
            )
            counted = row is not None
            if row is None:  # answered (replay), or another body (conflict)
                row = await conn.fetchrow(
                    f"SELECT {_RECORD} FROM idempotency_keys WHERE user_id = $1 AND operation = $2 AND key = $3",
                    uid,
                    operation,
                    key,
                )
        if row is None or (not counted and row["request_hash"] == digest and row["response_status"] is None):
            # Freed by a refusal, or freed and taken again, in between: start over (and be counted).
            return await self.begin(user_id, operation, key, body)
        if row["request_hash"] != digest:
            raise Problem(
                422,
                "idempotency-conflict",
                "Idempotency-Key reused",
                "This Idempotency-Key was used with a different request body; use a new key.",
            )
        return KeyRecord(
            row["resource_id"], row["request"], row["response_status"], row["response_body"], row["created_at"]
        )

    async def complete(self, user_id: str, operation: str, key: str, status: int, body: dict[str, Any]) -> None:
        """Store the answer every repeat gets from now on; this request no longer executes."""
        async with self._db.connection() as conn:
            await conn.execute(
                "UPDATE idempotency_keys SET response_status = $4, response_body = $5,"
                " in_flight = greatest(in_flight - 1, 0) WHERE user_id = $1 AND operation = $2 AND key = $3",
                UUID(user_id),
                operation,
                key,
                status,
                body,
            )

    async def finish(self, user_id: str, operation: str, key: str, *, refused: bool) -> None:
        """This request ends without an answer to store. A refusal changed nothing: the key is freed,
        unless another request is still executing under it (its answer must find the record, with
        the same resource id). After an outage the key is kept, so a retry reuses the resource id."""
        async with self._db.transaction() as conn:
            row = await conn.fetchrow(
                "UPDATE idempotency_keys SET in_flight = greatest(in_flight - 1, 0)"
                " WHERE user_id = $1 AND operation = $2 AND key = $3 RETURNING in_flight, response_status",
                UUID(user_id),
                operation,
                key,
            )
            if refused and row is not None and row["in_flight"] == 0 and row["response_status"] is None:
                await conn.execute(
                    "DELETE FROM idempotency_keys WHERE user_id = $1 AND operation = $2 AND key = $3",
                    UUID(user_id),
                    operation,
                    key,
                )

    async def run_once(
        self,
        user_id: str,
        operation: str,
        key: str | None,
        body: dict[str, Any],
        call: Callable[[UUID], Awaitable[tuple[int, dict[str, Any]]]],
        location: Callable[[UUID], str] | None = None,
    ) -> JSONResponse:
        """Run `call(resource_id)` at most once per key; replay its stored answer on a repeat."""
        key = check_key(key)
        record = await self.begin(user_id, operation, key, body)
        stored = record.answer
        if stored is not None:
            status_code, answer = stored
        else:
            try:
                status_code, answer = await call(record.resource_id)
            except Problem as problem:
                await self.finish(user_id, operation, key, refused=problem.status < 500)
                raise
            except BaseException:
                await self.finish(user_id, operation, key, refused=False)
                raise
            await self.complete(user_id, operation, key, status_code, answer)
        headers = {"Idempotent-Replayed": "true"} if stored is not None else {}
        if location is not None:
            headers["Location"] = location(record.resource_id)
        return JSONResponse(answer, status_code=status_code, headers=headers)

    async def find_resource(self, user_id: str, operation: str, resource_id: UUID) -> KeyRecord | None:
        """A completed request of this user that created `resource_id` (e.g. a payment not yet in Query)."""
        async with self._db.connection() as conn:
            row = await conn.fetchrow(
                "SELECT resource_id, request, response_status, response_body, created_at FROM idempotency_keys"
                " WHERE resource_id = $1 AND user_id = $2 AND operation = $3 AND response_status IS NOT NULL",
                resource_id,
                UUID(user_id),
                operation,
            )
        return KeyRecord(**row) if row else None

    async def purge(self, older_than_seconds: float) -> int:
        async with self._db.connection() as conn:
            result = await conn.execute(
                "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => $1)",
                older_than_seconds,
            )
        return int(result.split()[-1])


def key_purger(store: IdempotencyStore, *, retention_seconds: float, every_seconds: float = 3600) -> Periodic:
    """The worker that deletes keys past their retention, hourly."""

    async def purge() -> None:
        purged = await store.purge(retention_seconds)
        if purged:
            log.info("idempotency.purged", keys=purged)

    return Periodic("idempotency-purge", purge, every_seconds=every_seconds)
