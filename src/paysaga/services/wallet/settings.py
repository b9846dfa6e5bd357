from pydantic import Field
from pydantic_settings import SettingsConfigDict

from paysaga.platform.settings import InboxSettings, OutboxSettings


class WalletSettings(OutboxSettings, InboxSettings):
    model_config = SettingsConfigDict(env_prefix="WALLET_", extra="ignore")

    port: int = 8002
    consumer_group: str = Field(default="wallet", description="Kafka consumer group")
