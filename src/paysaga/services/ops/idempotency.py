"""Idempotency-Keys of the operators' replay requests, per operator: the first request with a key
runs and its answer is stored; a repeat with the same body gets that answer again
(`Idempotent-Replayed: true`), another body under the key is a 422 conflict, and a repeat while
the first still runs a 409. A refusal (4xx) or an error frees the key: nothing was replayed by it
that the replay records do not already guard against."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import orjson

from paysaga.platform.db import Database
from paysaga.platform.idempotency_key import MAX_KEY_LENGTH, well_formed
from paysaga.platform.problems import Problem
from paysaga.services.ops import repository


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: dict[str, Any]
    replayed: bool

    @property
    def headers(self) -> dict[str, str]:
        return {"Idempotent-Replayed": "true"} if self.replayed else {}


def check_key(key: str | None) -> str:
    if key is None or not key.strip():
        raise Problem(
            400,
            "idempotency-key-missing",
            "Idempotency-Key required",
            "Send an Idempotency-Key header (e.g. a UUID) so that a retry cannot replay twice.",
        )
    if not well_formed(key):
        raise Problem(
            400,
            "idempotency-key-invalid",
            "Invalid Idempotency-Key",
            f"At most {MAX_KEY_LENGTH} visible ASCII characters (spaces inside).",
        )
    return key


async def run_once(
    db: Database,
    operator_id: UUID,
    key: str | None,
    body: dict[str, Any],
    call: Callable[[str], Awaitable[tuple[int, dict[str, Any]]]],
) -> Answer:
    """Run `call(key)` once per operator and key; repeats get its stored answer."""
    key = check_key(key)
    request_hash = hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()
    async with db.connection() as conn:
        held = await repository.claim_key(conn, operator_id, key, request_hash)
    if held is not None:
        if held.request_hash != request_hash:
            raise Problem(
                422,
                "idempotency-conflict",
                "Idempotency-Key reused",
                "This Idempotency-Key was used with another request body; use a new key.",
            )
        if held.response_status is None or held.response_body is None:
            raise Problem(
                409,
                "request-in-progress",
                "Request in progress",
                "A request with this Idempotency-Key is still running; retry shortly.",
                headers={"Retry-After": "1"},
            )
        return Answer(held.response_status, held.response_body, replayed=True)
    try:
        status, answer = await call(key)
    except BaseException:
        async with db.connection() as conn:
            await repository.release_key(conn, operator_id, key)
        raise
    async with db.connection() as conn:
        await repository.store_answer(conn, operator_id, key, status, answer)
    return Answer(status, answer, replayed=False)
