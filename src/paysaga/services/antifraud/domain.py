"""Anti-Fraud rules: pure functions, no I/O.

A payment is denied when any rule trips, with the first in `RULE_ORDER` as the reason; limits are inclusive (a
value equal to its limit passes) and the score is how close it came to the nearest limit (a denied payment
scores 1). Velocity covers the user's payments created in `(at - window, at]`, `at` being the checked payment's
own creation time, each counted once by payment id. The checked payment is left out of what is stored and
added exactly once, so whether its event was consumed before the check or not makes no difference.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

ACCOUNT_NUMBER_PATTERN = r"^[0-9]{20}$"


class Reason(StrEnum):
    """Machine codes of the rules, in the order they are evaluated."""

    AMOUNT_LIMIT = "AMOUNT_LIMIT"
    VELOCITY_COUNT = "VELOCITY_COUNT"
    VELOCITY_SUM = "VELOCITY_SUM"
    RECIPIENT_BLOCKED = "RECIPIENT_BLOCKED"


RULE_ORDER: tuple[Reason, ...] = tuple(Reason)


class Decision(StrEnum):
    ALLOW = "ALLOW"
    DENY = "DENY"


@dataclass(frozen=True, slots=True)
class Limits:
    amount_limit: int
    window: timedelta
    max_count: int
    max_sum: int

    def __post_init__(self) -> None:
        if min(self.amount_limit, self.max_count, self.max_sum) <= 0:
            raise ValueError("limits must be positive")
        if self.window <= timedelta(0):
            raise ValueError("the velocity window must be positive")


@dataclass(frozen=True, slots=True)
class PaymentToCheck:
    """What a Check is asked about."""

    payment_id: str
    user_id: str
    wallet_id: str
    amount: int
    currency: str
    account_number: str
    bank_bic: str
    recipient_name: str
    created_at: datetime | None = None

    def same_request(self, other: PaymentToCheck) -> bool:
        """Whether `other` asks about the same payment (the fields a decision depends on)."""
        return (
            self.payment_id,
            self.user_id,
            self.wallet_id,
            self.amount,
            self.currency,
            self.account_number,
            self.bank_bic,
        ) == (
            other.payment_id,
            other.user_id,
            other.wallet_id,
            other.amount,
            other.currency,
            other.account_number,
            other.bank_bic,
        )


@dataclass(frozen=True, slots=True)
class PriorPayment:
    """A payment of the user the service knows of (from its event or a Check)."""

    payment_id: str
    amount: int
    currency: str
    created_at: datetime
    failed_or_denied: bool = False


@dataclass(frozen=True, slots=True)
class Velocity:
    """The user's payments in the window, the checked one included."""

    count: int
    total: int


def window_start(at: datetime, window: timedelta) -> datetime:
    return at - window


def in_window(created_at: datetime, at: datetime, window: timedelta) -> bool:
    return window_start(at, window) < created_at <= at


def velocity(prior: Iterable[PriorPayment], payment: PaymentToCheck, at: datetime, window: timedelta) -> Velocity:
    """Count and sum of the user's payments in `(at - window, at]`, each once, plus `payment`.

    The count counts attempts, failed and denied ones included (repeated attempts are a signal); the sum counts
    money that left or may still leave: only the payment's currency, and neither failed nor denied payments.
    """
    seen: set[str] = {payment.payment_id}
    count, total = 1, payment.amount
    for p in prior:
        if p.payment_id in seen or not in_window(p.created_at, at, window):
            continue
        seen.add(p.payment_id)
        count += 1
        if p.currency == payment.currency and not p.failed_or_denied:
            total += p.amount
    return Velocity(count=count, total=total)


def amount_exceeded(payment: PaymentToCheck, limits: Limits) -> bool:
    return payment.amount > limits.amount_limit


def count_exceeded(v: Velocity, limits: Limits) -> bool:
    return v.count > limits.max_count


def sum_exceeded(v: Velocity, limits: Limits) -> bool:
    return v.total > limits.max_sum


@dataclass(frozen=True, slots=True)
class Verdict:
    decision: Decision
    reasons: tuple[Reason, ...]  # every rule that tripped, in rule order
    score: float

    @property
    def reason(self) -> str:
        """The first rule that tripped; empty when allowed."""
        return self.reasons[0].value if self.reasons else ""


def tripped(payment: PaymentToCheck, v: Velocity, blocked: bool, limits: Limits) -> tuple[Reason, ...]:
    checks = {
        Reason.AMOUNT_LIMIT: amount_exceeded(payment, limits),
        Reason.VELOCITY_COUNT: count_exceeded(v, limits),
        Reason.VELOCITY_SUM: sum_exceeded(v, limits),
        Reason.RECIPIENT_BLOCKED: blocked,
    }
    return tuple(r for r in RULE_ORDER if checks[r])


def score(payment: PaymentToCheck, v: Velocity, blocked: bool, limits: Limits) -> float:
    ratios = (
        payment.amount / limits.amount_limit,
        v.count / limits.max_count,
        v.total / limits.max_sum,
        1.0 if blocked else 0.0,
    )
    return min(1.0, max(0.0, *ratios))


def evaluate(payment: PaymentToCheck, v: Velocity, blocked: bool, limits: Limits) -> Verdict:
    reasons = tripped(payment, v, blocked, limits)
    return Verdict(
        decision=Decision.DENY if reasons else Decision.ALLOW,
        reasons=reasons,
        score=score(payment, v, blocked, limits),
    )


@dataclass(frozen=True, slots=True)
class CheckRecord:
    """A decision as stored: what was asked, what was decided, and on which figures."""

    payment: PaymentToCheck
    verdict: Verdict
    velocity: Velocity
    checked_at: datetime
