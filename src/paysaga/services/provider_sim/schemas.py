"""The simulator's HTTP bodies (SPEC §8), camelCase on the wire."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from paysaga.contracts.values import Currency, MinorUnits

PayoutStatus = Literal["PROCESSING", "SUCCESS", "FAILED"]
FinalStatus = Literal["SUCCESS", "FAILED"]


class Outcome(StrEnum):
    """What the simulated bank does with a payout that a rule matches."""

    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    DECLINE = "DECLINE"
    ERROR_500 = "ERROR_500"
    NO_CALLBACK = "NO_CALLBACK"
    DUPLICATE_CALLBACK = "DUPLICATE_CALLBACK"
    LATE_SUCCESS = "LATE_SUCCESS"
    LATE_SUCCESS_NO_CALLBACK = "LATE_SUCCESS_NO_CALLBACK"  # settles SUCCESS after the delay; its callback is lost
    CALLBACK_BEFORE_RESPONSE = "CALLBACK_BEFORE_RESPONSE"  # callback delivered, then the POST answered
    LOST_RESPONSE = "LOST_RESPONSE"  # the payout is made (SUCCESS) but the first failTimes answers are 500


class _Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class Recipient(_Body):
    account_number: str = Field(min_length=1, max_length=64, examples=["40817810099910004312"])
    bank_bic: str = Field(min_length=1, max_length=34, examples=["044525225"])
    name: str = Field(min_length=1, max_length=200, examples=["Анна Иванова"])


class PayoutRequest(_Body):
    payment_id: str = Field(
        min_length=1, max_length=128, description="The caller's payment id; also the idempotency key"
    )
    amount: MinorUnits
    currency: Currency
    recipient: Recipient
    callback_url: AnyHttpUrl = Field(description="Where the signed status callback is POSTed")


class PayoutAccepted(_Body):
    provider_txn_id: str = Field(examples=["ptx_6f1c0e9a2b7d4c3e8a5f1b2c3d4e5f60"])
    status: Literal["PROCESSING"] = "PROCESSING"


class PayoutView(_Body):
    provider_txn_id: str
    payment_id: str
    status: PayoutStatus


class CallbackPayload(_Body):
    """The body POSTed to `callbackUrl`; `callbackId` is the same on every retry of one callback."""

    callback_id: str
    provider_txn_id: str
    payment_id: str
    status: FinalStatus
    amount: int
    currency: str
    occurred_at: datetime


class Rule(_Body):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    account_number: str = Field(
        min_length=1, max_length=64, description='The recipient account it applies to, or "*" for any'
    )
    outcome: Outcome
    delay_ms: int | None = Field(
        default=None,
        ge=0,
        le=3_600_000,
        description="Delay before the final status and callback (default: the simulator's default delay)",
    )
    fail_times: int = Field(
        default=1, ge=1, le=1000, description="ERROR_500 and LOST_RESPONSE: how many calls per paymentId answer 500"
    )


class RuleSet(_Body):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    rules: list[Rule] = Field(
        default_factory=list,
        max_length=1000,
        description='First match wins: an exact accountNumber first, then "*"; no match → SUCCESS',
    )


class SimPayout(_Body):
    """What the simulator saw for one paymentId."""

    payment_id: str
    requests: int = Field(description="POST /v1/payouts calls received for this paymentId")
    created: int = Field(description="Payouts created for this paymentId: 0 or 1")
    provider_txn_id: str | None
    status: PayoutStatus | None
    outcome: Outcome | None
    declined: bool
    errors_served: int = Field(description="500 answers given (ERROR_500, LOST_RESPONSE)")


class CallbackAttemptView(_Body):
    callback_id: str
    provider_txn_id: str
    payment_id: str
    callback_status: FinalStatus
    attempt: int
    at: datetime
    status_code: int | None = Field(description="The receiver's HTTP status; null on a network error")
    error: str | None
    delivered: bool
    next_retry_seconds: float | None = Field(description="null when this was the last attempt")
