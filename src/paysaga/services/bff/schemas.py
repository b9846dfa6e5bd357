"""The public REST contract's bodies (SPEC §7), camelCase on the wire."""

from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator
from pydantic.alias_generators import to_camel

from paysaga.contracts.banking import BankRecipient, check_account_currency
from paysaga.contracts.values import (
    Currency,
    JsonInteger,
    NewPassword,
    PersonName,
    PhoneE164,
)


class _Body(BaseModel):
    # python-re: the password pattern looks ahead (pydantic's default engine cannot).
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", regex_engine="python-re")


class RegisterRequest(_Body):
    email: EmailStr = Field(max_length=254, examples=["ann@example.org"])
    password: NewPassword
    name: PersonName
    phone: PhoneE164 = Field(examples=["+79161234567"])
    currency: Currency = "RUB"


class RegisterResponse(_Body):
    user_id: str


class LoginRequest(_Body):
    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=128)


class LoginResponse(_Body):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int = Field(description="Seconds until the token expires")


class WalletResponse(_Body):
    wallet_id: str
    currency: str
    balance: int
    reserved: int
    available: int


MAX_AMOUNT = 100_000_000_000  # minor units: 1,000,000,000.00 of the currency per operation


class TopUpRequest(_Body):
    amount: Annotated[int, JsonInteger] = Field(
        strict=True, gt=0, le=MAX_AMOUNT, description="Minor units", examples=[100_000]
    )


class TopUpResponse(_Body):
    top_up_id: str
    balance: int
    available: int


class PaymentRequest(_Body):
    amount: Annotated[int, JsonInteger] = Field(
        strict=True, gt=0, le=MAX_AMOUNT, description="Minor units (kopecks for RUB)", examples=[150_000]
    )
    currency: Currency = Field(description="ISO 4217; must be the wallet's currency")
    recipient: BankRecipient

    @model_validator(mode="after")
    def _account_in_the_payment_currency(self) -> Self:
        check_account_currency(self.recipient.account_number, self.currency)
        return self


class PaymentAccepted(_Body):
    payment_id: str
    status: Literal["PENDING"] = "PENDING"


class PaymentResponse(_Body):
    payment_id: str
    status: Literal["PENDING", "COMPLETED", "FAILED"]
    amount: int | None
    currency: str | None
    recipient: dict[str, Any] | None
    provider_txn_id: str | None
    error_code: str | None
    created_at: datetime | None
    updated_at: datetime | None


class PaymentList(_Body):
    items: list[PaymentResponse]
    next_cursor: str | None


class IntrospectionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=4096, description="A bearer token presented to another service")


class Introspection(BaseModel):
    """RFC 7662's answer (its field names): only `active` for a token that is not a valid customer token."""

    active: bool
    sub: str | None = Field(default=None, description="The customer's user id")
    token_type: str | None = Field(default=None, description="`customer`")
