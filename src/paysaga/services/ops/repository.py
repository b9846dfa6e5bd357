"""The Ops service's queries: the only SQL of its database (operators, audit log, login throttle,
dead-letter replays and the Idempotency-Keys of replay requests)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

import asyncpg


class EmailTaken(Exception):
    """An operator with this email exists."""


@dataclass(frozen=True, slots=True)
class Operator:
    operator_id: UUID
    email: str
    password_hash: str
    created_at: datetime
    disabled_at: datetime | None


_OPERATOR = "operator_id, email, password_hash, created_at, disabled_at"


async def insert_operator(
    conn: asyncpg.Connection, operator_id: UUID, *, email: str, email_normalized: str, password_hash: str
) -> None:
    try:
        await conn.execute(
            "INSERT INTO operators (operator_id, email, email_normalized, password_hash) VALUES ($1, $2, $3, $4)",
            operator_id,
            email,
            email_normalized,
            password_hash,
        )
    except asyncpg.UniqueViolationError as exc:
        raise EmailTaken(email) from exc


async def find_operator(conn: asyncpg.Connection, email_normalized: str) -> Operator | None:
    row = await conn.fetchrow(f"SELECT {_OPERATOR} FROM operators WHERE email_normalized = $1", email_normalized)
    return Operator(**row) if row else None


async def get_operator(conn: asyncpg.Connection, operator_id: UUID) -> Operator | None:
    row = await conn.fetchrow(f"SELECT {_OPERATOR} FROM operators WHERE operator_id = $1", operator_id)
    return Operator(**row) if row else None


async def list_operators(conn: asyncpg.Connection) -> list[Operator]:
    return [Operator(**r) for r in await conn.fetch(f"SELECT {_OPERATOR} FROM operators ORDER BY created_at")]


async def set_password_hash(conn: asyncpg.Connection, operator_id: UUID, password_hash: str) -> None:
    await conn.execute("UPDATE operators SET password_hash = $2 WHERE operator_id = $1", operator_id, password_hash)


async def disable_operator(conn: asyncpg.Connection, email_normalized: str) -> Operator | None:
    row = await conn.fetchrow(
        "UPDATE operators SET disabled_at = coalesce(disabled_at, now()) WHERE email_normalized = $1"
        f" RETURNING {_OPERATOR}",
        email_normalized,
    )
    return Operator(**row) if row else None


# --- audit log ---------------------------------------------------------------------------------


async def begin_audit(
    conn: asyncpg.Connection,
    *,
    operator_id: UUID | None,
    actor: str,
    action: str,
    target: str | None,
    summary: dict[str, Any],
) -> int:
    audit_id: int = await conn.fetchval(
        "INSERT INTO audit_log (operator_id, actor, action, target, summary, outcome)"
        " VALUES ($1, $2, $3, $4, $5, 'pending') RETURNING audit_id",
        operator_id,
        actor,
        action,
        target,
        summary,
    )
    return audit_id


async def finish_audit(conn: asyncpg.Connection, audit_id: int, *, outcome: str, detail: str | None) -> None:
    await conn.execute(
        "UPDATE audit_log SET outcome = $2, detail = $3, finished_at = now() WHERE audit_id = $1",
        audit_id,
        outcome,
        detail,
    )


async def list_audit(
    conn: asyncpg.Connection,
    *,
    operator_id: UUID | None,
    action: str | None,
    before: int | None,
    limit: int,
) -> list[asyncpg.Record]:
    """Audit entries newest first, below the `before` id (the page cursor)."""
    return await conn.fetch(
        "SELECT audit_id, at, operator_id, actor, action, target, summary, outcome, detail, finished_at"
        " FROM audit_log WHERE ($1::uuid IS NULL OR operator_id = $1) AND ($2::text IS NULL OR action = $2)"
        " AND ($3::bigint IS NULL OR audit_id < $3) ORDER BY audit_id DESC LIMIT $4",
        operator_id,
        action,
        before,
        limit,
    )


# --- login throttle (fixed windows, shared by every Ops instance) -------------------------------


class Window(NamedTuple):
    """A throttle counter in its current window: its hits, and the seconds until the window ends."""

    hits: int
    ends_in: int


_WINDOW_START = "to_timestamp(floor(extract(epoch FROM now()) / $3::integer) * $3::integer)"
_ENDS_IN = "greatest(1, ceil(extract(epoch FROM expires_at - now())))::int"


async def count_hit(conn: asyncpg.Connection, scope: str, subject: str, window_seconds: int) -> Window:
    row = await conn.fetchrow(
        "INSERT INTO login_throttle (scope, subject, window_start, hits, expires_at)"
        f" VALUES ($1, $2, {_WINDOW_START}, 1, {_WINDOW_START} + make_interval(secs => $3::integer))"
        " ON CONFLICT (scope, subject, window_start) DO UPDATE SET hits = login_throttle.hits + 1"
        f" RETURNING hits, {_ENDS_IN} AS ends_in",
        scope,
        subject,
        window_seconds,
    )
    assert row is not None
    return Window(row["hits"], row["ends_in"])


async def current_hits(conn: asyncpg.Connection, scope: str, subject: str, window_seconds: int) -> Window | None:
    row = await conn.fetchrow(
        f"SELECT hits, {_ENDS_IN} AS ends_in FROM login_throttle"
        f" WHERE scope = $1 AND subject = $2 AND window_start = {_WINDOW_START}",
        scope,
        subject,
        window_seconds,
    )
    return Window(row["hits"], row["ends_in"]) if row else None


async def reset_hits(conn: asyncpg.Connection, scope: str, subject: str) -> None:
    await conn.execute("DELETE FROM login_throttle WHERE scope = $1 AND subject = $2", scope, subject)


async def purge_throttle(conn: asyncpg.Connection) -> int:
    result = await conn.execute("DELETE FROM login_throttle WHERE expires_at < now()")
    return int(result.split()[-1])


# --- Idempotency-Keys of replay requests --------------------------------------------------------


class KeyClaim(NamedTuple):
    """What an Idempotency-Key holds: whose request hash, and the answer once there is one."""

    request_hash: str
    response_status: int | None
    response_body: dict[str, Any] | None


async def claim_key(conn: asyncpg.Connection, operator_id: UUID, key: str, request_hash: str) -> KeyClaim | None:
    """Take a new key for this request (None), or what the key already holds."""
    inserted = await conn.fetchval(
        "INSERT INTO replay_requests (operator_id, key, request_hash) VALUES ($1, $2, $3)"
        " ON CONFLICT DO NOTHING RETURNING true",
        operator_id,
        key,
        request_hash,
    )
    if inserted:
        return None
    row = await conn.fetchrow(
        "SELECT request_hash, response_status, response_body FROM replay_requests WHERE operator_id = $1 AND key = $2",
        operator_id,
        key,
    )
    assert row is not None, "a key is never deleted while its request runs"
    return KeyClaim(**row)


async def store_answer(
    conn: asyncpg.Connection, operator_id: UUID, key: str, status: int, body: dict[str, Any]
) -> None:
    await conn.execute(
        "UPDATE replay_requests SET response_status = $3, response_body = $4 WHERE operator_id = $1 AND key = $2",
        operator_id,
        key,
        status,
        body,
    )


async def release_key(conn: asyncpg.Connection, operator_id: UUID, key: str) -> None:
    await conn.execute("DELETE FROM replay_requests WHERE operator_id = $1 AND key = $2", operator_id, key)


async def purge_keys(conn: asyncpg.Connection, older_than_seconds: float) -> int:
    result = await conn.execute(
        "DELETE FROM replay_requests WHERE created_at < now() - make_interval(secs => $1)", older_than_seconds
    )
    return int(result.split()[-1])


# --- replays of dead letters --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewReplay:
    operator_id: UUID
    request_key: str
    dlq_topic: str
    dlq_partition: int
    dlq_offset: int
    original_topic: str
    original_partition: int | None
    original_offset: int | None
    consumer_group: str | None
    reason: str | None
    ce_id: str | None
    ce_type: str | None
    record_key: str | None
    forced: bool


_REPLAY = (
    "replay_id, operator_id, request_key, dlq_topic, dlq_partition, dlq_offset, original_topic, original_partition,"
    " original_offset, consumer_group, reason, ce_id, ce_type, record_key, forced, status, error, requested_at,"
    " finished_at, published_partition, published_offset"
)


async def lock_record(conn: asyncpg.Connection, topic: str, partition: int, offset: int) -> None:
    """Serialize the replays of one dead-letter record (until this transaction ends)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, $2))", topic, partition * (1 << 40) + offset)


