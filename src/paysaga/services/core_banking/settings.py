"""Core Banking settings: env prefix `CORE_BANKING_`."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from paysaga.platform.settings import InboxSettings


class CoreBankingSettings(InboxSettings):
    model_config = SettingsConfigDict(env_prefix="CORE_BANKING_", extra="ignore")

    port: int = Field(default=8009, description="HTTP port: trial balance, journal, accounts, reversals")
    consumer_group: str = Field(default="core-banking", description="Kafka consumer group")
    consumer_fetch_wait_ms: int = Field(
        default=200,
        ge=0,
        le=5000,
        description="How long the broker may hold a fetch to fill a batch (off the payment's critical path)",
    )
