"""The operators' API bodies (`/ops/v1/...`), camelCase on the wire. The operator console is
generated from the OpenAPI document these make, so every answer has a model here."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel
from pydantic.json_schema import SkipJsonSchema

from paysaga.services.ops.domain import TOPIC_NAMES


class _Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class _Request(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


# --- operators ----------------------------------------------------------------------------------


class LoginRequest(_Request):
    email: str = Field(min_length=1, max_length=254, examples=["ops@example.org"])
    password: str = Field(min_length=1, max_length=128)


class LoginResponse(_Body):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int = Field(description="Seconds until the token expires")


class OperatorView(_Body):
    operator_id: str
    email: str


# --- fleet --------------------------------------------------------------------------------------


class OutboxBacklogView(_Body):
    pending: int = Field(description="Outbox rows not published yet")
    oldest_pending_at: datetime | None
    oldest_pending_age_seconds: float = Field(description="Age of the oldest unpublished row (0 when none)")
    last_published_at: datetime | None = Field(description="When the relay last published a row")


class ServiceHealth(_Body):
    name: str
    url: str
    status: Literal["up", "degraded", "down"] = Field(
        description="up: alive and ready; degraded: alive, a dependency failing (or readiness not answered in "
        "time); down: no answer"
    )
    live: bool = Field(description="/healthz answered 200")
    ready: bool | None = Field(description="/readyz answered 200 (null: it did not answer in time)")
    checks: dict[str, str] = Field(description="Each readiness check: ok or failing")
    outbox: OutboxBacklogView | None = Field(description="Its outbox backlog, for a service that publishes")
    error: str | None = Field(description="Why it is not up, when it is not")
    probe_ms: float = Field(description="How long the probes took")


class PartitionLagView(_Body):
    topic: str
    partition: int
    committed_offset: int | None = Field(description="The group's committed offset (null: never committed)")
    log_start_offset: int
    high_watermark: int
    lag: int = Field(description="Records the group has still to apply")


class ConsumerGroupView(_Body):
    group: str
    state: str = Field(description="Kafka's group state: STABLE, EMPTY (no consumer alive), PREPARING_REBALANCING…")
    members: int = Field(description="Consumers in the group now")
    lag: int = Field(description="Sum of its partitions' lag")
    partitions: list[PartitionLagView]


class DeadLetterTopicView(_Body):
    topic: str
    records: int = Field(description="Records on the dead-letter topic now")


class KafkaView(_Body):
    reachable: bool
    error: str | None


class Fleet(_Body):
    generated_at: datetime
    services: list[ServiceHealth]
    consumer_groups: list[ConsumerGroupView]
    dead_letter_topics: list[DeadLetterTopicView]
    kafka: KafkaView


# --- dead letters -------------------------------------------------------------------------------


class RecordCoordinates(_Request):
    topic: str = Field(
        description="The dead-letter topic (`payment-events.dlq`; the original's name works too)",
        json_schema_extra={"enum": list(TOPIC_NAMES)},
    )
    partition: int = Field(ge=0, le=2**31 - 1)  # Kafka's int32
    offset: int = Field(ge=0, le=2**63 - 1)  # Kafka's int64


class ReplayRef(_Body):
    replay_id: int
    status: Literal["PENDING", "PUBLISHED", "FAILED"]
    operator_id: str
    forced: bool
    requested_at: datetime


class DeadLetterView(_Body):
    topic: str
    partition: int
    offset: int
    timestamp: datetime | None = Field(description="When it was dead-lettered (the record's Kafka timestamp)")
    key: str | None
    reason: str | None = Field(description="dlq_reason: invalid-envelope, schema-invalid, invalid-key, handler-failed…")
    error: str | None = Field(description="dlq_error: the exception")
    consumer_group: str | None = Field(description="dlq_consumer_group: the group that could not apply it")
    original_topic: str
    original_partition: int | None
    original_offset: int | None
    failed_at: str | None
    ce_type: str | None
    ce_id: str | None
    headers: dict[str, str] = Field(description="Every header of the record (values as text)")
    value: Any = Field(description="The payload as JSON (null when it is not JSON: see valueText)")
    value_text: str | None = Field(description="The payload as text, when it is not JSON")
    replays: list[ReplayRef] = Field(description="Every replay of this record, oldest first")


class DeadLetterPage(_Body):
    items: list[DeadLetterView]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null when every record was read")
    scanned: int = Field(description="Records read for this page (filters skip some)")


class ReplayFilter(_Request):
    """At least one of `reason`, `group`, `ceType` (the document says so with `anyOf`); none may be null."""

    model_config = ConfigDict(
        json_schema_extra={"anyOf": [{"required": ["reason"]}, {"required": ["group"]}, {"required": ["ceType"]}]}
    )

    topic: str = Field(description="The original topic (or its `.dlq`)", json_schema_extra={"enum": list(TOPIC_NAMES)})
    reason: str | SkipJsonSchema[None] = None
    group: str | SkipJsonSchema[None] = None
    ce_type: str | SkipJsonSchema[None] = None

    @field_validator("reason", "group", "ce_type", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("leave it out instead of sending null")
        return value

    @model_validator(mode="after")
    def _narrowed(self) -> Self:
        if self.reason is None and self.group is None and self.ce_type is None:
            raise ValueError("name at least one of reason, group, ceType: a whole topic is not replayed by accident")
        return self


class ReplayRequest(_Request):
    """Either `record` or `filter` (the document says so with `oneOf`); neither may be null."""

    model_config = ConfigDict(json_schema_extra={"oneOf": [{"required": ["record"]}, {"required": ["filter"]}]})

    record: RecordCoordinates | SkipJsonSchema[None] = Field(default=None, description="One dead-letter record")
    filter: ReplayFilter | SkipJsonSchema[None] = Field(
        default=None, description="Every record of a topic that matches"
    )
    force: bool = Field(default=False, strict=True, description="Replay records that were replayed before, too")
    limit: int = Field(default=100, ge=1, le=500, description="Most records a filter replays in this request")

    @field_validator("record", "filter", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("leave it out instead of sending null")
        return value

    @model_validator(mode="after")
    def _one_selection(self) -> Self:
        if (self.record is None) == (self.filter is None):
            raise ValueError("give either record or filter")
        return self


class ReplayItem(_Body):
    dead_letter: RecordCoordinates
    original_topic: str
    ce_id: str | None
    ce_type: str | None
    consumer_group: str | None
    outcome: Literal["REPLAYED", "FAILED", "ALREADY_REPLAYED"]
    replay_id: int | None = Field(description="This replay, or the earlier one when ALREADY_REPLAYED")
    error: str | None
    published_partition: int | None
    published_offset: int | None


class ReplayResponse(_Body):
    replayed: int
    failed: int
    already_replayed: int = Field(description="Matching records skipped: replayed before (use force to repeat)")
    complete: bool = Field(description="The filter's whole topic was read (false: ask again to go on)")
    items: list[ReplayItem]


class ReplayView(_Body):
    replay_id: int
    operator_id: str
    request_key: str
    dead_letter: RecordCoordinates
    original_topic: str
    original_partition: int | None
    original_offset: int | None
    consumer_group: str | None
    reason: str | None
    ce_id: str | None
    ce_type: str | None
    key: str | None
    forced: bool
    status: Literal["PENDING", "PUBLISHED", "FAILED"] = Field(
        description="PENDING: being sent (or the Ops service stopped before Kafka's answer: it may have been sent)"
    )
    error: str | None
    requested_at: datetime
    finished_at: datetime | None
    published_partition: int | None
    published_offset: int | None


class ReplayPage(_Body):
    items: list[ReplayView]
    next_cursor: str | None


# --- reconciliation cases (Payment owns them) ---------------------------------------------------


class CaseView(_Body):
    case_id: int
    kind: str = Field(description="LATE_SUCCESS, CONFLICTING_CALLBACK or UNCONFIRMED_FAILURE")
    payment_id: str
    provider_txn_id: str
    payment_status: str
    error_code: str | None
    callback_status: str
    opened_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    resolution_note: str | None


class CaseList(_Body):
    items: list[CaseView]


class PaymentEvidence(_Body):
    """The payment as the Payment service holds it."""

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
    late_inquiry_at: datetime | None


class CaseEvidence(_Body):
    case: CaseView
    payment: PaymentEvidence


# --- payments (Payment's search and stuck payments) ----------------------------------------------


class PaymentView(PaymentEvidence):
    """A payment as Payment holds it, with its trace."""

    trace_id: str | None = Field(default=None, description="The payment's trace (W3C trace id)")


class PaymentPage(_Body):
    items: list[PaymentView] = Field(description="Newest first")
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
    source: Literal["payment", "wallet"] = Field(
        default="payment",
        description="payment: Payment's payments not final; wallet: money Wallet still holds for a payment "
        "Payment never accepted or has ended (counted among Wallet's oldest held reservations)",
    )


class StuckPayments(_Body):
    older_than_seconds: float
    as_of: datetime
    total: int
    groups: list[StuckGroup] = Field(description="Oldest group first")


class ResolveRequest(_Request):
    note: str = Field(min_length=1, max_length=4000, description="What was done about it")


# --- audit --------------------------------------------------------------------------------------


class AuditEntryView(_Body):
    audit_id: int
    at: datetime
    operator_id: str | None = Field(description="null for actions from the command line")
    actor: str = Field(description="The operator's email, or `cli`")
    action: str = Field(examples=["dead-letters.replay", "reconciliation-case.resolve", "operator.create"])
    target: str | None
    summary: dict[str, Any] = Field(description="What was asked (the payload, summarised)")
    outcome: Literal["pending", "succeeded", "failed"]
    detail: str | None
    finished_at: datetime | None


class AuditPage(_Body):
    items: list[AuditEntryView]
    next_cursor: str | None


# --- reconciliation runs ------------------------------------------------------------------------


class FundsDifferenceView(_Body):
    currency: str
    wallets: int = Field(description="The sum of the wallets' balances (reserved money included), minor units")
    customer_funds: int = Field(description="The balance of Customer funds (2100) in Core Banking")
    difference: int = Field(description="wallets - customer funds")
    case_id: int | None = Field(default=None, description="The case this difference opened or keeps open")


class PaymentDifferenceView(_Body):
    payment_id: str
    kind: Literal["STATUS_MISMATCH", "MISSING_IN_WALLET", "MISSING_IN_PAYMENT"]
    payment_status: str | None = Field(description="COMPLETED or FAILED in Payment; null: not final there")
    wallet_status: str | None = Field(description="COMMITTED or RELEASED in Wallet; null: not settled there")
    case_id: int | None = Field(default=None, description="The case this difference opened or keeps open")


class ReconciliationRunView(_Body):
    """One run of the reconciliation job: its findings are its differences."""

    run_id: int
    trigger: Literal["schedule", "operator"]
    operator_id: str | None = Field(description="The operator who asked for it (null: the schedule)")
    started_at: datetime
    finished_at: datetime | None
    window_start: datetime = Field(description="The payments judged became final in [windowStart, windowEnd)")
    window_end: datetime
    status: Literal["running", "clean", "differences", "failed"]
    funds: list[FundsDifferenceView] = Field(description="Currencies whose wallets and Customer funds differ")
    payments: list[PaymentDifferenceView] = Field(description="Payments whose final state and settlement differ")
    error: str | None = Field(description="Why a failed run failed (a service did not answer, ...)")


class ReconciliationRunList(_Body):
    items: list[ReconciliationRunView] = Field(description="Newest first")


class DifferenceCaseView(_Body):
    """A difference the reconciliation job found, open until an operator resolves it with a note."""

    case_id: int
    kind: Literal["FUNDS_MISMATCH", "STATUS_MISMATCH", "MISSING_IN_WALLET", "MISSING_IN_PAYMENT"]
    subject: str = Field(description="The currency (FUNDS_MISMATCH) or the payment id (the others)")
    evidence: dict[str, Any] = Field(description="The difference as the last run that saw it found it")
    opened_by_run: int = Field(description="The run that found it first")
    last_seen_run: int = Field(description="The last run that still found it")
    opened_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None = Field(description="The operator who resolved it")
    resolution_note: str | None


class DifferenceCasePage(_Body):
    items: list[DifferenceCaseView] = Field(description="Newest first")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page")
