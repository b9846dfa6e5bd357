"""The simulator's state, in memory: payouts by paymentId and providerTxnId, rules, callback attempts.

Mutations that must see a consistent state (check, then create) run under `lock`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from paysaga.services.provider_sim.schemas import (
    CallbackAttemptView,
    FinalStatus,
    Outcome,
    PayoutRequest,
    PayoutStatus,
    Rule,
    SimPayout,
)


@dataclass
class Payout:
    provider_txn_id: str
    request: PayoutRequest
    fingerprint: dict[str, Any]
    outcome: Outcome
    delay_ms: int
    created_at: datetime
    status: PayoutStatus = "PROCESSING"
    settled_at: datetime | None = None

    @property
    def payment_id(self) -> str:
        return self.request.payment_id


@dataclass
class PaymentRecord:
    """Everything received for one paymentId, the idempotency key."""

    payment_id: str
    requests: int = 0
    errors_served: int = 0
    lost_answers: int = 0  # LOST_RESPONSE: answers still to be "lost" (500 after the payout was made)
    declined_fingerprint: dict[str, Any] | None = None
    payout: Payout | None = None

    def view(self) -> SimPayout:
        payout = self.payout
        return SimPayout(
            payment_id=self.payment_id,
            requests=self.requests,
            created=0 if payout is None else 1,
            provider_txn_id=payout.provider_txn_id if payout else None,
            status=payout.status if payout else None,
            outcome=payout.outcome if payout else None,
            declined=self.declined_fingerprint is not None,
            errors_served=self.errors_served,
        )


@dataclass(frozen=True, slots=True)
class CallbackAttempt:
    callback_id: str
    provider_txn_id: str
    payment_id: str
    callback_status: FinalStatus
    attempt: int
    at: datetime
    status_code: int | None
    error: str | None
    delivered: bool
    next_retry_seconds: float | None

    def view(self) -> CallbackAttemptView:
        return CallbackAttemptView(
            callback_id=self.callback_id,
            provider_txn_id=self.provider_txn_id,
            payment_id=self.payment_id,
            callback_status=self.callback_status,
            attempt=self.attempt,
            at=self.at,
            status_code=self.status_code,
            error=self.error,
            delivered=self.delivered,
            next_retry_seconds=self.next_retry_seconds,
        )


@dataclass
class SimStore:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    payments: dict[str, PaymentRecord] = field(default_factory=dict)
    payouts: dict[str, Payout] = field(default_factory=dict)
    rules: list[Rule] = field(default_factory=list)
    attempts: list[CallbackAttempt] = field(default_factory=list)

    def record_for(self, payment_id: str) -> PaymentRecord:
        record = self.payments.get(payment_id)
        if record is None:
            record = self.payments[payment_id] = PaymentRecord(payment_id)
        return record

    def add_payout(self, record: PaymentRecord, payout: Payout) -> None:
        record.payout = payout
        self.payouts[payout.provider_txn_id] = payout

    def add_attempt(self, attempt: CallbackAttempt) -> None:
        self.attempts.append(attempt)

    def payment_views(self, payment_id: str | None) -> list[SimPayout]:
        if payment_id is not None:
            record = self.payments.get(payment_id)
            return [record.view()] if record else []
        return [r.view() for r in self.payments.values()]

    def attempt_views(self, provider_txn_id: str | None) -> list[CallbackAttemptView]:
        return [a.view() for a in self.attempts if provider_txn_id is None or a.provider_txn_id == provider_txn_id]
