"""Anti-Fraud settings: env prefix `ANTIFRAUD_`. Amounts are minor units (kopecks for RUB)."""

from __future__ import annotations

import re
from datetime import timedelta

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from paysaga.platform.settings import BatchingConsumerSettings
from paysaga.services.antifraud.domain import ACCOUNT_NUMBER_PATTERN, Limits


class AntiFraudSettings(BatchingConsumerSettings):
    """The consumer keeps velocity data current off the payment's path: Payment's Check records the
    payment itself, so the events only confirm it and bring outcomes (a failed payment leaves the sum a
    batch later, which can only deny, never allow, more)."""

    model_config = SettingsConfigDict(env_prefix="ANTIFRAUD_", extra="ignore")

    port: int = Field(default=8006, description="HTTP port: health and the ops API")
    grpc_host: str = Field(default="127.0.0.1", description="Address the gRPC server binds")
    grpc_port: int = Field(default=50051, description="gRPC port of the AntiFraud service")
    consumer_group: str = Field(default="anti-fraud", description="Kafka consumer group")
    amount_limit: int = Field(
        default=100_000_000, gt=0, description="Largest amount of one payment, minor units (1,000,000.00 RUB)"
    )
    velocity_window_seconds: int = Field(default=3600, gt=0, description="Length of the velocity window")
    velocity_max_count: int = Field(
        default=100, gt=0, description="Most payments of one user in a window, the checked one included"
    )
    velocity_max_sum: int = Field(
        default=500_000_000,
        gt=0,
        description="Largest total of one user's payments in a window and currency, minor units",
    )
    blocklist_seed: str = Field(
        default="", description="Comma-separated recipient accounts put on the blocklist at start-up"
    )
    check_timeout_seconds: float = Field(
        default=2.0, gt=0, description="Server-side time budget of one Check (the caller's deadline wins)"
    )
    health_probe_seconds: float = Field(
        default=1.0, gt=0, description="How often the gRPC health status re-checks the database"
    )

    @field_validator("blocklist_seed")
    @classmethod
    def _accounts(cls, value: str) -> str:
        for account in _split(value):
            if not re.fullmatch(ACCOUNT_NUMBER_PATTERN, account):
                raise ValueError(f"blocklist seed {account!r} is not a 20-digit account number")
        return value

    @property
    def blocklist_seed_accounts(self) -> list[str]:
        return _split(self.blocklist_seed)

    def limits(self) -> Limits:
        return Limits(
            amount_limit=self.amount_limit,
            window=timedelta(seconds=self.velocity_window_seconds),
            max_count=self.velocity_max_count,
            max_sum=self.velocity_max_sum,
        )


def _split(value: str) -> list[str]:
    return sorted({part.strip() for part in value.split(",") if part.strip()})
