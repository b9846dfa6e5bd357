"""What the operators' tools read from every service to see one payment's saga (SPEC §9), and the
timeline they merge it into. camelCase on the wire.

- `PaymentSteps`: a service's own history of a payment, `GET /v1/payments/{paymentId}/history` on
  every service that keeps one (Payment, Wallet, Query, Anti-Fraud, Notification, Merchant Callback,
  Core Banking): what it did, when, with the details only it knows, and where the payment stands
  there now.
- `InboxAnswer`: which events a service's consumer group applied, and when (`GET /ops/inbox`, on
  every service that consumes).
- `PaymentRecords`: every Kafka record of a payment on every topic, dead letters included, as the
  DWH stored it (`GET /v1/payments/{paymentId}/records` on the DWH).
- `SagaTimeline`: all of it merged in causal order, with what the payment waits for now
  (`paysaga.services.ops.timeline`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True)


# --- each service's history of a payment ---------------------------------------------------------


class SagaStep(_Model):
    """One thing a service did about a payment."""

    at: AwareDatetime
    service: str = Field(description="The service that took the step (its catalog name: payment, wallet, ...)")
    kind: str = Field(description="What sort of step, per service: fraud-check, submission, callback, reservation...")
    summary: str = Field(description="One line for a human")
    details: dict[str, Any] = Field(default_factory=dict, description="What only this service knows of the step")


class ServiceState(_Model):
    """Where a payment stands in one service now."""

    status: str
    final: bool = Field(description="Nothing more will happen to the payment here")
    waiting_for: str | None = Field(default=None, description="What it waits for, e.g. the provider's callback")
    since: AwareDatetime | None = Field(default=None, description="Since when it waits")
    next_action: str | None = Field(default=None, description="What it does next by itself, e.g. inquiry, retry")
    next_action_at: AwareDatetime | None = None
    deadline_at: AwareDatetime | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class PaymentSteps(_Model):
    """A service's history of one payment, oldest step first; `state` is None when the service has
    nothing of the payment (yet)."""

    payment_id: str
    service: str
    steps: list[SagaStep]
    state: ServiceState | None = None


# --- what a consumer group applied ---------------------------------------------------------------


class InboxEntry(_Model):
    """Whether the service applied one event (its inbox holds the ids of those it applied)."""

    ce_id: str
    ce_source: str | None = Field(description="The event's source, when found")
    applied: bool
    applied_at: AwareDatetime | None = None
    ce_type: str | None = None
    topic: str | None = None
    partition: int | None = None
    offset: int | None = Field(default=None, description="The offset of the copy that was applied")


class InboxAnswer(_Model):
    service: str
    groups: list[str] = Field(description="The service's consumer groups (they share its inbox)")
    events: list[InboxEntry]


# --- the records of a payment (DWH) --------------------------------------------------------------


class DeadLetter(_Model):
    """The `dlq_*` headers of a record on a `<topic>.dlq` topic."""

    reason: str | None = Field(description="invalid-envelope, schema-invalid, invalid-key, handler-failed, ...")
    error: str | None = None
    consumer_group: str | None = Field(default=None, description="The group that could not apply it")
    original_topic: str | None = None
    original_partition: int | None = None
    original_offset: int | None = None
    failed_at: AwareDatetime | None = None


class KafkaRecord(_Model):
    topic: str
    partition: int
    offset: int
    timestamp: AwareDatetime | None = Field(description="The record's Kafka timestamp (when it was produced)")
    key: str | None
    ce_id: str | None
    ce_type: str | None
    ce_source: str | None = Field(description="The producer, e.g. /paysaga/wallet")
    ce_time: AwareDatetime | None
    payload: dict[str, Any] | None = Field(description="The JSON value; null when it is not JSON")
    payload_text: str | None = Field(default=None, description="The value, when it is not JSON")
    headers: dict[str, str] = Field(default_factory=dict)
    ingested_at: AwareDatetime | None = Field(default=None, description="When the DWH stored it")
    dead_letter: DeadLetter | None = Field(default=None, description="For a record of a dead-letter topic")


class PaymentRecords(_Model):
    payment_id: str
    provider_txn_ids: list[str] = Field(description="The payouts whose callback records are included")
    records: list[KafkaRecord] = Field(description="In the order they were produced")


# --- the merged timeline -------------------------------------------------------------------------


class Application(_Model):
    """One consumer group and one record: applied (when), dead-lettered, or not yet (its lag)."""

    group: str
    service: str
    applied: bool
    applied_at: AwareDatetime | None = None
    dead_lettered: bool = False
    dead_letter_reason: str | None = None
    lag: int | None = Field(default=None, description="The group's lag on the record's partition, when not applied")
    known: bool = Field(default=True, description="False when the service did not answer: nothing is known")


class TimelineRecord(_Model):
    record: KafkaRecord
    applications: list[Application] = Field(description="Every group expected to apply this record's type")


class TimelineEntry(_Model):
    """One line of the timeline."""

    at: AwareDatetime
    since_start: float = Field(description="Seconds since the saga's first entry")
    since_previous: float = Field(description="Seconds since the entry before it")
    service: str = Field(description="The swimlane: a service, or kafka for the records themselves")
    kind: str = Field(description="record, applied, dead-letter, or the service's step kind")
    summary: str
    details: dict[str, Any] = Field(default_factory=dict)
    ce_id: str | None = Field(default=None, description="The record the line is about")


class SagaTimeline(_Model):
    payment_id: str
    status: str = Field(description="PENDING, COMPLETED, FAILED, or UNKNOWN when nothing was found")
    final: bool
    error_code: str | None = None
    started_at: AwareDatetime | None = None
    ended_at: AwareDatetime | None = Field(default=None, description="When the final event was produced")
    duration_seconds: float | None = Field(default=None, description="From the first entry to the end (or to now)")
    entries: list[TimelineEntry]
    records: list[TimelineRecord]
    dead_letters: list[KafkaRecord]
    cases: list[SagaStep] = Field(description="Reconciliation cases of the payment")
    waiting: str | None = Field(description="What the saga waits for now, in one plain line; None when nothing")
    waiting_since: AwareDatetime | None = None
    next_action_at: AwareDatetime | None = None
    notes: list[str] = Field(default_factory=list, description="What could not be seen (a service that did not answer)")
    as_of: AwareDatetime
    trace_id: str | None = Field(default=None, description="The payment's trace (W3C trace id), when Payment knows it")
    trace_url: str | None = Field(default=None, description="The payment's trace in the trace backend (Zipkin)")
    unavailable: dict[str, str] = Field(
        default_factory=dict, description="The services that did not answer, with why (their part is missing)"
    )


# --- helpers for the summaries -------------------------------------------------------------------

_EXPONENTS = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND"), 0),
    **dict.fromkeys(("VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}


def money(amount: int, currency: str) -> str:
    """An amount in minor units as a human reads it: `money(15000, "RUB")` → "150.00 RUB"."""
    exponent = _EXPONENTS.get(currency, 2)
    if exponent == 0:
        return f"{amount} {currency}"
    sign, units = ("-" if amount < 0 else ""), abs(amount)
    return f"{sign}{units // 10**exponent}.{units % 10**exponent:0{exponent}d} {currency}"


def clock(at: datetime | None) -> str:
    """A time of day in UTC, to the millisecond: 12:01:03.042."""
    if at is None:
        return "?"
    return at.astimezone(UTC).strftime("%H:%M:%S.%f")[:-3]
