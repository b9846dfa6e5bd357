"""The saga timeline merge (services/ops/timeline.py) on hand-built inputs, one saga path each: the
records as the DWH gives them, the inbox answers of the consuming services, each service's steps."""

from __future__ import annotations

import itertools
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from paysaga.contracts.bus import SUBSCRIPTIONS
from paysaga.contracts.ops import (
    DeadLetter,
    InboxAnswer,
    InboxEntry,
    KafkaRecord,
    PaymentSteps,
    SagaStep,
    SagaTimeline,
    ServiceState,
)
from paysaga.services.ops.timeline import build_timeline, expected_consumers, render_text

pytestmark = pytest.mark.unit

T0 = datetime(2026, 12, 2, 12, 1, 2, 113000, tzinfo=UTC)
SOURCES = {
    "PaymentInitiated": "/paysaga/wallet",
    "PaymentCompleted": "/paysaga/payment",
    "PaymentFailed": "/paysaga/payment",
    "ProviderCallbackReceived": "/paysaga/callback",
}


def at(ms: float) -> datetime:
    return T0 + timedelta(milliseconds=ms)


@dataclass
class Saga:
    """One payment's inputs to the merge, built step by step (times in ms after T0)."""

    payment_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    txn: str = "ptx_1"
    records: list[KafkaRecord] = field(default_factory=list)
    inbox: dict[str, list[InboxEntry]] = field(default_factory=lambda: defaultdict(list))
    steps: dict[str, list[SagaStep]] = field(default_factory=lambda: defaultdict(list))
    states: dict[str, ServiceState] = field(default_factory=dict)
    offsets: itertools.count = field(default_factory=itertools.count)

    def record(self, ce_type: str, ms: float, **payload: Any) -> KafkaRecord:
        callback = ce_type == "ProviderCallbackReceived"
        body = {"providerTxnId": self.txn, **payload} if callback else {"paymentId": self.payment_id, **payload}
        record = KafkaRecord(
            topic="callback-events" if callback else "payment-events",
            partition=2,
            offset=next(self.offsets),
            timestamp=at(ms),
            key=self.txn if callback else self.payment_id,
            ce_id=str(uuid.uuid4()),
            ce_type=ce_type,
            ce_source=SOURCES[ce_type],
            ce_time=at(ms - 2),
            payload=body,
            ingested_at=at(ms + 900),
        )
        self.records.append(record)
        return record

    def applied(self, record: KafkaRecord, service: str, ms: float) -> None:
        self.inbox[service].append(
            InboxEntry(
                ce_id=record.ce_id or "",
                ce_source=record.ce_source,
                applied=True,
                applied_at=at(ms),
                ce_type=record.ce_type,
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
            )
        )

    def applied_by_all(self, record: KafkaRecord, ms: float, *, but: tuple[str, ...] = ()) -> None:
        for i, consumer in enumerate(expected_consumers(record.ce_type)):
            if consumer.applies and consumer.service not in but:
                self.applied(record, consumer.service, ms + i)

    def dead_letter(self, record: KafkaRecord, group: str, reason: str, ms: float) -> KafkaRecord:
        letter = record.model_copy(
            update={
                "topic": record.topic + ".dlq",
                "offset": next(self.offsets),
                "timestamp": at(ms),
                "dead_letter": DeadLetter(
                    reason=reason,
                    error="RuntimeError: boom",
                    consumer_group=group,
                    original_topic=record.topic,
                    original_partition=record.partition,
                    original_offset=record.offset,
                    failed_at=at(ms),
                ),
            }
        )
        self.records.append(letter)
        return letter

    def step(self, service: str, kind: str, ms: float, summary: str, **details: Any) -> None:
        self.steps[service].append(SagaStep(at=at(ms), service=service, kind=kind, summary=summary, details=details))

    def state(self, service: str, status: str, *, final: bool, **more: Any) -> None:
        self.states[service] = ServiceState(status=status, final=final, **more)

    def timeline(self, now_ms: float = 60_000, **kwargs: Any) -> SagaTimeline:
        services = {s for s, sub in SUBSCRIPTIONS.items() if sub.applies}
        return build_timeline(
            self.payment_id,
            records=self.records,
            inboxes=[
                InboxAnswer(service=s, groups=[SUBSCRIPTIONS[s].group], events=self.inbox.get(s, [])) for s in services
            ],
            steps=[
                PaymentSteps(
                    payment_id=self.payment_id, service=s, steps=self.steps.get(s, []), state=self.states.get(s)
                )
                for s in {*self.steps, *self.states}
            ],
            now=at(now_ms),
            **kwargs,
        )


