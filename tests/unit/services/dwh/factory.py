"""Hand-made saga events (the contract's models and CloudEvents headers), for the DWH's tests."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from paysaga.contracts.bus import EXPECTED_SOURCES
from paysaga.contracts.cloudevents import EventMeta
from paysaga.contracts.events import (
    CustomerCreated,
    Event,
    PaymentCompleted,
    PaymentFailed,
    PaymentInitiated,
    ProviderCallbackReceived,
    Recipient,
    WalletToppedUp,
)
from paysaga.services.dwh.store import RawRecord

Outcome = Literal["COMPLETED", "DECLINED", "FRAUD", "PENDING"]


@dataclass(frozen=True)
class Produced:
    """One record to put on a topic."""

    topic: str
    key: str
    value: bytes
    headers: list[tuple[str, bytes]]
    ce_id: str
    ce_type: str


def record(event: Event, at: datetime, *, ce_id: str | None = None) -> Produced:
    ce_id = ce_id or str(uuid.uuid4())
    meta = EventMeta(id=ce_id, type=event.type_name(), source=EXPECTED_SOURCES[event.type_name()], time=at)
    return Produced(event.topic, event.key, event.to_json(), meta.to_headers(), ce_id, event.type_name())


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4()}"


@dataclass(frozen=True)
class Saga:
    """A payment's events, and what the DWH should make of them."""

    payment_id: str
    txn_id: str | None
    outcome: Outcome
    amount: int
    currency: str
    start: datetime
    callback_after_ms: int
    final_after_ms: int
    events: list[Produced]

    @property
    def status(self) -> str:
        return {"COMPLETED": "COMPLETED", "DECLINED": "FAILED", "FRAUD": "FAILED", "PENDING": "PENDING"}[self.outcome]

    @property
    def error_code(self) -> str | None:
        return {"DECLINED": "PROVIDER_DECLINED", "FRAUD": "FRAUD_SUSPECTED"}.get(self.outcome)


def saga(
    outcome: Outcome,
    start: datetime,
    *,
    amount: int = 10_000,
    currency: str = "RUB",
    callback_after_ms: int = 1500,
    final_after_ms: int = 1700,
    prefix: str = "dwh",
) -> Saga:
    """Initiated, then (unless FRAUD or PENDING) a provider callback, then the final event."""
    payment_id = new_id(f"{prefix}-pay")
    txn_id = new_id(f"{prefix}-txn") if outcome in ("COMPLETED", "DECLINED") else None
    events = [
        record(
            PaymentInitiated(
                payment_id=payment_id,
                wallet_id=new_id("wallet"),
                user_id=new_id("user"),
                amount=amount,
                currency=currency,
                recipient=Recipient(account_number="40817810099910004312", bank_bic="044525225", name="Ivan Petrov"),
                created_at=start,
            ),
            start,
        )
    ]
    callback_at = start + timedelta(milliseconds=callback_after_ms)
    final_at = start + timedelta(milliseconds=final_after_ms)
    if txn_id is not None:
        status: Literal["SUCCESS", "FAILED"] = "SUCCESS" if outcome == "COMPLETED" else "FAILED"
        events.append(
            record(
                ProviderCallbackReceived(provider_txn_id=txn_id, status=status, received_at=callback_at), callback_at
            )
        )
    if outcome == "COMPLETED":
        assert txn_id is not None
        events.append(
            record(PaymentCompleted(payment_id=payment_id, provider_txn_id=txn_id, completed_at=final_at), final_at)
        )
    elif outcome in ("DECLINED", "FRAUD"):
        code = "PROVIDER_DECLINED" if outcome == "DECLINED" else "FRAUD_SUSPECTED"
        events.append(
            record(
                PaymentFailed(payment_id=payment_id, provider_txn_id=txn_id, error_code=code, completed_at=final_at),
                final_at,
            )
        )
    return Saga(payment_id, txn_id, outcome, amount, currency, start, callback_after_ms, final_after_ms, events)


def customer(at: datetime, currency: str = "RUB") -> Produced:
    return record(CustomerCreated(user_id=new_id("user"), currency=currency, created_at=at), at)


def top_up(at: datetime, amount: int = 50_000, currency: str = "RUB") -> Produced:
    return record(
        WalletToppedUp(
            top_up_id=new_id("top-up"),
            wallet_id=new_id("wallet"),
            user_id=new_id("user"),
            amount=amount,
            currency=currency,
            balance_after=amount,
            created_at=at,
        ),
        at,
    )


class FakeLog:
    """Offsets as a broker would give them: per topic and partition (partition by key hash)."""

    def __init__(self, partitions: int = 3) -> None:
        self.partitions = partitions
        self.next: dict[tuple[str, int], int] = defaultdict(int)

    def append(self, produced: Produced) -> RawRecord:
        partition = sum(produced.key.encode()) % self.partitions
        offset = self.next[(produced.topic, partition)]
        self.next[(produced.topic, partition)] += 1
        return RawRecord(
            topic=produced.topic,
            partition=partition,
            offset=offset,
            key=produced.key.encode(),
            value=produced.value,
            headers=produced.headers,
            timestamp_ms=1_700_000_000_000 + offset,
        )

    def append_all(self, produced: list[Produced]) -> list[RawRecord]:
        return [self.append(p) for p in produced]
