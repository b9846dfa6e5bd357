"""The derived views on hand-made events: sagas, daily volumes, failure reasons, the summary."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from paysaga.contracts.cloudevents import EventMeta
from paysaga.contracts.topics import CALLBACK_EVENTS, PAYMENT_EVENTS
from paysaga.services.dwh.store import DwhStore
from tests.unit.services.dwh.factory import FakeLog, Produced, customer, saga, top_up

pytestmark = pytest.mark.unit

DAY1 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
DAY2 = datetime(2025, 3, 2, 18, 30, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> DwhStore:
    return DwhStore(tmp_path / "views.duckdb")


def ingest(store: DwhStore, produced: list[Produced]) -> None:
    store.ingest(FakeLog().append_all(produced))


def naive(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(tzinfo=None)


def sagas_by_id(store: DwhStore) -> dict[str, dict]:
    return {row["payment_id"]: row for row in store.fetch_dicts("SELECT * FROM payment_sagas")}


def test_one_row_per_payment_with_the_time_of_each_step_and_the_durations(store: DwhStore) -> None:
    ok = saga("COMPLETED", DAY1, amount=25_000, callback_after_ms=1500, final_after_ms=1700)
    declined = saga("DECLINED", DAY1, callback_after_ms=4000, final_after_ms=4250)
    fraud = saga("FRAUD", DAY1, final_after_ms=300)
    pending = saga("PENDING", DAY1)
    ingest(store, [e for s in (ok, declined, fraud, pending) for e in s.events])

    rows = sagas_by_id(store)

    assert len(rows) == 4
    done = rows[ok.payment_id]
    assert done["status"] == "COMPLETED" and done["error_code"] is None
    assert (done["amount"], done["currency"], done["provider_txn_id"]) == (25_000, "RUB", ok.txn_id)
    assert done["initiated_at"] == naive(DAY1)
    assert done["callback_received_at"] == naive(DAY1 + timedelta(milliseconds=1500))
    assert done["callback_status"] == "SUCCESS"
    assert done["completed_at"] == naive(DAY1 + timedelta(milliseconds=1700)) and done["failed_at"] is None
    assert (done["to_callback_ms"], done["callback_to_final_ms"], done["duration_ms"]) == (1500, 200, 1700)

    no = rows[declined.payment_id]
    assert (no["status"], no["error_code"], no["callback_status"]) == ("FAILED", "PROVIDER_DECLINED", "FAILED")
    assert no["completed_at"] is None and no["failed_at"] == naive(DAY1 + timedelta(milliseconds=4250))
    assert (no["to_callback_ms"], no["duration_ms"]) == (4000, 4250)

    blocked = rows[fraud.payment_id]
    assert (blocked["status"], blocked["error_code"], blocked["provider_txn_id"]) == (
        "FAILED",
        "FRAUD_SUSPECTED",
        None,
    )
    assert blocked["callback_received_at"] is None and blocked["duration_ms"] == 300

    open_ = rows[pending.payment_id]
    assert (open_["status"], open_["finished_at"], open_["duration_ms"]) == ("PENDING", None, None)


def test_an_event_published_twice_counts_once_but_both_records_are_kept(store: DwhStore) -> None:
    first = saga("COMPLETED", DAY1)
    republished = [*first.events, first.events[0], first.events[2]]  # same ce_id: the relay sent them again
    ingest(store, republished)

    assert store.topic_counts() == {PAYMENT_EVENTS: 4, CALLBACK_EVENTS: 1}
    summary = store.summary()
    assert {t.topic: (t.records, t.events) for t in summary.topics}[PAYMENT_EVENTS] == (4, 2)
    rows = sagas_by_id(store)
    assert len(rows) == 1 and rows[first.payment_id]["final_events"] == 1
    assert store.fetch("SELECT payments, amount FROM daily_volumes") == [(1, first.amount)]


def test_the_first_final_event_wins_and_a_second_one_is_visible(store: DwhStore) -> None:
    paid = saga("COMPLETED", DAY1)
    contradicting = saga("DECLINED", DAY1)
    # A PaymentFailed with another event id for the same payment, after the PaymentCompleted.
    late_failure = next(e for e in contradicting.events if e.ce_type == "PaymentFailed")
    late_failure = Produced(
        late_failure.topic,
        paid.payment_id,
        late_failure.value.replace(contradicting.payment_id.encode(), paid.payment_id.encode()),
        late_failure.headers,
        late_failure.ce_id,
        late_failure.ce_type,
    )
    ingest(store, [*paid.events, late_failure])

    row = sagas_by_id(store)[paid.payment_id]
    assert (row["status"], row["error_code"], row["final_events"]) == ("COMPLETED", None, 2)


def test_a_record_from_another_source_than_its_types_publisher_is_kept_but_not_counted(store: DwhStore) -> None:
    """A forged PaymentFailed (naming Notification as its source) before the real PaymentCompleted:
    the consumers refused it, so the saga view ignores it too; raw_events keeps it for an analyst."""
    paid = saga("COMPLETED", DAY1)
    real = next(e for e in paid.events if e.ce_type == "PaymentCompleted")
    forged_meta = EventMeta(id=str(uuid.uuid4()), type="PaymentFailed", source="/paysaga/notification", time=DAY1)
    forged_body = orjson.dumps(
        {"paymentId": paid.payment_id, "providerTxnId": None, "errorCode": "TIMEOUT", "completedAt": DAY1.isoformat()}
    )
    forged = Produced(
        PAYMENT_EVENTS, paid.payment_id, forged_body, forged_meta.to_headers(), forged_meta.id, "PaymentFailed"
    )
    ingest(store, [*(e for e in paid.events if e is not real), forged, real])

    row = sagas_by_id(store)[paid.payment_id]
    assert (row["status"], row["error_code"], row["final_events"]) == ("COMPLETED", None, 1)
    assert store.fetch("SELECT count(*) FROM raw_events WHERE ce_source = '/paysaga/notification'") == [(1,)]


def test_daily_volumes_per_day_and_currency_with_success_rate(store: DwhStore) -> None:
    sagas = [
        saga("COMPLETED", DAY1, amount=1000),
        saga("COMPLETED", DAY1 + timedelta(hours=1), amount=2000),
        saga("DECLINED", DAY1 + timedelta(hours=2), amount=4000),
        saga("PENDING", DAY1 + timedelta(hours=3), amount=8000),
        saga("COMPLETED", DAY1, amount=500, currency="USD"),
        saga("FRAUD", DAY2, amount=300),
        saga("FRAUD", DAY2, amount=700),
    ]
    ingest(store, [e for s in sagas for e in s.events])

    rows = store.fetch_dicts("SELECT * FROM daily_volumes")

    assert rows == [
        {
            "day": date(2025, 3, 1),
            "currency": "RUB",
            "payments": 4,
            "amount": 15_000,
            "completed": 2,
            "completed_amount": 3000,
            "failed": 1,
            "pending": 1,
            "success_rate": pytest.approx(2 / 3),
        },
        {
            "day": date(2025, 3, 1),
            "currency": "USD",
            "payments": 1,
            "amount": 500,
            "completed": 1,
            "completed_amount": 500,
            "failed": 0,
            "pending": 0,
            "success_rate": 1.0,
        },
        {
            "day": date(2025, 3, 2),
            "currency": "RUB",
            "payments": 2,
            "amount": 1000,
            "completed": 0,
            "completed_amount": 0,
            "failed": 2,
            "pending": 0,
            "success_rate": 0.0,
        },
    ]
    hourly = store.fetch("SELECT hour, payments FROM hourly_volumes WHERE currency = 'RUB' ORDER BY hour")
    assert [n for _, n in hourly] == [1, 1, 1, 1, 2]
    assert hourly[0][0] == datetime(2025, 3, 1, 9, 0)


def test_failure_reasons_count_failed_payments_by_error_code(store: DwhStore) -> None:
    sagas = [saga("FRAUD", DAY1) for _ in range(3)] + [saga("DECLINED", DAY2)] + [saga("COMPLETED", DAY1)]
    ingest(store, [e for s in sagas for e in s.events])

    rows = store.fetch("SELECT error_code, failures, share FROM failure_reasons")

    assert rows == [("FRAUD_SUSPECTED", 3, 0.75), ("PROVIDER_DECLINED", 1, 0.25)]


def test_summary_gives_the_headline_numbers(store: DwhStore) -> None:
    sagas = [
        saga("COMPLETED", DAY1, amount=1000, final_after_ms=1000),
        saga("COMPLETED", DAY1, amount=1000, final_after_ms=3000),
        saga("DECLINED", DAY2, amount=500, final_after_ms=5000),
        saga("PENDING", DAY2, amount=100),
    ]
    ingest(store, [*(e for s in sagas for e in s.events), customer(DAY1), top_up(DAY1)])

    summary = store.summary()

    assert {t.topic: (t.records, t.events) for t in summary.topics} == {
        "payment-events": (7, 7),
        "callback-events": (3, 3),
        "customer-events": (1, 1),
        "wallet-events": (1, 1),
    }
    assert summary.event_types == {
        "CustomerCreated": 1,
        "PaymentCompleted": 2,
        "PaymentFailed": 1,
        "PaymentInitiated": 4,
        "ProviderCallbackReceived": 3,
        "WalletToppedUp": 1,
    }
    assert summary.customers == 1
    p = summary.payments
    assert (p.total, p.completed, p.failed, p.pending) == (4, 2, 1, 1)
    assert p.success_rate == pytest.approx(2 / 3)
    assert [(v.currency, v.payments, v.amount, v.completed_amount) for v in summary.volumes] == [("RUB", 4, 2600, 2000)]
    d = summary.durations
    assert (d.finished, d.p50_ms, d.max_ms, d.avg_ms) == (3, 3000.0, 5000, 3000.0)
    assert [(r.error_code, r.failures) for r in summary.failure_reasons] == [("PROVIDER_DECLINED", 1)]
    assert summary.first_payment_at == DAY1 and summary.last_payment_at == DAY2
    body = summary.model_dump(mode="json")
    assert body["payments"]["successRate"] == pytest.approx(2 / 3) and "failureReasons" in body


def test_an_empty_store_has_an_empty_summary(store: DwhStore) -> None:
    summary = store.summary()

    assert summary.payments.total == 0 and summary.payments.success_rate is None
    assert [t.records for t in summary.topics] == [0, 0, 0, 0]
    assert summary.durations.p50_ms is None and summary.first_payment_at is None