def initiated(saga: Saga) -> KafkaRecord:
    """Wallet reserved, published PaymentInitiated; every group applied it; Payment recorded it."""
    saga.step("wallet", "reservation", 0, "reserved 150.00 RUB")
    record = saga.record("PaymentInitiated", 40, amount=15000, currency="RUB")
    saga.applied_by_all(record, 55)
    saga.step("payment", "received", 56, "recorded the payment")
    return record


def completed(saga: Saga, ms: float) -> KafkaRecord:
    record = saga.record("PaymentCompleted", ms, providerTxnId=saga.txn)
    saga.applied_by_all(record, ms + 20)
    saga.step("wallet", "settlement", ms + 20, "committed the reservation")
    saga.state("wallet", "COMMITTED", final=True)
    saga.state("payment", "COMPLETED", final=True, details={"providerTxnId": saga.txn})
    return record


def failed(saga: Saga, ms: float, error_code: str, txn: str | None = None) -> KafkaRecord:
    record = saga.record("PaymentFailed", ms, providerTxnId=txn, errorCode=error_code)
    saga.applied_by_all(record, ms + 20)
    saga.step("wallet", "settlement", ms + 20, "released the reservation")
    saga.state("wallet", "RELEASED", final=True)
    saga.state("payment", "FAILED", final=True, details={"errorCode": error_code})
    return record


def order_of(timeline: SagaTimeline) -> list[tuple[str, str]]:
    return [(e.service, e.summary) for e in timeline.entries]


def check_causal(timeline: SagaTimeline) -> None:
    """Time never goes back; a group's application follows its record; the durations add up."""
    times = [e.at for e in timeline.entries]
    assert times == sorted(times)
    seen: set[str] = set()
    for e in timeline.entries:
        if e.kind in ("record", "dead-letter") and e.ce_id:
            seen.add(e.ce_id)
        if e.kind == "applied":
            assert e.ce_id in seen, f"{e.summary} before its record"
    assert timeline.entries[0].since_previous == 0 and timeline.entries[0].since_start == 0
    assert timeline.entries[-1].since_start == pytest.approx(sum(e.since_previous for e in timeline.entries), abs=0.01)


# --- the paths -----------------------------------------------------------------------------------


def test_success_in_causal_order_with_every_group_applying_every_record() -> None:
    saga = Saga()
    init = initiated(saga)
    saga.step("payment", "fraud-check", 70, "Anti-Fraud allowed it → CHECKED")
    saga.step("payment", "submission", 110, "payout accepted by the provider as ptx_1 → SUBMITTED")
    callback = saga.record("ProviderCallbackReceived", 400, status="SUCCESS")
    saga.applied(callback, "payment", 410)
    saga.step("payment", "callback", 411, "SUCCESS callback → COMPLETED")
    final = completed(saga, 450)

    timeline = saga.timeline()

    assert (timeline.status, timeline.final, timeline.error_code) == ("COMPLETED", True, None)
    assert timeline.waiting is None and timeline.dead_letters == [] and timeline.cases == []
    assert timeline.started_at == at(0) and timeline.ended_at == at(450)
    assert timeline.duration_seconds == 0.45
    check_causal(timeline)
    order = order_of(timeline)
    assert order[0] == ("wallet", "reserved 150.00 RUB")
    assert order.index(("payment", "applied PaymentInitiated (group payment)")) < order.index(
        ("payment", "recorded the payment")
    )
    assert order.index(("payment", "SUCCESS callback → COMPLETED")) < order.index(
        ("kafka", f"PaymentCompleted on payment-events[2]@{final.offset} from Payment")
    )
    assert order[-1] == ("dwh", "stored PaymentCompleted (group dwh)")  # the DWH stores it last (ingested_at)
    by_id = {r.record.ce_id: r for r in timeline.records}
    assert {a.group for a in by_id[init.ce_id].applications} == {
        "payment",
        "query",
        "notification",
        "merchant-callback",
        "core-banking",
        "anti-fraud",
        "dwh",
    }
    assert {a.group for a in by_id[final.ce_id].applications} == {
        "query",
        "wallet",
        "notification",
        "merchant-callback",
        "core-banking",
        "anti-fraud",
        "dwh",
    }
    assert {a.group for a in by_id[callback.ce_id].applications} == {"payment", "dwh"}
    assert all(a.applied for r in timeline.records for a in r.applications)
    callback_entry = next(e for e in timeline.entries if e.ce_id == callback.ce_id and e.kind == "record")
    assert callback_entry.since_previous == pytest.approx(0.29)  # after the submission at 110 ms


