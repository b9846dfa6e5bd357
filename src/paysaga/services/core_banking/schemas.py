"""The Core Banking HTTP API's bodies (camelCase on the wire). Amounts are integers in minor units."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

# Not blank: a character that Python's `str.strip()` keeps (the domain strips the reason), spelled
# out rather than `\s`, which means other things to other regex engines.
_SPACE = r"\t-\r\x1c-\x20\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NOT_BLANK = rf"^[{_SPACE}]*[^{_SPACE}]"


class _Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True)


AccountTypeName = Literal["ASSET", "LIABILITY", "EQUITY", "INCOME", "EXPENSE"]
SideName = Literal["DEBIT", "CREDIT"]


class AccountView(_Body):
    code: str
    name: str
    type: AccountTypeName
    normal_side: SideName = Field(description="The side that increases the account")
    description: str


class AccountsView(_Body):
    items: list[AccountView]


class LineView(_Body):
    account_code: str
    currency: str
    side: SideName
    amount: int = Field(description="Minor units, always positive; the side says which way it moves")


class EntryView(_Body):
    entry_id: int
    kind: Literal["TOP_UP", "PAYOUT", "REVERSAL"]
    payment_id: str | None
    top_up_id: str | None = Field(description="The wallet top-up a TOP_UP entry (or its reversal) journals")
    provider_txn_id: str | None
    description: str
    effective_at: datetime = Field(description="When the business event happened (e.g. the payment's completedAt)")
    posted_at: datetime = Field(description="When the entry was written")
    source_event_id: str | None = Field(description="ce_id of the event that caused the posting")
    reverses_entry_id: int | None
    reversed_by_entry_id: int | None
    lines: list[LineView]


class JournalView(_Body):
    items: list[EntryView]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` for the next (older) page; null on the last page"
    )


class ReversalRequest(_Body):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(
        min_length=1,
        max_length=500,
        pattern=NOT_BLANK,
        description="Why the entry is reversed (kept in the journal); not blank",
    )


class AccountTotalsView(_Body):
    code: str
    name: str
    type: AccountTypeName
    debits: int
    credits: int
    balance: int = Field(description="In the account's natural sign: debits - credits for assets, else the reverse")


class CurrencyTrialBalanceView(_Body):
    currency: str
    accounts: list[AccountTotalsView]
    total_debits: int
    total_credits: int
    balanced: bool = Field(description="total debits = total credits in this currency")


class TrialBalanceView(_Body):
    currencies: list[CurrencyTrialBalanceView]
    balanced: bool = Field(description="Every currency is balanced")


class CurrencyBalanceView(_Body):
    currency: str
    debits: int
    credits: int
    balance: int = Field(description="In the account's natural sign: debits - credits for assets, else the reverse")


class AccountBalancesView(_Body):
    code: str
    name: str
    type: AccountTypeName
    currencies: list[CurrencyBalanceView] = Field(description="One per currency the account has lines in")


class UnpostedCompletionView(_Body):
    payment_id: str
    provider_txn_id: str
    completed_at: datetime
    source_event_id: str
    received_at: datetime


class UnpostedCompletionsView(_Body):
    items: list[UnpostedCompletionView]
