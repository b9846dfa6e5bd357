"""A payment's history as its aggregate records it (`Payment.step`) and as operators read it
(history.py): one line per step with the state before and after, the try, the error and the next
step's time; and what a payment waits for."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from paysaga.services.payment import history
from paysaga.services.payment.domain import Payment, Status, Step, StepKind, WaitReason

pytestmark = pytest.mark.unit

T0 = datetime(2026, 12, 2, 12, 0, 0, tzinfo=UTC)
RECIPIENT = {"accountNumber": "40817810700000000001", "bankBic": "044525225", "name": "Ivan Petrov"}


def new_payment() -> Payment:
    return Payment.receive(
        payment_id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        wallet_id=uuid.uuid4(),
        amount=15000,
        currency="RUB",
        recipient=RECIPIENT,
        created_at=T0,
        now=T0,
        deadline_seconds=300,
        event_id="ev-1",
    )


def stored(step: Step) -> dict[str, Any]:
    """The step as the repository reads it back (enums as text, details through jsonb)."""
    row = asdict(step)
    return {
        **row,
        "kind": step.kind.value,
        "from_status": step.from_status.value if step.from_status else None,
        "to_status": step.to_status.value,
        "details": orjson.loads(orjson.dumps(step.details)),
    }


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_receiving_records_the_first_step() -> None:
    payment = new_payment()
    [step] = payment.take_steps()
    assert (step.kind, step.from_status, step.to_status, step.attempt) == (
        StepKind.RECEIVED,
        None,
        Status.RECEIVED,
        None,
    )
    assert step.details == {"eventId": "ev-1", "amount": 15000, "currency": "RUB", "deadlineAt": at(300)}
    assert history.summary(stored(step)) == "recorded the payment: 150.00 RUB, deadline 12:05:00.000"


def test_a_path_with_retries_reads_line_by_line() -> None:
    payment = new_payment()
    payment.take_steps()
    with payment.step(StepKind.FRAUD_CHECK, at(0.1), decision="ALLOW", reason="", score=0.01, latencyMs=3.2):
        payment.fraud_allowed(at(0.1))
    for n, when in enumerate((0.2, 0.5), start=1):
        with payment.step(StepKind.SUBMISSION, at(when), answer="UNAVAILABLE", latencyMs=40):
            payment.postpone(at(when), delay=0.3 * n, error="provider: HTTP 500: boom")
    with payment.step(StepKind.SUBMISSION, at(1.2), answer="ACCEPTED", providerTxnId="ptx_1", latencyMs=35):
        payment.accepted("ptx_1", at(1.2), inquiry_after_seconds=30)
    with payment.step(StepKind.INQUIRY, at(31.2), answer="PROCESSING", latencyMs=12):
        payment.inquiry_answered(
            "PROCESSING", at(31.2), interval_seconds=10, late_inquiry_in=600, late_inquiry_for=86400
        )
    with payment.step(StepKind.CALLBACK, at(33), status="SUCCESS", eventId="ev-2") as noted:
        payment.provider_answered("SUCCESS", at(33), confirmed=False)
        noted["effect"] = "final"

    steps = payment.take_steps()

    assert [(s.kind.value, s.from_status, s.to_status, s.attempt) for s in steps] == [
        ("fraud-check", Status.RECEIVED, Status.CHECKED, 1),
        ("submission", Status.CHECKED, Status.CHECKED, 1),
        ("submission", Status.CHECKED, Status.CHECKED, 2),
        ("submission", Status.CHECKED, Status.SUBMITTED, 3),
        ("inquiry", Status.SUBMITTED, Status.SUBMITTED, 1),
        ("callback", Status.SUBMITTED, Status.COMPLETED, None),
    ]
    assert [s.error for s in steps] == [
        None,
        "provider: HTTP 500: boom",
        "provider: HTTP 500: boom",
        None,
        "inquiry: PROCESSING",
        None,
    ]
    assert steps[-1].details["published"] == ["PaymentCompleted"]
    assert [history.summary(stored(s)) for s in steps] == [
        "Anti-Fraud allowed it (score 0.01, try 1, 3.2 ms) → CHECKED",
        "payout request not answered (try 1, 40 ms): provider: HTTP 500: boom; next try at 12:00:00.500",
        "payout request not answered (try 2, 40 ms): provider: HTTP 500: boom; next try at 12:00:01.100",
        "payout accepted by the provider as ptx_1 (try 3, 35 ms) → SUBMITTED; next inquiry at 12:00:31.200",
        "inquiry (try 1, 12 ms): the provider says PROCESSING; next inquiry at 12:00:41.200",
        "SUCCESS callback → COMPLETED",
    ]


def test_a_denial_a_decline_and_a_timeout_carry_the_error_code() -> None:
    denied = new_payment()
    with denied.step(
        StepKind.FRAUD_CHECK,
        at(0.1),
        decision="DENY",
        reason="RECIPIENT_BLOCKED",
        score=0.99,
        error="RECIPIENT_BLOCKED",
    ):
        denied.fraud_denied(at(0.1))
    [_, step] = denied.take_steps()
    assert (step.to_status, step.error_code, step.error, step.next_action_at) == (
        Status.FAILED,
        "FRAUD_SUSPECTED",
        "RECIPIENT_BLOCKED",
        None,
    )
    assert history.summary(stored(step)) == (
        "Anti-Fraud denied it: RECIPIENT_BLOCKED (score 0.99, try 1) → FAILED (FRAUD_SUSPECTED)"
    )

    submitted = new_payment()
    submitted.fraud_allowed(at(0))
    submitted.accepted("ptx_2", at(0), inquiry_after_seconds=1)
    with submitted.step(StepKind.INQUIRY, at(301), answer="PROCESSING"):
        submitted.inquiry_answered("PROCESSING", at(301), interval_seconds=1, late_inquiry_in=600, late_inquiry_for=9)
    step = submitted.take_steps()[-1]
    assert (step.to_status, step.error_code) == (Status.FAILED, "TIMEOUT")
    assert history.summary(stored(step)) == (
        "inquiry (try 1): the provider says PROCESSING → FAILED (TIMEOUT): the deadline passed"
    )


def test_callbacks_read_as_early_duplicate_late_or_to_confirm() -> None:
    rows = {
        "early": {"status": "SUCCESS", "effect": "final", "early": True},
        "duplicate": {"status": "SUCCESS", "effect": "duplicate"},
        "late": {"status": "SUCCESS", "effect": "late", "cases": ["LATE_SUCCESS"]},
        "to-confirm": {"status": "FAILED", "effect": "to-confirm"},
    }
    statuses = {
        "early": ("SUBMITTED", "COMPLETED"),
        "duplicate": ("COMPLETED", "COMPLETED"),
        "late": ("FAILED", "FAILED"),
        "to-confirm": ("SUBMITTED", "SUBMITTED"),
    }
    read = {
        name: history.summary(
            {
                "kind": "callback",
                "from_status": statuses[name][0],
                "to_status": statuses[name][1],
                "attempt": None,
                "error_code": None,
                "error": None,
                "next_action_at": None,
                "details": details,
            }
        )
        for name, details in rows.items()
    }
    assert read == {
        "early": "early SUCCESS callback → COMPLETED",
        "duplicate": "SUCCESS callback: a duplicate: the payment is already COMPLETED",
        "late": "SUCCESS callback: late: the payment had already FAILED — reconciliation case LATE_SUCCESS",
        "to-confirm": "FAILED callback: the provider is asked to confirm it before any money is released",
    }


def test_what_a_payment_waits_for() -> None:
    payment = new_payment()
    assert payment.waiting() is not None
    assert payment.waiting().reason is WaitReason.FRAUD_CHECK  # type: ignore[union-attr]
    payment.fraud_allowed(at(0.1))
    payment.postpone(at(0.2), delay=1, error="provider: HTTP 500")
    assert payment.waiting().reason is WaitReason.PROVIDER  # type: ignore[union-attr]
    payment.accepted("ptx_3", at(2), inquiry_after_seconds=30)
    state = history.state_view(payment, [])
    assert (state.status, state.final, state.waiting_for, state.since, state.next_action, state.next_action_at) == (
        "SUBMITTED",
        False,
        "the provider's callback",
        at(2),
        "inquiry",
        at(32),
    )
    assert state.deadline_at == at(300)
    payment.provider_answered("FAILED", at(3), confirmed=False)
    state = history.state_view(payment, [])
    assert (state.waiting_for, state.since, state.next_action_at) == (
        "the provider to confirm a FAILED callback",
        at(3),
        at(3),
    )
    payment.provider_answered("SUCCESS", at(4), confirmed=True)
    state = history.state_view(payment, [])
    assert (state.status, state.final, state.waiting_for, state.deadline_at) == ("COMPLETED", True, None, None)


def test_a_step_that_raises_records_nothing() -> None:
    payment = new_payment()
    payment.take_steps()
    with pytest.raises(Exception, match="cannot"), payment.step(StepKind.SUBMISSION, at(1), answer="ACCEPTED"):
        payment.accepted("ptx_4", at(1), inquiry_after_seconds=1)  # still RECEIVED: illegal
    assert payment.take_steps() == []