def test_fraud_deny() -> None:
    saga = Saga()
    initiated(saga)
    saga.step("antifraud", "fraud-decision", 65, "DENY: RECIPIENT_BLOCKED (score 0.99)")
    saga.step("payment", "fraud-check", 70, "Anti-Fraud denied it: RECIPIENT_BLOCKED → FAILED (FRAUD_SUSPECTED)")
    failed(saga, 120, "FRAUD_SUSPECTED")

    timeline = saga.timeline()

    assert (timeline.status, timeline.error_code, timeline.waiting) == ("FAILED", "FRAUD_SUSPECTED", None)
    check_causal(timeline)
    services = [s for s, _ in order_of(timeline)]
    assert services.index("antifraud") < services.index("kafka", services.index("antifraud"))
    assert not any(r.record.ce_type == "ProviderCallbackReceived" for r in timeline.records)


def test_provider_decline() -> None:
    saga = Saga()
    initiated(saga)
    saga.step("payment", "fraud-check", 70, "Anti-Fraud allowed it → CHECKED")
    saga.step("payment", "submission", 95, "payout declined by the provider: HTTP 422 → FAILED (PROVIDER_REJECTED)")
    failed(saga, 130, "PROVIDER_REJECTED")

    timeline = saga.timeline()

    assert (timeline.status, timeline.error_code, timeline.waiting) == ("FAILED", "PROVIDER_REJECTED", None)
    assert "payout declined by the provider: HTTP 422 → FAILED (PROVIDER_REJECTED)" in [
        e.summary for e in timeline.entries
    ]


def test_failed_callback_confirmed_by_an_inquiry() -> None:
    saga = Saga()
    initiated(saga)
    saga.step("payment", "submission", 110, "payout accepted → SUBMITTED")
    callback = saga.record("ProviderCallbackReceived", 400, status="FAILED")
    saga.applied(callback, "payment", 405)
    saga.step("payment", "callback", 406, "FAILED callback: the provider is asked to confirm it")
    saga.step("payment", "inquiry", 430, "inquiry (try 1): the provider says FAILED → FAILED (PROVIDER_DECLINED)")
    failed(saga, 460, "PROVIDER_DECLINED", saga.txn)

    timeline = saga.timeline()

    assert (timeline.status, timeline.error_code) == ("FAILED", "PROVIDER_DECLINED")
    check_causal(timeline)
    summaries = [e.summary for e in timeline.entries]
    assert summaries.index("FAILED callback: the provider is asked to confirm it") < summaries.index(
        "inquiry (try 1): the provider says FAILED → FAILED (PROVIDER_DECLINED)"
    )
    assert (
        f"ProviderCallbackReceived on callback-events[2]@{callback.offset} from Callback (status FAILED)" in summaries
    )


def test_5xx_then_success_shows_each_try_and_the_time_between() -> None:
    saga = Saga()
    initiated(saga)
    for i, ms in enumerate((100, 300, 700), start=1):
        saga.step("payment", "submission", ms, f"payout request not answered (try {i}): HTTP 500", attempt=i)
    saga.step("payment", "submission", 1500, "payout accepted by the provider (try 4) → SUBMITTED", attempt=4)
    callback = saga.record("ProviderCallbackReceived", 1800, status="SUCCESS")
    saga.applied(callback, "payment", 1810)
    saga.step("payment", "callback", 1811, "SUCCESS callback → COMPLETED")
    completed(saga, 1850)

    timeline = saga.timeline()

    tries = [e for e in timeline.entries if e.kind == "submission"]
    assert [e.details["attempt"] for e in tries] == [1, 2, 3, 4]
    assert [e.since_start for e in tries] == [0.1, 0.3, 0.7, 1.5]  # the backoff between the tries
    assert tries[1].since_previous == 0.2  # nothing else happened in between
    assert timeline.status == "COMPLETED"


