"""The payment ops API's bodies."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class _Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class PaymentState(_Body):
    payment_id: str
    status: str
    amount: int
    currency: str
    recipient: dict[str, Any]
    provider_txn_id: str | None
    error_code: str | None
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    submitted_at: datetime | None
    deadline_at: datetime
    completed_at: datetime | None
    late_inquiry_at: datetime | None = Field(
        description="A timed-out payout the provider had not settled: when it is next asked about"
    )
    trace_id: str | None = Field(
        default=None, description="The payment's trace (W3C trace id), e.g. `<zipkin>/zipkin/traces/<traceId>`"
    )


class ReconciliationCase(_Body):
    case_id: int
    kind: str = Field(description="LATE_SUCCESS, CONFLICTING_CALLBACK or UNCONFIRMED_FAILURE")
    payment_id: str
    provider_txn_id: str
    payment_status: str = Field(description="The payment's final state when the case opened")
    error_code: str | None
    callback_status: str = Field(description="What the provider said (SUCCESS or FAILED)")
    opened_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None = Field(description="The operator who resolved it")
    resolution_note: str | None


class CaseEvidence(_Body):
    """A case with what it is about: the payment as Payment holds it now."""

    case: ReconciliationCase
    payment: PaymentState


class ResolveCase(_Body):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    resolved_by: str = Field(min_length=1, max_length=200, description="The operator who resolves it (their id)")
    note: str = Field(min_length=1, max_length=4000, description="What was done about it")


class FinalView(_Body):
    payment_id: str
    status: Literal["COMPLETED", "FAILED"]
    error_code: str | None
    amount: int
    currency: str
    completed_at: datetime = Field(description="When the payment became final")


class FinalPage(_Body):
    items: list[FinalView]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page")


class PaymentPage(_Body):
    items: list[PaymentState] = Field(description="Newest first")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page")


class StuckSample(_Body):
    payment_id: str
    created_at: datetime
    age_seconds: float
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    provider_txn_id: str | None


class StuckGroup(_Body):
    status: str
    waiting_for: str = Field(description="Where these payments stopped")
    next_action: str = Field(description="What the worker does next for them by itself")
    count: int
    oldest_created_at: datetime
    samples: list[StuckSample] = Field(description="The oldest ones")


class StuckPayments(_Body):
    older_than_seconds: float
    as_of: datetime
    total: int
    groups: list[StuckGroup] = Field(description="Oldest group first")


class PaymentStatusView(_Body):
    payment_id: str
    status: str


class PaymentStatuses(_Body):
    items: list[PaymentStatusView] = Field(description="The asked payments Payment knows; an unknown one is absent")
