"""The read model's HTTP bodies (the BFF passes them through to the public API)."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class _Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class PaymentView(_Body):
    payment_id: str
    status: Literal["PENDING", "COMPLETED", "FAILED"]
    amount: int | None
    currency: str | None
    recipient: dict[str, Any] | None
    provider_txn_id: str | None
    error_code: str | None
    created_at: datetime | None
    updated_at: datetime


class PaymentPage(_Body):
    items: list[PaymentView]
    next_cursor: str | None