def test_early_and_duplicate_callbacks() -> None:
    saga = Saga()
    initiated(saga)
    early = saga.record("ProviderCallbackReceived", 90, status="SUCCESS")  # before the txn id is stored
    saga.applied(early, "payment", 95)
    saga.step("payment", "submission", 140, "payout accepted → SUBMITTED")
    saga.step("payment", "callback", 141, "early SUCCESS callback → COMPLETED", early=True)
    completed(saga, 180)
    duplicate = saga.record("ProviderCallbackReceived", 600, status="SUCCESS")
    saga.applied(duplicate, "payment", 605)
    saga.step("payment", "callback", 606, "SUCCESS callback: a duplicate: the payment is already COMPLETED")

    timeline = saga.timeline()

    assert (timeline.status, timeline.waiting) == ("COMPLETED", None)
    check_causal(timeline)
    summaries = [e.summary for e in timeline.entries]
    assert summaries.index(
        f"ProviderCallbackReceived on callback-events[2]@{early.offset} from Callback (status SUCCESS)"
    ) < (summaries.index("payout accepted → SUBMITTED"))
    assert (
        summaries[-2:]
        == [
            "applied ProviderCallbackReceived (group payment)",
            "SUCCESS callback: a duplicate: the payment is already COMPLETED",
        ]
        or summaries[-1] == "stored ProviderCallbackReceived (group dwh)"
    )
    callbacks = [r for r in timeline.records if r.record.ce_type == "ProviderCallbackReceived"]
    assert len(callbacks) == 2 and all(a.applied for r in callbacks for a in r.applications)


def test_inquiries_then_timeout() -> None:
    saga = Saga()
    initiated(saga)
    saga.step("payment", "submission", 110, "payout accepted → SUBMITTED")
    for i, ms in enumerate((1100, 1600, 2100), start=1):
        saga.step("payment", "inquiry", ms, f"inquiry (try {i}): the provider says PROCESSING", attempt=i)
    saga.step("payment", "inquiry", 6100, "inquiry (try 4): the provider says PROCESSING → FAILED (TIMEOUT)")
    failed(saga, 6150, "TIMEOUT", saga.txn)

    timeline = saga.timeline()

    assert (timeline.status, timeline.error_code, timeline.waiting) == ("FAILED", "TIMEOUT", None)
    assert timeline.duration_seconds == 6.15
    assert [e.since_previous for e in timeline.entries if e.kind == "inquiry"][1:] == [0.5, 0.5, 4.0]


def test_late_success_after_the_timeout_is_a_reconciliation_case() -> None:
    saga = Saga()
    initiated(saga)
    saga.step("payment", "submission", 110, "payout accepted → SUBMITTED")
    failed(saga, 6150, "TIMEOUT", saga.txn)
    late = saga.record("ProviderCallbackReceived", 9000, status="SUCCESS")
    saga.applied(late, "payment", 9010)
    saga.step("payment", "callback", 9011, "SUCCESS callback: late: the payment had already FAILED", effect="late")
    saga.step("payment", "case", 9011, "reconciliation case LATE_SUCCESS (open)", caseKind="LATE_SUCCESS")

    timeline = saga.timeline()

    assert (timeline.status, timeline.error_code) == ("FAILED", "TIMEOUT")
    assert [c.details["caseKind"] for c in timeline.cases] == ["LATE_SUCCESS"]
    assert timeline.ended_at == at(6150)  # the final event, not the late callback
    assert timeline.entries[-1].summary in (
        "reconciliation case LATE_SUCCESS (open)",
        "stored ProviderCallbackReceived (group dwh)",
    )


def test_a_dead_lettered_payment_initiated_is_what_the_saga_waits_for() -> None:
    saga = Saga()
    saga.step("wallet", "reservation", 0, "reserved 150.00 RUB")
    saga.state("wallet", "RESERVED", final=False, waiting_for="the payment's outcome", since=at(0))
    record = saga.record("PaymentInitiated", 40, amount=15000, currency="RUB")
    saga.applied_by_all(record, 55, but=("payment",))
    saga.dead_letter(record, "payment", "handler-failed", 900)

    timeline = saga.timeline()

    assert (timeline.status, timeline.final) == ("PENDING", False)
    assert timeline.waiting == (
        "PaymentInitiated was dead-lettered by group payment: handler-failed — replay it from Dead letters"
    )
    assert timeline.waiting_since == at(40)
    [letter] = timeline.dead_letters
    assert letter.topic == "payment-events.dlq"
    [payment] = [a for r in timeline.records for a in r.applications if a.group == "payment"]
    assert (payment.applied, payment.dead_lettered, payment.dead_letter_reason) == (False, True, "handler-failed")
    entry = next(e for e in timeline.entries if e.kind == "dead-letter")
    assert entry.summary.startswith(
        "PaymentInitiated dead-lettered by group payment: handler-failed (RuntimeError: boom)"
    )
    check_causal(timeline)


