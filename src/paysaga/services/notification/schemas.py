"""The Notification HTTP API's bodies (camelCase on the wire)."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from paysaga.contracts.values import JsonInteger


class _Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class NotificationView(_Body):
    notification_id: int
    payment_id: str
    user_id: str
    channel: str = Field(description="SMS or PUSH")
    event_type: str = Field(description="The event notified about: PaymentCompleted or PaymentFailed")
    language: str
    title: str = Field(description="Shown by push; an SMS carries only the message")
    message: str
    status: str = Field(description="PENDING (being delivered or waiting for a retry), SENT or FAILED")
    attempts: int = Field(description="Delivery attempts made (or under way)")
    last_error: str | None
    next_attempt_at: datetime | None
    gateway_message_id: str | None
    created_at: datetime
    sent_at: datetime | None


class NotificationList(_Body):
    payment_id: str
    items: list[NotificationView]


class BehaviourBody(_Body):
    delay_ms: Annotated[int, JsonInteger] = Field(
        default=0, ge=0, le=600_000, strict=True, description="Latency of every send"
    )
    fail_times: Annotated[int, JsonInteger] = Field(default=0, ge=0, strict=True, description="The next N sends fail")
    fail_rate: float = Field(default=0.0, ge=0, le=1, description="Then each send fails with this probability")


class SentMessageView(_Body):
    message_id: str
    channel: str
    user_id: str
    reference: str = Field(description="The sender's idempotency key: <paymentId>:<channel>")
    title: str | None
    text: str
    sent_at: datetime


class GatewayView(_Body):
    channel: str
    behaviour: BehaviourBody
    calls: int = Field(description="Sends attempted against this gateway")
    failures: int = Field(description="Sends it refused")
    sent: int = Field(description="Messages it holds")
