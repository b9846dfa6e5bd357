"""The Check use case: decide on a payment once, store the decision, replay it afterwards."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from prometheus_client import Counter

from paysaga.platform.db import Database
from paysaga.services.antifraud import domain, repository
from paysaga.services.antifraud.domain import CheckRecord, Limits, PaymentToCheck

log = structlog.get_logger("paysaga.antifraud")

FRAUD_DECISIONS = Counter(
    "paysaga_fraud_decisions_total",
    "Decisions made (a replayed Check of the same payment is not a new one), by decision and first rule tripped",
    ["decision", "reason"],
)


class ConflictingCheck(Exception):
    """A Check for a payment id that was already decided with other payment data."""


class _Raced(Exception):
    pass


@dataclass(frozen=True, slots=True)
class CheckResult:
    record: CheckRecord
    replayed: bool  # True: the decision stored by an earlier Check of the same payment


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _replay(stored: CheckRecord, payment: PaymentToCheck) -> CheckResult:
    if not stored.payment.same_request(payment):
        raise ConflictingCheck(
            f"payment {payment.payment_id} was already checked with other data"
            " (user, wallet, amount, currency or recipient differ)"
        )
    return CheckResult(stored, replayed=True)


async def check_payment(
    db: Database, payment: PaymentToCheck, limits: Limits, *, now: Callable[[], datetime] = _utcnow
) -> CheckResult:
    """Decide on `payment`, or return the decision already stored for its payment id.

    One transaction per decision, holding a per-user lock: two payments of one user are never
    evaluated at the same time, so each sees the other in its velocity. The checked payment is
    recorded as known (for the velocity of later payments), unless its event already was.
    """
    async with db.connection() as conn:
        stored = await repository.find_check(conn, payment.payment_id)
    if stored is not None:
        return _replay(stored, payment)

    try:
        async with db.transaction() as conn:
            await repository.lock_user(conn, payment.user_id)
            # Read the clock under the lock: checks of one user then see each other in their windows.
            at = payment.created_at or now()
            stored = await repository.find_check(conn, payment.payment_id)
            if stored is not None:  # a concurrent Check of the same payment won
                return _replay(stored, payment)
            blocked = await repository.is_blocked(conn, payment.account_number)
            prior = await repository.prior_payments(
                conn,
                user_id=payment.user_id,
                exclude_payment_id=payment.payment_id,
                since=domain.window_start(at, limits.window),
                until=at,
            )
            velocity = domain.velocity(prior, payment, at, limits.window)
            verdict = domain.evaluate(payment, velocity, blocked, limits)
            record = await repository.insert_check(conn, payment, at, verdict, velocity)
            if record is None:
                raise _Raced  # a concurrent Check of the same payment id under another user id
            await repository.record_payment(
                conn,
                payment_id=payment.payment_id,
                user_id=payment.user_id,
                amount=payment.amount,
                currency=payment.currency,
                created_at=at,
                learned_from="check",
            )
    except _Raced:
        async with db.connection() as conn:
            stored = await repository.find_check(conn, payment.payment_id)
        if stored is None:
            raise RuntimeError(f"the check of {payment.payment_id} vanished") from None
        return _replay(stored, payment)
    FRAUD_DECISIONS.labels(verdict.decision.value, verdict.reason).inc()
    log.debug(
        "antifraud.checked",
        payment_id=payment.payment_id,
        user_id=payment.user_id,
        decision=verdict.decision.value,
        reasons=[r.value for r in verdict.reasons],
        score=round(verdict.score, 4),
        velocity_count=velocity.count,
        velocity_sum=velocity.total,
    )
    return CheckResult(record, replayed=False)
