"""Each service's history of a payment (its `history.py`), from what its repository reads: the steps
in the shared shape (contracts.ops) and whether the payment is done there or what it waits for."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from paysaga.services.antifraud import history as antifraud
from paysaga.services.antifraud.domain import CheckRecord, Decision, PaymentToCheck, Reason, Velocity, Verdict
from paysaga.services.core_banking import history as core_banking
from paysaga.services.core_banking.domain import EntryKind, JournalEntry, Line, Side
from paysaga.services.core_banking.repository import UnpostedCompletion
from paysaga.services.merchant_callback import history as merchant_callback
from paysaga.services.merchant_callback.domain import DeliveryStatus
from paysaga.services.merchant_callback.repository import AttemptRow, DeliveryRow
from paysaga.services.notification import history as notification
from paysaga.services.notification.domain import Channel, Language, Outcome, Status
from paysaga.services.notification.repository import Notification
from paysaga.services.query import history as query
from paysaga.services.wallet import history as wallet
from paysaga.services.wallet.domain import Reservation, ReservationStatus

pytestmark = pytest.mark.unit

T0 = datetime(2026, 12, 2, 12, 0, 0, tzinfo=UTC)
PID = str(uuid.uuid4())


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_wallet_reservation_and_settlement() -> None:
    reservation = Reservation(uuid.UUID(PID), uuid.uuid4(), 15000, "RUB", {}, ReservationStatus.RESERVED, at(0))
    entries = [
        {
            "entry_id": 7,
            "kind": "RESERVE",
            "amount": 15000,
            "balance_after": 100000,
            "reserved_after": 15000,
            "created_at": at(0),
        }
    ]

    held = wallet.payment_steps(PID, reservation, entries)
    assert [s.summary for s in held.steps] == [
        "reserved 150.00 RUB (balance 1000.00 RUB, reserved 150.00 RUB, available 850.00 RUB)"
    ]
    assert held.state is not None and (held.state.status, held.state.final, held.state.since) == (
        "RESERVED",
        False,
        at(0),
    )

    entries.append(
        {
            "entry_id": 9,
            "kind": "PAYOUT",
            "amount": 15000,
            "balance_after": 85000,
            "reserved_after": 0,
            "created_at": at(2),
        }
    )
    settled = wallet.payment_steps(PID, replace(reservation, status=ReservationStatus.COMMITTED), entries)
    assert [s.kind for s in settled.steps] == ["reservation", "settlement"]
    assert settled.steps[1].summary.startswith("committed the reservation: 150.00 RUB paid out (balance 850.00 RUB")
    assert settled.state is not None and settled.state.final and settled.state.waiting_for is None
    assert wallet.payment_steps(PID, None, []).state is None


def test_query_read_model() -> None:
    row = {
        "payment_id": PID,
        "user_id": uuid.uuid4(),
        "status": "FAILED",
        "amount": 15000,
        "currency": "RUB",
        "recipient": {},
        "provider_txn_id": None,
        "error_code": "FRAUD_SUSPECTED",
        "created_at": at(0),
        "updated_at": at(1),
        "status_at": at(1),
        "wallet_id": None,
        "refreshed_at": at(1.2),
    }
    steps = query.payment_steps(PID, row)
    assert [(s.at, s.summary) for s in steps.steps] == [
        (at(1.2), "the customer sees FAILED (FRAUD_SUSPECTED): 150.00 RUB")
    ]
    assert steps.state is not None and steps.state.final
    pending = query.payment_steps(PID, {**row, "status": "PENDING", "error_code": None, "refreshed_at": None})
    assert pending.steps[0].at == at(1)  # a row from before refreshed_at: its last event's time
    assert pending.state is not None and pending.state.waiting_for is not None and not pending.state.final


def test_antifraud_decision_with_reasons_and_velocity() -> None:
    check = CheckRecord(
        payment=PaymentToCheck(PID, "u", "w", 15000, "RUB", "40817810700000000001", "044525225", "P", at(0)),
        verdict=Verdict(Decision.DENY, (Reason.VELOCITY_COUNT, Reason.RECIPIENT_BLOCKED), 0.99),
        velocity=Velocity(count=6, total=90000),
        checked_at=at(0.1),
    )
    steps = antifraud.payment_steps(PID, check, {"learned_from": "check", "recorded_at": at(0.1)}, None)
    assert steps.steps[0].summary == (
        "DENY: VELOCITY_COUNT, RECIPIENT_BLOCKED (score 0.99; 6 payments, 900.00 RUB in the window)"
    )
    assert steps.steps[0].details["reasons"] == ["VELOCITY_COUNT", "RECIPIENT_BLOCKED"]
    assert steps.state is not None and steps.state.status == "DENY" and steps.state.final


def _notification(status: Status, attempts: int, **more: object) -> Notification:
    fields: dict[str, object] = {
        "notification_id": 1,
        "payment_id": PID,
        "channel": Channel.SMS,
        "user_id": "u",
        "event_type": Outcome.COMPLETED,
        "language": Language.RU,
        "title": "t",
        "message": "m",
        "status": status,
        "attempts": attempts,
        "last_error": None,
        "next_attempt_at": None,
        "lease_token": None,
        "gateway_message_id": None,
        "created_at": at(1),
        "updated_at": at(3),
        "sent_at": None,
    }
    return Notification(**{**fields, **more})  # type: ignore[arg-type]


def test_notifications_sent_or_retrying() -> None:
    sent = notification.payment_steps(PID, [_notification(Status.SENT, 1, sent_at=at(2), gateway_message_id="g1")])
    assert [s.summary for s in sent.steps] == [
        "queued SMS about PaymentCompleted",
        "sent SMS about PaymentCompleted (1 attempt, gateway message g1)",
    ]
    assert sent.state is not None and sent.state.final
    retrying = notification.payment_steps(
        PID, [_notification(Status.PENDING, 2, last_error="timeout", next_attempt_at=at(9))]
    )
    assert retrying.steps[-1].summary == "SMS about PaymentCompleted: 2 attempts failed (timeout); next at 12:00:09.000"
    assert retrying.state is not None and not retrying.state.final
    assert (retrying.state.waiting_for, retrying.state.next_action_at) == ("the SMS gateway to take the message", at(9))


def test_webhook_attempts_and_dead_letter() -> None:
    delivery_id = uuid.uuid4()
    delivery = DeliveryRow(
        delivery_id,
        PID,
        uuid.uuid4(),
        "https://m.example/hook",
        "PaymentCompleted",
        "{}",
        DeliveryStatus.DEAD,
        2,
        None,
        at(100),
        at(50),
        500,
        "HTTP 500",
        at(1),
        None,
        at(60),
    )
    attempts = [
        AttemptRow(delivery_id, at(2), 31.0, 500, "HTTP 500", False),
        AttemptRow(delivery_id, at(50), 12.4, None, "connection refused", False),
    ]
    steps = merchant_callback.payment_steps(PID, [delivery], {delivery_id: attempts})
    assert [s.summary for s in steps.steps] == [
        "queued the PaymentCompleted webhook to https://m.example/hook",
        "webhook attempt 1 to https://m.example/hook: HTTP 500, 31 ms — failed: HTTP 500",
        "webhook attempt 2 to https://m.example/hook: no answer, 12 ms — failed: connection refused",
        "gave up on the webhook to https://m.example/hook after 2 attempts: dead-lettered, redeliver it by hand",
    ]
    assert steps.state is not None and steps.state.final


def test_core_banking_entry_or_a_completion_waiting_for_its_amount() -> None:
    entry = JournalEntry(
        entry_id=3,
        kind=EntryKind.PAYOUT,
        lines=(Line("2100", "RUB", Side.DEBIT, 15000), Line("1100", "RUB", Side.CREDIT, 15000)),
        description="payout",
        effective_at=at(2),
        posted_at=at(2.1),
        payment_id=PID,
    )
    known = {"amount": 15000, "currency": "RUB", "initiated_at": at(0), "recorded_at": at(0.1)}
    posted = core_banking.payment_steps(PID, known, [entry], None)
    assert [s.summary for s in posted.steps] == [
        "learned the amount from PaymentInitiated: 150.00 RUB",
        "posted journal entry 3 (PAYOUT): Dr 2100 150.00 RUB / Cr 1100 150.00 RUB",
    ]
    assert posted.state is not None and (posted.state.status, posted.state.final) == ("POSTED", True)
    waiting = core_banking.payment_steps(PID, None, [], UnpostedCompletion(PID, "ptx", at(2), "ev", at(2.2)))
    assert waiting.state is not None and not waiting.state.final and waiting.state.since == at(2.2)
    assert core_banking.payment_steps(PID, None, [], None).state is None
