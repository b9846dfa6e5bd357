from pydantic_settings import SettingsConfigDict

from paysaga.platform.settings import ServiceSettings


class WalletSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WALLET_", extra="ignore")

    port: int = 8002
    consumer_group: str = "wallet"
