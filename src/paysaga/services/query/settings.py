from pydantic_settings import SettingsConfigDict

from paysaga.platform.settings import ServiceSettings


class QuerySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="QUERY_", extra="ignore")

    port: int = 8005
    consumer_group: str = "query"
