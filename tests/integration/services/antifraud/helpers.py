"""Helpers of the Anti-Fraud integration tests: requests, events on Kafka, polling."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import grpc

from paysaga.contracts.cloudevents import EventMeta
from paysaga.contracts.events import Event, PaymentCompleted, PaymentFailed, PaymentInitiated, Recipient
from paysaga.contracts.identities import PAYMENT
from paysaga.contracts.protos import antifraud_pb2
from paysaga.services.antifraud.domain import Limits
from paysaga.services.antifraud.grpc_server import AntiFraudGrpcServer
from tests.support.identity import TEST_KEYS, grpc_identity
from tests.support.infra import Infra
from tests.support.kafka import produce_raw

# Anti-Fraud verifies the test keyring's tokens; the tests call Check as Payment.
ANTIFRAUD_VERIFIER = TEST_KEYS.verifier("antifraud")


def payment_channel(address: str, caller: str = PAYMENT) -> grpc.aio.Channel:
    """A channel to Anti-Fraud whose calls carry `caller`'s identity token (Payment's by default)."""
    return grpc.aio.insecure_channel(address, interceptors=[grpc_identity(TEST_KEYS.identity(caller), "antifraud")])


# Small limits, so that tests trip them with a few payments.
LIMITS = Limits(amount_limit=1_000_000, window=timedelta(hours=1), max_count=3, max_sum=2_500_000)
DEADLINE = 2.0  # seconds: every call in these tests carries a deadline, as callers must


async def wait_serving(server: AntiFraudGrpcServer, timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.02)):
        try:
            await server.check_serving()
            return
        except RuntimeError:
            await asyncio.sleep(0.02)
    raise TimeoutError("the gRPC server did not become SERVING")


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4()}"


def new_account() -> str:
    """A random 20-digit account number (tests share one database: never reuse one)."""
    return "40817" + "".join(random.choices("0123456789", k=15))


def check_request(
    *,
    user_id: str,
    amount: int = 100_000,
    payment_id: str | None = None,
    account: str = "40817810099910004312",
    created_at: datetime | None = None,
    wallet_id: str = "w-1",
) -> antifraud_pb2.CheckRequest:
    request = antifraud_pb2.CheckRequest(
        payment_id=payment_id or new_id("pay"),
        user_id=user_id,
        wallet_id=wallet_id,
        amount=amount,
        currency="RUB",
        recipient=antifraud_pb2.Recipient(account_number=account, bank_bic="044525225", name="Ivan Petrov"),
    )
    if created_at is not None:
        request.created_at.FromDatetime(created_at)
    return request


def initiated(user_id: str, amount: int, *, payment_id: str | None = None) -> PaymentInitiated:
    return PaymentInitiated(
        payment_id=payment_id or new_id("pay"),
        wallet_id="w-1",
        user_id=user_id,
        amount=amount,
        currency="RUB",
        recipient=Recipient(account_number="40817810099910004312", bank_bic="044525225", name="Ivan Petrov"),
        created_at=datetime.now(UTC),
    )


def completed(payment_id: str) -> PaymentCompleted:
    return PaymentCompleted(payment_id=payment_id, provider_txn_id=new_id("txn"), completed_at=datetime.now(UTC))


def failed(payment_id: str) -> PaymentFailed:
    return PaymentFailed(
        payment_id=payment_id, provider_txn_id=None, error_code="PROVIDER_DECLINED", completed_at=datetime.now(UTC)
    )


def publish(infra: Infra, event: Event, *, event_id: str | None = None) -> str:
    """Produce the event as the platform does: JSON payload, CloudEvents headers, keyed by paymentId."""
    event_id = event_id or str(uuid.uuid4())
    meta = EventMeta(id=event_id, type=event.type_name(), source="/test/wallet", time=datetime.now(UTC))
    produce_raw(infra.bootstrap, event.topic, key=event.key, value=event.to_json(), headers=meta.to_headers())
    return event_id


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 30) -> bool:
    for _ in range(int(timeout / 0.1)):
        if await check():
            return True
        await asyncio.sleep(0.1)
    return False