def test_a_replayed_dead_letter_once_applied_is_not_waited_for() -> None:
    saga = Saga()
    record = saga.record("PaymentInitiated", 40, amount=15000, currency="RUB")
    saga.applied_by_all(record, 55, but=("payment",))
    saga.dead_letter(record, "payment", "handler-failed", 900)
    replayed = saga.record("PaymentInitiated", 5000)
    replayed = replayed.model_copy(update={"ce_id": record.ce_id})  # a replay: the same event again
    saga.records[-1] = replayed
    saga.applied(replayed, "payment", 5010)
    saga.state("payment", "SUBMITTED", final=False, waiting_for="the provider's callback", since=at(5100))

    timeline = saga.timeline(now_ms=6000)

    assert timeline.waiting is not None and timeline.waiting.startswith("waiting for the provider's callback")


def test_waiting_for_payment_to_apply_payment_initiated_with_its_lag() -> None:
    saga = Saga()
    saga.step("wallet", "reservation", 0, "reserved 150.00 RUB")
    record = saga.record("PaymentInitiated", 40, amount=15000, currency="RUB")
    saga.applied_by_all(record, 55, but=("payment",))

    timeline = saga.timeline(lag={"payment": {("payment-events", 2): 3}})

    assert timeline.waiting == "waiting for Payment to apply PaymentInitiated (consumer group payment, lag 3)"
    assert saga.timeline().waiting == (
        "waiting for Payment to apply PaymentInitiated (consumer group payment, lag unknown)"
    )


def test_waiting_for_the_providers_callback_with_the_next_inquiry() -> None:
    saga = Saga()
    initiated(saga)
    saga.step("payment", "submission", 110, "payout accepted → SUBMITTED")
    saga.state(
        "payment",
        "SUBMITTED",
        final=False,
        waiting_for="the provider's callback",
        since=datetime(2026, 12, 2, 12, 1, 3, tzinfo=UTC),
        next_action="inquiry",
        next_action_at=datetime(2026, 12, 2, 12, 1, 8, tzinfo=UTC),
        deadline_at=datetime(2026, 12, 2, 12, 6, 2, tzinfo=UTC),
    )

    timeline = saga.timeline(now_ms=3000)

    assert (timeline.status, timeline.final) == ("PENDING", False)
    assert timeline.waiting == (
        "waiting for the provider's callback since 12:01:03.000; next inquiry at 12:01:08.000; deadline 12:06:02.000"
    )
    assert timeline.next_action_at == datetime(2026, 12, 2, 12, 1, 8, tzinfo=UTC)
    assert timeline.duration_seconds == 3.0  # running for, until now
    late = saga.timeline(now_ms=60_000).waiting
    assert late is not None and "overdue by 54.11 s: is Payment's worker running?" in late


def test_waiting_for_payment_to_apply_the_callback() -> None:
    saga = Saga()
    initiated(saga)
    saga.step("payment", "submission", 110, "payout accepted → SUBMITTED")
    saga.state("payment", "SUBMITTED", final=False, waiting_for="the provider's callback", since=at(110))
    saga.record("ProviderCallbackReceived", 400, status="SUCCESS")

    timeline = saga.timeline(lag={"payment": {("callback-events", 2): 1}})

    assert timeline.waiting == "waiting for Payment to apply ProviderCallbackReceived (consumer group payment, lag 1)"


