"""Helpers of the Core Banking integration tests: real events on Kafka, ledger reads, polling."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, cast

import httpx
from confluent_kafka import Producer

from paysaga.contracts.cloudevents import EventMeta
from paysaga.contracts.events import (
    Event,
    PaymentCompleted,
    PaymentFailed,
    PaymentInitiated,
    Recipient,
    WalletToppedUp,
)
from paysaga.platform.consumer import Delivery, Handler
from paysaga.platform.db import Database
from paysaga.platform.unit_of_work import UnitOfWork
from tests.support.infra import Infra
from tests.support.kafka import produce_raw, publisher_meta


def new_payment_id() -> str:
    return str(uuid.uuid4())


def initiated(payment_id: str, amount: int, currency: str = "RUB") -> PaymentInitiated:
    return PaymentInitiated(
        payment_id=payment_id,
        wallet_id=str(uuid.uuid4()),
        user_id=str(uuid.uuid4()),
        amount=amount,
        currency=currency,
        recipient=Recipient(account_number="40817810099910004312", bank_bic="044525225", name="Ivan Petrov"),
        created_at=datetime.now(UTC),
    )


def completed(payment_id: str, provider_txn_id: str | None = None) -> PaymentCompleted:
    return PaymentCompleted(
        payment_id=payment_id,
        provider_txn_id=provider_txn_id or f"txn-{uuid.uuid4()}",
        completed_at=datetime.now(UTC),
    )


def failed(payment_id: str) -> PaymentFailed:
    return PaymentFailed(
        payment_id=payment_id, provider_txn_id=None, error_code="PROVIDER_DECLINED", completed_at=datetime.now(UTC)
    )


def topped_up(amount: int, currency: str = "RUB", top_up_id: str | None = None) -> WalletToppedUp:
    return WalletToppedUp(
        top_up_id=top_up_id or str(uuid.uuid4()),
        wallet_id=str(uuid.uuid4()),
        user_id=str(uuid.uuid4()),
        amount=amount,
        currency=currency,
        balance_after=amount,
        created_at=datetime.now(UTC),
    )


def publish(infra: Infra, event: Event, *, event_id: str | None = None, key: str | None = None) -> str:
    """Produce the event as the platform does: JSON payload, CloudEvents headers, keyed by its key."""
    event_id = event_id or str(uuid.uuid4())
    meta = publisher_meta(event, event_id)
    produce_raw(
        infra.kafka, event.topic, key=key or event.key, value=event.to_json(), headers=cast(Any, meta.to_headers())
    )
    return event_id


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 30) -> bool:
    for _ in range(int(timeout / 0.1)):
        if await check():
            return True
        await asyncio.sleep(0.1)
    return False


async def in_inbox(db: Database, event_id: str) -> bool:
    """Applied (or skipped as a duplicate of an applied event): the inbox row commits with the handler."""
    async with db.connection() as conn:
        return bool(await conn.fetchval("SELECT true FROM inbox WHERE event_id = $1", event_id))


async def journal(http: httpx.AsyncClient, payment_id: str) -> list[dict]:
    response = await http.get("/v1/journal", params={"paymentId": payment_id})
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def top_up_journal(http: httpx.AsyncClient, top_up_id: str) -> list[dict]:
    response = await http.get("/v1/journal", params={"topUpId": top_up_id})
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def trial_balance(http: httpx.AsyncClient) -> dict:
    response = await http.get("/v1/trial-balance")
    assert response.status_code == 200, response.text
    return response.json()


def account_totals(tb: dict, currency: str, code: str) -> tuple[int, int]:
    """(debits, credits) of one account in one currency; (0, 0) when it has no lines."""
    for c in tb["currencies"]:
        if c["currency"] == currency:
            for a in c["accounts"]:
                if a["code"] == code:
                    return a["debits"], a["credits"]
    return 0, 0


def publish_many(infra: Infra, records: list[tuple[Event, str, str | None]]) -> None:
    """Produce (event, event id, key or None for the event's own key) in this order, with one producer."""
    producer = Producer(infra.kafka.client_config(**{"enable.idempotence": True, "acks": "all"}))
    for event, event_id, key in records:
        meta = publisher_meta(event, event_id)
        producer.produce(event.topic, key=key or event.key, value=event.to_json(), headers=cast(Any, meta.to_headers()))
    assert producer.flush(30) == 0


async def apply(db: Database, handler: Handler, event: Event, *, event_id: str | None = None) -> None:
    """Run a handler as the consumer does (in one transaction), without Kafka."""
    meta = EventMeta(
        id=event_id or str(uuid.uuid4()), type=event.type_name(), source="/test/direct", time=datetime.now(UTC)
    )
    async with UnitOfWork(db, source="/test") as uow:
        await handler(event, uow, Delivery(meta, event.topic, 0, 0, event.key))
        await uow.commit()
