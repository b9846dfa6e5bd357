"""The wallet HTTP API's bodies."""

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class WalletView(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    wallet_id: str
    user_id: str
    currency: str
    balance: int
    reserved: int
    available: int
