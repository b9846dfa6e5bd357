"""Notification settings: env prefix `NOTIFICATION_`."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from paysaga.platform.settings import BatchingConsumerSettings
from paysaga.services.notification.domain import Channel, Language


class NotificationSettings(BatchingConsumerSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFICATION_", extra="ignore")

    port: int = Field(default=8007, description="HTTP port: health, notifications, simulated gateways")
    consumer_group: str = Field(default="notification", description="Kafka consumer group")
    default_language: Language = Field(default=Language.RU, description="Language of the messages: `ru` or `en`")
    max_attempts: int = Field(default=6, gt=0, description="Delivery attempts of a notification before FAILED")
    retry_initial_seconds: float = Field(default=1.0, gt=0, description="Delay after the first failed attempt")
    retry_max_seconds: float = Field(default=300.0, gt=0, description="Cap of the delay between attempts")
    sms_timeout_seconds: float = Field(default=5.0, gt=0, description="Time an SMS gateway call may take")
    push_timeout_seconds: float = Field(default=5.0, gt=0, description="Time a push gateway call may take")
    channel_concurrency: int = Field(
        default=16, gt=0, description="Deliveries in flight per channel (a slow channel holds only its own)"
    )
    lease_seconds: float = Field(
        default=30.0, gt=0, description="A dispatcher owns a claimed notification this long (> gateway timeouts)"
    )
    worker_poll_seconds: float = Field(default=0.5, gt=0, description="How often the dispatcher looks for due work")
    sms_delay_ms: int = Field(default=0, ge=0, description="Simulated SMS gateway: latency of every send")
    sms_fail_rate: float = Field(default=0.0, ge=0, le=1, description="Simulated SMS gateway: share of failed sends")
    push_delay_ms: int = Field(default=0, ge=0, description="Simulated push gateway: latency of every send")
    push_fail_rate: float = Field(default=0.0, ge=0, le=1, description="Simulated push gateway: share of failed sends")

    @model_validator(mode="after")
    def _lease_outlasts_a_send(self) -> Self:
        longest = max(self.sms_timeout_seconds, self.push_timeout_seconds)
        if self.lease_seconds <= longest:
            raise ValueError(f"lease_seconds ({self.lease_seconds}) must exceed the gateway timeouts ({longest})")
        return self

    def timeouts(self) -> dict[Channel, float]:
        return {Channel.SMS: self.sms_timeout_seconds, Channel.PUSH: self.push_timeout_seconds}
