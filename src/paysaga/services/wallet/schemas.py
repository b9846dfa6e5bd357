"""The wallet HTTP API's bodies."""

from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from paysaga.contracts.banking import BankRecipient, check_account_currency
from paysaga.contracts.values import UUID_PATTERN, Currency, JsonInteger
from paysaga.services.wallet.domain import MAX_AMOUNT


class _Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class WalletView(_Body):
    wallet_id: str
    user_id: str
    currency: str
    balance: int
    reserved: int
    available: int


class TopUpRequest(_Body):
    top_up_id: str = Field(pattern=UUID_PATTERN)
    amount: Annotated[int, JsonInteger] = Field(strict=True, gt=0, le=MAX_AMOUNT)


class TopUpView(_Body):
    top_up_id: str
    balance: int
    available: int


class ReservationRequest(_Body):
    payment_id: str = Field(pattern=UUID_PATTERN)
    amount: Annotated[int, JsonInteger] = Field(strict=True, gt=0, le=MAX_AMOUNT)
    currency: Currency
    recipient: BankRecipient

    @model_validator(mode="after")
    def _account_in_the_payment_currency(self) -> Self:
        check_account_currency(self.recipient.account_number, self.currency)
        return self


class ReservationView(_Body):
    payment_id: str
    wallet_id: str
    status: Literal["RESERVED", "COMMITTED", "RELEASED"]
    amount: int
    currency: str
    created_at: datetime


class LedgerEntry(_Body):
    entry_id: int
    kind: str
    amount: int
    balance_after: int
    reserved_after: int
    reference: str
    created_at: datetime


class CurrencyTotalsView(_Body):
    currency: str
    wallets: int = Field(description="Wallets in this currency")
    balance: int = Field(description="Sum of the wallets' balances, reserved money included (minor units)")
    reserved: int = Field(description="Sum of the amounts reserved for payments not yet final")
    available: int = Field(description="balance - reserved")


class BalancesView(_Body):
    currencies: list[CurrencyTotalsView]
    as_of: datetime = Field(description="When the snapshot was taken")


class SettlementView(_Body):
    payment_id: str
    wallet_id: str
    status: Literal["COMMITTED", "RELEASED"] = Field(
        description="COMMITTED: paid out (PaymentCompleted); RELEASED: available again (PaymentFailed)"
    )
    amount: int
    currency: str
    settled_at: datetime


class SettlementPage(_Body):
    items: list[SettlementView]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page")


class HeldReservationView(_Body):
    payment_id: str
    wallet_id: str
    amount: int
    currency: str
    created_at: datetime = Field(description="When the money was reserved (PaymentInitiated's createdAt)")


class HeldReservations(_Body):
    """Money still reserved long after it was: a payment that did not finish, or whose end Wallet missed."""

    total: int = Field(description="How many reservations older than the threshold are held")
    items: list[HeldReservationView] = Field(description="The oldest first, at most `limit`")
