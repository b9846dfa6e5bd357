"""The provider's callback body, as the provider documents it."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class ProviderCallback(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    callback_id: str = Field(min_length=1, max_length=200, description="Stable across the provider's retries")
    provider_txn_id: str = Field(min_length=1, max_length=200)
    status: Literal["SUCCESS", "FAILED"]
    payment_id: str | None = None
    occurred_at: datetime | None = None


class Acknowledged(BaseModel):
    received: bool = True