async def live_replay(conn: asyncpg.Connection, topic: str, partition: int, offset: int) -> int | None:
    """The latest replay of the record that did not fail (published, or possibly published)."""
    replay_id: int | None = await conn.fetchval(
        "SELECT max(replay_id) FROM replays WHERE dlq_topic = $1 AND dlq_partition = $2 AND dlq_offset = $3"
        " AND status <> 'FAILED'",
        topic,
        partition,
        offset,
    )
    return replay_id


async def replayed_offsets(conn: asyncpg.Connection, topic: str) -> set[tuple[int, int]]:
    """(partition, offset) of every record of the dead-letter topic with a replay that did not fail."""
    rows = await conn.fetch(
        "SELECT DISTINCT dlq_partition, dlq_offset FROM replays WHERE dlq_topic = $1 AND status <> 'FAILED'", topic
    )
    return {(r["dlq_partition"], r["dlq_offset"]) for r in rows}


async def insert_replay(conn: asyncpg.Connection, replay: NewReplay) -> int:
    replay_id: int = await conn.fetchval(
        "INSERT INTO replays (operator_id, request_key, dlq_topic, dlq_partition, dlq_offset, original_topic,"
        " original_partition, original_offset, consumer_group, reason, ce_id, ce_type, record_key, forced, status)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'PENDING') RETURNING replay_id",
        replay.operator_id,
        replay.request_key,
        replay.dlq_topic,
        replay.dlq_partition,
        replay.dlq_offset,
        replay.original_topic,
        replay.original_partition,
        replay.original_offset,
        replay.consumer_group,
        replay.reason,
        replay.ce_id,
        replay.ce_type,
        replay.record_key,
        replay.forced,
    )
    return replay_id


