from pydantic import Field
from pydantic_settings import SettingsConfigDict

from paysaga.platform.settings import InboxSettings


class QuerySettings(InboxSettings):
    model_config = SettingsConfigDict(env_prefix="QUERY_", extra="ignore")

    port: int = 8005
    consumer_group: str = Field(default="query", description="Kafka consumer group")
