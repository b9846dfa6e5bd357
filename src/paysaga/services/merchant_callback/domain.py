"""Merchant webhooks as pure rules: what is sent, how it is signed and when it is retried.

A delivery is one payment's final outcome sent to one subscription. Its body is fixed at creation, so every
retry sends the same bytes under the same delivery id (only the signature's timestamp changes); retries back
off with jitter so that many failed webhooks to one merchant do not come back in lockstep.

    PENDING ──2xx──▶ DELIVERED
       │
       ├─non-2xx / network error, before the horizon──▶ PENDING (next attempt after a backoff)
       └─non-2xx / network error, at the horizon──────▶ DEAD ──redeliver──▶ PENDING (a new horizon)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import orjson

from paysaga.contracts.signatures import SIGNATURE_HEADER
from paysaga.platform.backoff import backoff_delay

ACCOUNT_NUMBER_PATTERN = r"^[0-9]{20}$"
MIN_SECRET_LENGTH = 16
MAX_SECRET_LENGTH = 256
MAX_URL_LENGTH = 2048

DELIVERY_ID_HEADER = "Paysaga-Delivery-Id"
EVENT_TYPE_HEADER = "Paysaga-Event-Type"
USER_AGENT = "PaySaga-Webhooks/1.0"


class Outcome(StrEnum):
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"

    @property
    def event_type(self) -> str:
        return f"payment.{self.value.lower()}"


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    DEAD = "DEAD"


# --- subscriptions -------------------------------------------------------------------------------


def valid_account_number(account: str) -> bool:
    return re.fullmatch(ACCOUNT_NUMBER_PATTERN, account) is not None


def check_webhook_url(url: str) -> str:
    """The URL if it is an absolute http(s) URL with a host; ValueError otherwise."""
    if len(url) > MAX_URL_LENGTH:
        raise ValueError(f"the URL is longer than {MAX_URL_LENGTH} characters")
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        raise ValueError("the URL contains whitespace or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a malformed port
    except ValueError as exc:
        raise ValueError(f"not a valid URL: {exc}") from exc
    if parts.scheme not in ("http", "https"):
        raise ValueError("the URL must be absolute, with scheme http or https")
    if not parts.hostname:
        raise ValueError("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("the URL must not carry credentials")
    if parts.fragment:
        raise ValueError("the URL must not have a fragment")
    if port == 0:
        raise ValueError("the URL has port 0")
    return url


# --- the webhook ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FinalPayment:
    """What a webhook reports: a payment's final outcome, with what its PaymentInitiated told."""

    payment_id: str
    outcome: Outcome
    amount: int
    currency: str
    provider_txn_id: str | None
    error_code: str | None
    occurred_at: datetime


def _timestamp(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("occurred_at must be timezone-aware")
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def webhook_payload(payment: FinalPayment) -> dict[str, Any]:
    """The webhook's JSON object (camelCase, a wire contract with the merchants)."""
    return {
        "eventType": payment.outcome.event_type,
        "paymentId": payment.payment_id,
        "status": payment.outcome.value,
        "amount": payment.amount,
        "currency": payment.currency,
        "providerTxnId": payment.provider_txn_id,
        "errorCode": payment.error_code if payment.outcome is Outcome.FAILED else None,
        "occurredAt": _timestamp(payment.occurred_at),
    }


def webhook_body(payment: FinalPayment) -> bytes:
    """The exact bytes that are signed and sent (the same bytes on every attempt)."""
    return orjson.dumps(webhook_payload(payment))


def webhook_headers(*, delivery_id: str, event_type: str, signature: str) -> dict[str, str]:
    """Headers of one attempt; `signature` is `paysaga.contracts.signatures.signature_header(...)`."""
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: signature,
        DELIVERY_ID_HEADER: delivery_id,
        EVENT_TYPE_HEADER: event_type,
    }


def is_success(status_code: int) -> bool:
    """Only a 2xx acknowledges a webhook (redirects are not followed: a 3xx is a failure)."""
    return 200 <= status_code < 300


# --- the retry schedule --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    initial_seconds: float
    max_seconds: float
    horizon_seconds: float

    def __post_init__(self) -> None:
        if self.initial_seconds <= 0 or self.horizon_seconds <= 0:
            raise ValueError("initial_seconds and horizon_seconds must be positive")
        if self.max_seconds < self.initial_seconds:
            raise ValueError("max_seconds must be at least initial_seconds")

    def delay(self, attempt: int, jitter: float) -> float:
        """Seconds to wait after the `attempt`-th failed attempt (1-based); `jitter` in [0, 1]
        picks a point in [delay/2, delay] (pass `random.random()`)."""
        if attempt < 1:
            raise ValueError("attempt is 1-based")
        return backoff_delay(attempt, initial=self.initial_seconds, maximum=self.max_seconds, jitter=jitter)

    def give_up_at(self, scheduled_at: datetime) -> datetime:
        """When a delivery scheduled at `scheduled_at` is dead-lettered if not delivered."""
        return scheduled_at + timedelta(seconds=self.horizon_seconds)


def next_attempt_at(
    *, failed_attempt: int, now: datetime, give_up_at: datetime, policy: RetryPolicy, jitter: float
) -> datetime | None:
    """When to try again after the `failed_attempt`-th failure; None: the horizon is reached, dead."""
    if now >= give_up_at:
        return None
    return min(now + timedelta(seconds=policy.delay(failed_attempt, jitter)), give_up_at)


def planned_offsets(policy: RetryPolicy, jitter: float = 1.0, *, max_attempts: int = 100_000) -> list[float]:
    """Seconds after scheduling at which attempts happen if every one fails instantly (docs, tests)."""
    start = datetime(2000, 1, 1, tzinfo=UTC)
    give_up = policy.give_up_at(start)
    offsets, at, attempt = [0.0], start, 1
    while (
        following := next_attempt_at(failed_attempt=attempt, now=at, give_up_at=give_up, policy=policy, jitter=jitter)
    ) is not None:
        if attempt >= max_attempts:
            raise ValueError(f"the schedule does not end within {max_attempts} attempts")
        at, attempt = following, attempt + 1
        offsets.append((at - start).total_seconds())
    return offsets


# --- refusals of the HTTP API --------------------------------------------------------------------


class MerchantCallbackError(Exception):
    """A request the service refuses."""


class SubscriptionExists(MerchantCallbackError):
    def __init__(self, account_number: str, url: str) -> None:
        super().__init__(f"account {account_number} already has an active subscription for {url}")


class DeliveryNotFound(MerchantCallbackError):
    def __init__(self, delivery_id: str) -> None:
        super().__init__(f"no delivery {delivery_id}")


class DeliveryNotDead(MerchantCallbackError):
    def __init__(self, delivery_id: str, status: DeliveryStatus) -> None:
        super().__init__(f"delivery {delivery_id} is {status.value}; only a DEAD delivery can be redelivered")
        self.status = status


class SubscriptionDeleted(MerchantCallbackError):
    def __init__(self, subscription_id: str) -> None:
        super().__init__(f"subscription {subscription_id} was deleted; its deliveries cannot be redelivered")