def test_a_final_payment_waits_for_the_groups_that_have_not_applied_its_outcome() -> None:
    saga = Saga()
    initiated(saga)
    saga.state("payment", "COMPLETED", final=True)
    final = saga.record("PaymentCompleted", 450, providerTxnId=saga.txn)
    saga.applied_by_all(final, 470, but=("wallet",))

    assert saga.timeline(lag={"wallet": {("payment-events", 2): 2}}).waiting == (
        "waiting for Wallet to apply PaymentCompleted (consumer group wallet, lag 2)"
    )
    saga.dead_letter(final, "wallet", "handler-failed", 1000)
    assert saga.timeline().waiting == (
        "PaymentCompleted was dead-lettered by group wallet: handler-failed — replay it from Dead letters"
    )


def test_a_service_that_did_not_answer_is_a_note_not_a_wait() -> None:
    saga = Saga()
    initiated(saga)
    final = completed(saga, 450)
    timeline = build_timeline(
        saga.payment_id,
        records=saga.records,
        inboxes=[
            InboxAnswer(service=s, groups=[SUBSCRIPTIONS[s].group], events=saga.inbox[s])
            for s in saga.inbox
            if s != "notification"
        ],
        steps=[],
        now=at(5000),
        unavailable={"notification": "HTTP 503"},
    )

    assert timeline.waiting is None and timeline.status == "COMPLETED"
    assert timeline.notes == [
        "Notification did not answer: HTTP 503",
    ]
    by_id = {r.record.ce_id: r for r in timeline.records}
    [notification] = [a for a in by_id[final.ce_id].applications if a.service == "notification"]
    assert (notification.applied, notification.known) == (False, False)


def test_a_stopped_service_whose_group_has_not_consumed_the_record_is_waited_for_by_its_offsets() -> None:
    """Notification is down (its inbox unreadable) but Kafka says how far its group committed: short of
    the final record, so the timeline names the group and its lag; past it, the record was applied."""
    saga = Saga()
    first = initiated(saga)
    final = completed(saga, 450)

    def timeline(position: int | None) -> SagaTimeline:
        return build_timeline(
            saga.payment_id,
            records=saga.records,
            inboxes=[
                InboxAnswer(service=s, groups=[SUBSCRIPTIONS[s].group], events=saga.inbox[s])
                for s in saga.inbox
                if s != "notification"
            ],
            steps=[],
            now=at(5000),
            unavailable={"notification": "no answer (ConnectError)"},
            lag={"notification": {("payment-events", 2): 4}},
            committed={"notification": {("payment-events", 2): position}},
        )

    stopped = timeline(final.offset)  # it consumed PaymentInitiated, not PaymentCompleted
    assert stopped.waiting == "waiting for Notification to apply PaymentCompleted (consumer group notification, lag 4)"
    apps = {r.record.ce_id: next(a for a in r.applications if a.service == "notification") for r in stopped.records}
    assert (apps[first.ce_id].applied, apps[first.ce_id].known) == (True, True)
    assert (apps[final.ce_id].applied, apps[final.ce_id].known, apps[final.ce_id].lag) == (False, True, 4)
    never = timeline(None)  # the group never committed on that partition
    assert never.waiting is not None and never.waiting.startswith("waiting for Notification to apply PaymentInitiated")
    assert timeline(final.offset + 1).waiting is None


def test_nothing_known() -> None:
    timeline = build_timeline("p1", records=[], inboxes=[], steps=[], now=T0)
    assert (timeline.status, timeline.final, timeline.entries, timeline.waiting) == ("UNKNOWN", False, [], None)
    assert "nothing known to wait for" in render_text(timeline)


def test_render_text_shows_time_duration_service_and_what_then_the_waiting_line() -> None:
    saga = Saga()
    initiated(saga)
    saga.step("payment", "submission", 110, "payout accepted → SUBMITTED")
    saga.state("payment", "SUBMITTED", final=False, waiting_for="the provider's callback", since=at(110))

    text = render_text(saga.timeline(now_ms=1000))

    lines = text.splitlines()
    assert lines[0] == f"payment {saga.payment_id}  PENDING  running for 1.00 s"
    header = next(i for i, line in enumerate(lines) if line.startswith("TIME"))
    assert lines[header].split() == ["TIME", "+DURATION", "SERVICE", "WHAT"]
    assert lines[header + 1] == "12:01:02.113" + " " * 13 + "Wallet             reserved 150.00 RUB"
    assert lines[header + 2].startswith(
        "12:01:02.153     +40 ms  Kafka              PaymentInitiated on payment-events"
    )
    assert lines[-1] == "waiting for the provider's callback since 12:01:02.223"
