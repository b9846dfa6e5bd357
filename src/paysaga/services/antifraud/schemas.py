"""The Anti-Fraud ops API's bodies (camelCase on the wire)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class _Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True)


class RulesView(_Body):
    amount_limit: int = Field(description="Largest amount of one payment, minor units")
    velocity_window_seconds: int
    velocity_max_count: int = Field(description="Most payments of one user per window, the checked one included")
    velocity_max_sum: int = Field(description="Largest total per user, window and currency, minor units")
    rule_order: list[str] = Field(description="The reasons in evaluation order; the first that trips is given")


class BlockRequest(_Body):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=500, description="Why the account is blocked")


class BlockedAccountView(_Body):
    account_number: str
    reason: str | None
    source: str = Field(description="`api` or `seed` (ANTIFRAUD_BLOCKLIST_SEED)")
    blocked_at: datetime


class BlocklistView(_Body):
    items: list[BlockedAccountView]


class CheckView(_Body):
    payment_id: str
    user_id: str
    wallet_id: str
    amount: int
    currency: str
    recipient_account_number: str
    recipient_bank_bic: str
    decision: str = Field(description="ALLOW or DENY")
    reason: str = Field(description="The first rule that tripped; empty when allowed")
    reasons: list[str] = Field(description="Every rule that tripped, in rule order")
    score: float
    velocity_count: int
    velocity_sum: int
    window_end: datetime
    checked_at: datetime


class ChecksView(_Body):
    items: list[CheckView]
