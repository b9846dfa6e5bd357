from pydantic_settings import SettingsConfigDict

from paysaga.platform.settings import OutboxSettings


class CustomerSettings(OutboxSettings):
    model_config = SettingsConfigDict(env_prefix="CUSTOMER_", extra="ignore")

    port: int = 8001
