"""Notification queries. Only this module speaks SQL to the notification database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from paysaga.services.notification.domain import Channel, Language, Message, Outcome, PaymentFacts, Status

_FACTS = "payment_id, user_id, amount, currency, recipient_name, outcome, error_code, completed_at"
_COLUMNS = (
    "notification_id, payment_id, channel, user_id, event_type, language, title, message, status, attempts,"
    " last_error, next_attempt_at, lease_token, gateway_message_id, created_at, updated_at, sent_at"
)


@dataclass(frozen=True, slots=True)
class Notification:
    notification_id: int
    payment_id: str
    channel: Channel
    user_id: str
    event_type: Outcome
    language: Language
    title: str
    message: str
    status: Status
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    lease_token: UUID | None
    gateway_message_id: str | None
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None

    @property
    def reference(self) -> str:
        """The idempotency key given to the gateway: a retried send is recognised as the same message."""
        return f"{self.payment_id}:{self.channel.value}"


def _notification(row: asyncpg.Record) -> Notification:
    return Notification(
        **{
            **row,
            "channel": Channel(row["channel"]),
            "event_type": Outcome(row["event_type"]),
            "language": Language(row["language"]),
            "status": Status(row["status"]),
        }
    )


def _facts(row: asyncpg.Record) -> PaymentFacts:
    outcome = Outcome(row["outcome"]) if row["outcome"] else None
    return PaymentFacts(**{**row, "outcome": outcome})


async def record_details(
    conn: asyncpg.Connection,
    *,
    payment_id: str,
    user_id: str,
    amount: int,
    currency: str,
    recipient_name: str,
) -> PaymentFacts:
    """Keep what PaymentInitiated says (first writer wins); returns everything known, row locked."""
    row = await conn.fetchrow(
        "INSERT INTO payments (payment_id, user_id, amount, currency, recipient_name) VALUES ($1, $2, $3, $4, $5)"
        " ON CONFLICT (payment_id) DO UPDATE SET user_id = COALESCE(payments.user_id, EXCLUDED.user_id),"
        " amount = COALESCE(payments.amount, EXCLUDED.amount),"
        " currency = COALESCE(payments.currency, EXCLUDED.currency),"
        " recipient_name = COALESCE(payments.recipient_name, EXCLUDED.recipient_name), updated_at = now()"
        f" RETURNING {_FACTS}",
        payment_id,
        user_id,
        amount,
        currency,
        recipient_name,
    )
    return _facts(row)


async def record_outcome(
    conn: asyncpg.Connection,
    *,
    payment_id: str,
    outcome: Outcome,
    error_code: str | None,
    completed_at: datetime,
) -> PaymentFacts:
    """Keep a payment's final outcome (the first one wins: a final state never changes); row locked."""
    row = await conn.fetchrow(
        "INSERT INTO payments (payment_id, outcome, error_code, completed_at) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (payment_id) DO UPDATE SET"
        " error_code = CASE WHEN payments.outcome IS NULL THEN EXCLUDED.error_code ELSE payments.error_code END,"
        " completed_at = COALESCE(payments.completed_at, EXCLUDED.completed_at),"
        " outcome = COALESCE(payments.outcome, EXCLUDED.outcome), updated_at = now()"
        f" RETURNING {_FACTS}",
        payment_id,
        outcome.value,
        error_code,
        completed_at,
    )
    return _facts(row)


async def insert_notification(
    conn: asyncpg.Connection, facts: PaymentFacts, channel: Channel, language: Language, message: Message
) -> bool:
    """A PENDING notification, due now; False if this payment already has one on this channel."""
    assert facts.user_id is not None and facts.outcome is not None
    inserted = await conn.fetchval(
        "INSERT INTO notifications (payment_id, channel, user_id, event_type, language, title, message,"
        " next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $7, now())"
        " ON CONFLICT (payment_id, channel) DO NOTHING RETURNING true",
        facts.payment_id,
        channel.value,
        facts.user_id,
        facts.outcome.value,
        language.value,
        message.title,
        message.text,
    )
    return bool(inserted)


async def claim_due(
    conn: asyncpg.Connection, channel: Channel, *, limit: int, lease_seconds: float
) -> list[Notification]:
    """Lease up to `limit` due notifications of one channel and count the attempt they are claimed
    for (so a notification that crashes its dispatcher still runs out of attempts)."""
    rows = await conn.fetch(
        "UPDATE notifications SET lease_until = now() + make_interval(secs => $3), lease_token = gen_random_uuid(),"
        " attempts = attempts + 1, updated_at = now()"
        " WHERE notification_id IN ("
        "  SELECT notification_id FROM notifications"
        "  WHERE channel = $1 AND status = 'PENDING' AND next_attempt_at <= now()"
        "  AND (lease_until IS NULL OR lease_until < now())"
        "  ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED)"
        f" RETURNING {_COLUMNS}",
        channel.value,
        limit,
        lease_seconds,
    )
    return [_notification(r) for r in rows]


async def mark_sent(conn: asyncpg.Connection, n: Notification, gateway_message_id: str) -> bool:
    """The gateway accepted it; False if the lease was lost meanwhile (another dispatcher owns it)."""
    done = await conn.fetchval(
        "UPDATE notifications SET status = 'SENT', sent_at = now(), gateway_message_id = $3, last_error = NULL,"
        " next_attempt_at = NULL, lease_until = NULL, lease_token = NULL, updated_at = now()"
        " WHERE notification_id = $1 AND lease_token = $2 AND status = 'PENDING' RETURNING true",
        n.notification_id,
        n.lease_token,
        gateway_message_id,
    )
    return bool(done)


async def mark_attempt_failed(
    conn: asyncpg.Connection, n: Notification, *, status: Status, error: str, retry_in: float
) -> bool:
    """The attempt failed: due again in `retry_in` seconds (PENDING) or given up (FAILED)."""
    done = await conn.fetchval(
        "UPDATE notifications SET status = $3, last_error = $4, lease_until = NULL, lease_token = NULL,"
        " next_attempt_at = CASE WHEN $3 = 'PENDING' THEN now() + make_interval(secs => $5) END,"
        " updated_at = now()"
        " WHERE notification_id = $1 AND lease_token = $2 AND status = 'PENDING' RETURNING true",
        n.notification_id,
        n.lease_token,
        status.value,
        error[:2000],
        retry_in,
    )
    return bool(done)


async def list_for_payment(conn: asyncpg.Connection, payment_id: str) -> list[Notification]:
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM notifications WHERE payment_id = $1 ORDER BY channel", payment_id)
    return [_notification(r) for r in rows]


async def get_facts(conn: asyncpg.Connection, payment_id: str) -> PaymentFacts | None:
    row = await conn.fetchrow(f"SELECT {_FACTS} FROM payments WHERE payment_id = $1", payment_id)
    return _facts(row) if row else None
