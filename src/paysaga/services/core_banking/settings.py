"""Core Banking settings: env prefix `CORE_BANKING_`."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from paysaga.platform.settings import BatchingConsumerSettings


class CoreBankingSettings(BatchingConsumerSettings):
    model_config = SettingsConfigDict(env_prefix="CORE_BANKING_", extra="ignore")

    port: int = Field(default=8009, description="HTTP port: trial balance, journal, accounts, reversals")
    consumer_group: str = Field(default="core-banking", description="Kafka consumer group")
