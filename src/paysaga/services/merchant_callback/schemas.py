"""The Merchant Callback HTTP API's bodies (camelCase on the wire)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from paysaga.services.merchant_callback.domain import (
    ACCOUNT_NUMBER_PATTERN,
    MAX_SECRET_LENGTH,
    MAX_URL_LENGTH,
    MIN_SECRET_LENGTH,
    check_webhook_url,
)
from paysaga.services.merchant_callback.repository import AttemptRow, DeliveryRow, Subscription

# What `check_webhook_url` accepts: http(s), a host, a port 1-65535, a path and query of visible
# ASCII, no credentials, no fragment.
_PORT = r"(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})"
WEBHOOK_URL_PATTERN = r"^https?://[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::" + _PORT + r")?(?:[/?][!\x22$-~]*)?$"


class _Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class SubscriptionRequest(_Body):
    account_number: str = Field(
        pattern=ACCOUNT_NUMBER_PATTERN,
        description="The 20-digit account the merchant receives payouts on",
        examples=["40817810700000000001"],
    )
    url: str = Field(
        min_length=1,
        max_length=MAX_URL_LENGTH,
        pattern=WEBHOOK_URL_PATTERN,
        description="Absolute http(s) URL the webhooks are POSTed to",
        examples=["https://merchant.example/webhooks/paysaga"],
    )
    secret: str = Field(
        min_length=MIN_SECRET_LENGTH,
        max_length=MAX_SECRET_LENGTH,
        description="Shared secret of the `Paysaga-Signature` HMAC; never shown again",
        examples=["whsec_3f9a0c7e5b1d42a8"],
    )

    @field_validator("url")
    @classmethod
    def _absolute_http_url(cls, value: str) -> str:
        return check_webhook_url(value)

    @field_validator("secret")
    @classmethod
    def _secret_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the secret must not be blank")
        return value


class SubscriptionView(_Body):
    """A subscription; the secret is never returned."""

    subscription_id: str
    account_number: str
    url: str
    created_at: datetime

    @classmethod
    def of(cls, sub: Subscription) -> SubscriptionView:
        return cls(
            subscription_id=str(sub.subscription_id),
            account_number=sub.account_number,
            url=sub.url,
            created_at=sub.created_at,
        )


class AttemptView(_Body):
    attempted_at: datetime
    duration_ms: float
    status_code: int | None = Field(description="The merchant's HTTP status; null when no answer came")
    error: str | None = Field(description="Why the attempt failed; null for an acknowledged (2xx) attempt")
    succeeded: bool

    @classmethod
    def of(cls, attempt: AttemptRow) -> AttemptView:
        return cls(
            attempted_at=attempt.attempted_at,
            duration_ms=attempt.duration_ms,
            status_code=attempt.status_code,
            error=attempt.error,
            succeeded=attempt.succeeded,
        )


class DeliveryView(_Body):
    delivery_id: str = Field(description="Sent as `Paysaga-Delivery-Id`; the same on every retry")
    payment_id: str
    subscription_id: str
    url: str
    event_type: str
    status: Literal["PENDING", "DELIVERED", "DEAD"]
    payload: dict[str, Any] = Field(description="The webhook body as sent")
    attempt_count: int
    next_attempt_at: datetime | None
    give_up_at: datetime = Field(description="Retries stop here; the delivery is then dead-lettered")
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    dead_at: datetime | None
    attempts: list[AttemptView]

    @classmethod
    def of(cls, d: DeliveryRow, attempts: list[AttemptRow]) -> DeliveryView:
        return cls(
            delivery_id=str(d.delivery_id),
            payment_id=d.payment_id,
            subscription_id=str(d.subscription_id),
            url=d.url,
            event_type=d.event_type,
            status=d.status.value,
            payload=orjson.loads(d.body),
            attempt_count=d.attempts,
            next_attempt_at=d.next_attempt_at,
            give_up_at=d.give_up_at,
            last_attempt_at=d.last_attempt_at,
            last_status_code=d.last_status_code,
            last_error=d.last_error,
            created_at=d.created_at,
            delivered_at=d.delivered_at,
            dead_at=d.dead_at,
            attempts=[AttemptView.of(a) for a in attempts],
        )