async def finish_replays(
    conn: asyncpg.Connection, results: list[tuple[int, str, str | None, int | None, int | None]]
) -> None:
    """(replay_id, status, error, published partition, published offset) of each replay."""
    await conn.executemany(
        "UPDATE replays SET status = $2, error = $3, published_partition = $4, published_offset = $5,"
        " finished_at = now() WHERE replay_id = $1",
        results,
    )


async def replays_of(conn: asyncpg.Connection, records: list[tuple[str, int, int]]) -> list[asyncpg.Record]:
    """Every replay of these dead-letter records (topic, partition, offset), oldest first."""
    if not records:
        return []
    return await conn.fetch(
        f"SELECT {_REPLAY} FROM replays r"
        " JOIN unnest($1::text[], $2::int[], $3::bigint[]) AS w(t, p, o)"
        " ON r.dlq_topic = w.t AND r.dlq_partition = w.p AND r.dlq_offset = w.o ORDER BY replay_id",
        [t for t, _, _ in records],
        [p for _, p, _ in records],
        [o for _, _, o in records],
    )


async def list_replays(
    conn: asyncpg.Connection,
    *,
    dlq_topic: str | None,
    ce_id: str | None,
    operator_id: UUID | None,
    before: int | None,
    limit: int,
) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {_REPLAY} FROM replays WHERE ($1::text IS NULL OR dlq_topic = $1) AND ($2::text IS NULL OR ce_id = $2)"
        " AND ($3::uuid IS NULL OR operator_id = $3) AND ($4::bigint IS NULL OR replay_id < $4)"
        " ORDER BY replay_id DESC LIMIT $5",
        dlq_topic,
        ce_id,
        operator_id,
        before,
        limit,
    )


# --- reconciliation runs ------------------------------------------------------------------------

_RUN = "run_id, trigger, operator_id, started_at, finished_at, window_start, window_end, status, funds, payments, error"


async def last_window_end(conn: asyncpg.Connection) -> datetime | None:
    """Where the last run that did not fail stopped judging (the next run starts there)."""
    end: datetime | None = await conn.fetchval(
        "SELECT max(window_end) FROM reconciliation_runs WHERE status IN ('clean', 'differences')"
    )
    return end


