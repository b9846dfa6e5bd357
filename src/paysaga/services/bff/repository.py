"""BFF queries: the only SQL of the BFF (its idempotency keys, its login and registration throttle)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

import asyncpg

_RECORD = "request_hash, resource_id, request, response_status, response_body, created_at"


@dataclass(frozen=True, slots=True)
class KeyRecord:
    request_hash: str
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


class Departure(NamedTuple):
    """A key after one request left it: how many still execute under it, and its stored status."""

    in_flight: int
    response_status: int | None


async def claim_key(
    conn: asyncpg.Connection,
    user_id: UUID,
    operation: str,
    key: str,
    *,
    request_hash: str,
    resource_id: UUID,
    request: dict[str, Any],
) -> KeyRecord | None:
    """New key: insert it, executing (in_flight 1). Same body, not answered yet: join the requests
    executing under it. Both in one statement, so no refusal can slip between. None otherwise
    (answered, or another body)."""
    row = await conn.fetchrow(
        "INSERT INTO idempotency_keys (user_id, operation, key, request_hash, resource_id, request, in_flight)"
        " VALUES ($1, $2, $3, $4, $5, $6, 1) ON CONFLICT (user_id, operation, key) DO UPDATE"
        " SET in_flight = idempotency_keys.in_flight + 1"
        " WHERE idempotency_keys.request_hash = EXCLUDED.request_hash"
        f" AND idempotency_keys.response_status IS NULL RETURNING {_RECORD}",
        user_id,
        operation,
        key,
        request_hash,
        resource_id,
        request,
    )
    return KeyRecord(**row) if row else None


async def find_key(conn: asyncpg.Connection, user_id: UUID, operation: str, key: str) -> KeyRecord | None:
    row = await conn.fetchrow(
        f"SELECT {_RECORD} FROM idempotency_keys WHERE user_id = $1 AND operation = $2 AND key = $3",
        user_id,
        operation,
        key,
    )
    return KeyRecord(**row) if row else None


async def store_answer(
    conn: asyncpg.Connection, user_id: UUID, operation: str, key: str, status: int, body: dict[str, Any]
) -> None:
    """The answer every repeat gets from now on; the request that made it no longer executes."""
    await conn.execute(
        "UPDATE idempotency_keys SET response_status = $4, response_body = $5,"
        " in_flight = greatest(in_flight - 1, 0) WHERE user_id = $1 AND operation = $2 AND key = $3",
        user_id,
        operation,
        key,
        status,
        body,
    )


async def leave_key(conn: asyncpg.Connection, user_id: UUID, operation: str, key: str) -> Departure | None:
    """One request no longer executes under the key."""
    row = await conn.fetchrow(
        "UPDATE idempotency_keys SET in_flight = greatest(in_flight - 1, 0)"
        " WHERE user_id = $1 AND operation = $2 AND key = $3 RETURNING in_flight, response_status",
        user_id,
        operation,
        key,
    )
    return Departure(row["in_flight"], row["response_status"]) if row else None


async def delete_key(conn: asyncpg.Connection, user_id: UUID, operation: str, key: str) -> None:
    await conn.execute(
        "DELETE FROM idempotency_keys WHERE user_id = $1 AND operation = $2 AND key = $3",
        user_id,
        operation,
        key,
    )


async def find_answered_resource(
    conn: asyncpg.Connection, user_id: UUID, operation: str, resource_id: UUID
) -> KeyRecord | None:
    row = await conn.fetchrow(
        f"SELECT {_RECORD} FROM idempotency_keys"
        " WHERE resource_id = $1 AND user_id = $2 AND operation = $3 AND response_status IS NOT NULL",
        resource_id,
        user_id,
        operation,
    )
    return KeyRecord(**row) if row else None


async def newest_answered(
    conn: asyncpg.Connection, user_id: UUID, operation: str, status: int, limit: int
) -> list[KeyRecord]:
    """The user's newest requests of `operation` answered `status`, newest first."""
    rows = await conn.fetch(
        f"SELECT {_RECORD} FROM idempotency_keys WHERE user_id = $1 AND operation = $2"
        " AND response_status IS NOT NULL AND response_status = $3 ORDER BY created_at DESC LIMIT $4",
        user_id,
        operation,
        status,
        limit,
    )
    return [KeyRecord(**row) for row in rows]


async def purge_keys(conn: asyncpg.Connection, older_than_seconds: float) -> int:
    result = await conn.execute(
        "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => $1)",
        older_than_seconds,
    )
    return int(result.split()[-1])


class Window(NamedTuple):
    """A throttle counter in its current window: its hits, and the seconds until the window ends."""

    hits: int
    ends_in: int


# The current fixed window of `$3` seconds: windows start at multiples of it since the epoch.
_WINDOW_START = "to_timestamp(floor(extract(epoch FROM now()) / $3::integer) * $3::integer)"
_ENDS_IN = "greatest(1, ceil(extract(epoch FROM expires_at - now())))::int"


async def count_hit(conn: asyncpg.Connection, scope: str, subject: str, window_seconds: int) -> Window:
    """One more hit on the subject's counter in the current window (made when new); its hits now."""
    row = await conn.fetchrow(
        "INSERT INTO auth_throttle (scope, subject, window_start, hits, expires_at)"
        f" VALUES ($1, $2, {_WINDOW_START}, 1, {_WINDOW_START} + make_interval(secs => $3::integer))"
        " ON CONFLICT (scope, subject, window_start) DO UPDATE SET hits = auth_throttle.hits + 1"
        f" RETURNING hits, {_ENDS_IN} AS ends_in",
        scope,
        subject,
        window_seconds,
    )
    assert row is not None
    return Window(row["hits"], row["ends_in"])


async def current_hits(conn: asyncpg.Connection, scope: str, subject: str, window_seconds: int) -> Window | None:
    row = await conn.fetchrow(
        f"SELECT hits, {_ENDS_IN} AS ends_in FROM auth_throttle"
        f" WHERE scope = $1 AND subject = $2 AND window_start = {_WINDOW_START}",
        scope,
        subject,
        window_seconds,
    )
    return Window(row["hits"], row["ends_in"]) if row else None


async def reset_hits(conn: asyncpg.Connection, scope: str, subject: str) -> None:
    await conn.execute("DELETE FROM auth_throttle WHERE scope = $1 AND subject = $2", scope, subject)


async def purge_throttle(conn: asyncpg.Connection) -> int:
    """Delete the counters whose window has ended."""
    result = await conn.execute("DELETE FROM auth_throttle WHERE expires_at < now()")
    return int(result.split()[-1])
