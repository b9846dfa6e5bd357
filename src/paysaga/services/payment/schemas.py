"""The payment ops API's bodies."""

from datetime import datetime
from typing import Any

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