async def begin_run(
    conn: asyncpg.Connection, *, trigger: str, operator_id: UUID | None, window_start: datetime, window_end: datetime
) -> int:
    run_id: int = await conn.fetchval(
        "INSERT INTO reconciliation_runs (trigger, operator_id, window_start, window_end, status)"
        " VALUES ($1, $2, $3, $4, 'running') RETURNING run_id",
        trigger,
        operator_id,
        window_start,
        window_end,
    )
    return run_id


async def finish_run(
    conn: asyncpg.Connection,
    run_id: int,
    *,
    status: str,
    funds: list[dict[str, Any]],
    payments: list[dict[str, Any]],
    error: str | None = None,
) -> asyncpg.Record:
    row: asyncpg.Record = await conn.fetchrow(
        "UPDATE reconciliation_runs SET finished_at = now(), status = $2, funds = $3, payments = $4, error = $5"
        f" WHERE run_id = $1 RETURNING {_RUN}",
        run_id,
        status,
        funds,
        payments,
        error,
    )
    return row


async def list_runs(conn: asyncpg.Connection, *, limit: int) -> list[asyncpg.Record]:
    """The last runs, newest first."""
    return await conn.fetch(f"SELECT {_RUN} FROM reconciliation_runs ORDER BY run_id DESC LIMIT $1", limit)


# --- difference cases (opened by the reconciliation job) ------------------------------------------

_CASE = (
    "case_id, kind, subject, evidence, opened_by_run, last_seen_run, opened_at, last_seen_at,"
    " resolved_at, resolved_by, resolution_note"
)


async def open_case(conn: asyncpg.Connection, *, run_id: int, kind: str, subject: str, evidence: dict[str, Any]) -> int:
    """The open case of this difference, opened now or updated with what this run saw; its id."""
    case_id: int = await conn.fetchval(
        "INSERT INTO difference_cases (kind, subject, evidence, opened_by_run, last_seen_run)"
        " VALUES ($1, $2, $3, $4, $4)"
        " ON CONFLICT (kind, subject) WHERE resolved_at IS NULL DO UPDATE"
        " SET evidence = excluded.evidence, last_seen_run = excluded.last_seen_run, last_seen_at = now()"
        " RETURNING case_id",
        kind,
        subject,
        evidence,
        run_id,
    )
    return case_id


async def list_cases(
    conn: asyncpg.Connection, *, status: str, kind: str | None, subject: str | None, before: int | None, limit: int
) -> list[asyncpg.Record]:
    """Cases newest first; `status` open, resolved or all; `before` a case id (paging)."""
    return await conn.fetch(
        f"SELECT {_CASE} FROM difference_cases"
        " WHERE ($1 = 'all' OR ($1 = 'open') = (resolved_at IS NULL))"
        " AND ($2::text IS NULL OR kind = $2) AND ($3::text IS NULL OR subject = $3)"
        " AND ($4::bigint IS NULL OR case_id < $4)"
        " ORDER BY case_id DESC LIMIT $5",
        status,
        kind,
        subject,
        before,
        limit,
    )


async def get_case(conn: asyncpg.Connection, case_id: int) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        f"SELECT {_CASE} FROM difference_cases WHERE case_id = $1", case_id
    )
    return row


async def resolve_case(
    conn: asyncpg.Connection, case_id: int, *, operator_id: UUID, note: str
) -> asyncpg.Record | None:
    """The case, resolved now; None if it does not exist or was resolved before."""
    row: asyncpg.Record | None = await conn.fetchrow(
        "UPDATE difference_cases SET resolved_at = now(), resolved_by = $2, resolution_note = $3"
        f" WHERE case_id = $1 AND resolved_at IS NULL RETURNING {_CASE}",
        case_id,
        operator_id,
        note,
    )
    return row


async def count_open_cases(conn: asyncpg.Connection) -> dict[str, int]:
    """Open cases by kind."""
    rows = await conn.fetch("SELECT kind, count(*) AS n FROM difference_cases WHERE resolved_at IS NULL GROUP BY kind")
    return {row["kind"]: row["n"] for row in rows}
