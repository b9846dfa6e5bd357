"""The DWH's HTTP bodies: the headline numbers of the views (`GET /v1/summary`)."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class _Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True)


class TopicCount(_Body):
    topic: str
    records: int  # raw records stored (one per Kafka offset)
    events: int  # distinct events (a republished event, same ce_id, counts once)


class PaymentTotals(_Body):
    total: int
    completed: int
    failed: int
    pending: int
    success_rate: float | None  # completed / (completed + failed)


class CurrencyVolume(_Body):
    currency: str
    payments: int
    amount: int  # minor units, every payment initiated
    completed_amount: int  # minor units, paid out


class DurationStats(_Body):
    """Saga duration: from PaymentInitiated's createdAt to the final event's completedAt."""

    finished: int
    avg_ms: float | None
    p50_ms: float | None
    p95_ms: float | None
    max_ms: int | None


class FailureReason(_Body):
    error_code: str
    failures: int
    share: float


class Summary(_Body):
    topics: list[TopicCount]
    event_types: dict[str, int]
    customers: int
    payments: PaymentTotals
    volumes: list[CurrencyVolume]
    durations: DurationStats
    failure_reasons: list[FailureReason]
    first_payment_at: datetime | None
    last_payment_at: datetime | None
    last_ingested_at: datetime | None
