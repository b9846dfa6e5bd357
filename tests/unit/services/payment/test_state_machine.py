"""The Payment state machine under any interleaving, without a database (hypothesis, stateful).

The machine plays the worker, the provider, callbacks (duplicate, early, late, conflicting), status
inquiries, the deadline and the follow-up inquiries in any order, on one `Payment`. After every
step: the state never moves backwards, a final state never changes, exactly one final event once
final, and a case is opened exactly when a SUCCESS meets a failed payment (LATE_SUCCESS) or a FAILED
meets a completed one (CONFLICTING_CALLBACK). Whatever happened, driving it past the deadline ends
it in exactly one final state. A change its state does not allow raises IllegalTransition and
changes nothing.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from paysaga.contracts.events import Event, PaymentCompleted, PaymentFailed
from paysaga.services.payment.domain import (
    Answer,
    Case,
    CaseKind,
    ErrorCode,
    IllegalTransition,
    Payment,
    Status,
)

pytestmark = pytest.mark.unit

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DEADLINE = 300.0
INQUIRY_AFTER = 30.0
INQUIRY_INTERVAL = 10.0
LATE_INTERVAL = 600.0
LATE_HORIZON = 3600.0
TXN = "ptx_1"
RANK = {Status.RECEIVED: 0, Status.CHECKED: 1, Status.SUBMITTED: 2, Status.COMPLETED: 3, Status.FAILED: 3}

final_statuses = st.sampled_from(["SUCCESS", "FAILED"])
inquiry_answers = st.sampled_from(["SUCCESS", "FAILED", "PROCESSING", None])  # None: the provider is down


def snapshot(payment: Payment) -> tuple[object, ...]:
    """Every stored field of the payment (not the events, cases and history steps waiting to be written)."""
    return tuple(
        getattr(payment, f.name) for f in dataclasses.fields(payment) if f.name not in ("events", "cases", "history")
    )


def received() -> Payment:
    return Payment.receive(
        payment_id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        wallet_id=uuid.uuid4(),
        amount=100,
        currency="RUB",
        recipient={"accountNumber": "1", "bankBic": "2", "name": "N"},
        created_at=T0,
        now=T0,
        deadline_seconds=DEADLINE,
    )


class PaymentLife(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = T0
        self.payment = received()
        self.status = self.payment.status  # as of the last step
        self.events: list[Event] = []
        self.cases: list[Case] = []
        self.early: list[str] = []  # callbacks that came before the txn id was stored
        self.provider_may_hold_payout = False  # a submission was accepted, or its answer lost
        self.provider_said_failed = False  # the provider's API (not a callback) said FAILED

    # --- helpers --------------------------------------------------------------------------------

    def collect(self) -> None:
        self.events += self.payment.take_events()
        self.cases += self.payment.take_cases()

    def illegal(self, change: Callable[[], object]) -> None:
        before = snapshot(self.payment)
        with pytest.raises(IllegalTransition):
            change()
        assert snapshot(self.payment) == before
        self.collect()
        assert not self.payment.events and not self.payment.cases

    def answer(self, provider_status: str, *, confirmed: bool) -> None:
        """A final provider status for the stored txn id (`confirmed`: from the provider's API, not a
        callback), checked against what it must do."""
        before, cases_before = self.payment.status, len(self.cases)
        reported = self.payment.failure_reported_at is not None
        self.provider_said_failed |= confirmed and provider_status == "FAILED"
        result = self.payment.provider_answered(provider_status, self.now, confirmed=confirmed)
        self.collect()
        new_cases = self.cases[cases_before:]
        if before is Status.SUBMITTED and provider_status == "FAILED" and not confirmed:
            # A failure only a callback reports releases nothing: the provider is asked at once.
            assert result is Answer.TO_CONFIRM
            assert self.payment.status is Status.SUBMITTED and self.payment.failure_reported_at is not None
            assert self.payment.next_attempt_at == self.now
            assert new_cases == [] and not self.events
            return
        if before is Status.SUBMITTED:
            assert result is Answer.FINALIZED
            assert self.payment.status is (Status.COMPLETED if provider_status == "SUCCESS" else Status.FAILED)
            # A success the provider confirms after a reported failure: the report was false.
            expected = [CaseKind.UNCONFIRMED_FAILURE] if reported and provider_status == "SUCCESS" else []
            assert [c.kind for c in new_cases] == expected
            return
        assert before.final and self.payment.status is before  # a final state never changes
        assert self.payment.late_inquiry_at is None  # any answer ends the follow-up inquiries
        if provider_status == "SUCCESS" and before is Status.FAILED:
            assert result is Answer.CASE
            assert [c.kind for c in new_cases] == [CaseKind.LATE_SUCCESS]
        elif provider_status == "FAILED" and before is Status.COMPLETED:
            assert result is Answer.CASE
            assert [c.kind for c in new_cases] == [CaseKind.CONFLICTING_CALLBACK]
        else:
            assert result is Answer.DUPLICATE
            assert new_cases == []
        for case in new_cases:
            assert (case.payment_id, case.provider_txn_id, case.callback_status) == (
                self.payment.payment_id,
                TXN,
                provider_status,
            )
            assert (case.payment_status, case.error_code) == (self.payment.status, self.payment.error_code)

    def worker_times_out(self) -> bool:
        """What the worker does first with a due payment not yet accepted by the provider."""
        if self.payment.past_deadline(self.now):
            self.payment.time_out(self.now)
            self.collect()
            assert (self.payment.status, self.payment.error_code) == (Status.FAILED, ErrorCode.TIMEOUT)
            return True
        return False

    # --- rules ----------------------------------------------------------------------------------

    @rule(seconds=st.floats(0, 200))
    def time_passes(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    @rule(verdict=st.sampled_from(["allow", "deny", "unavailable"]))
    def antifraud_answers(self, verdict: str) -> None:
        if self.payment.status is not Status.RECEIVED:
            self.illegal(lambda: self.payment.fraud_allowed(self.now))
            self.illegal(lambda: self.payment.fraud_denied(self.now))
            return
        if self.worker_times_out():
            return
        if verdict == "allow":
            self.payment.fraud_allowed(self.now)
            assert (self.payment.status, self.payment.attempts) == (Status.CHECKED, 0)
        elif verdict == "deny":
            self.payment.fraud_denied(self.now)
            assert self.payment.error_code == ErrorCode.FRAUD_SUSPECTED
        else:  # never through unchecked: it waits
            attempts = self.payment.attempts
            self.payment.postpone(self.now, delay=5, error="anti-fraud: UNAVAILABLE")
            assert (self.payment.status, self.payment.attempts) == (Status.RECEIVED, attempts + 1)
        self.collect()

    @rule(reply=st.sampled_from(["accepted", "declined", "unavailable"]))
    def provider_answers_the_submission(self, reply: str) -> None:
        if self.payment.status is not Status.CHECKED:
            self.illegal(lambda: self.payment.accepted(TXN, self.now, inquiry_after_seconds=INQUIRY_AFTER))
            self.illegal(lambda: self.payment.declined(self.now))
            return
        if self.worker_times_out():
            return
        if reply == "accepted":
            self.provider_may_hold_payout = True
            self.payment.accepted(TXN, self.now, inquiry_after_seconds=INQUIRY_AFTER)
            assert (self.payment.status, self.payment.provider_txn_id) == (Status.SUBMITTED, TXN)
            assert self.payment.submitted_at == self.now
            self.collect()
            for status in self.early:  # the submission applies the callbacks that came first
                self.answer(status, confirmed=False)
            self.early.clear()
        elif reply == "declined":
            self.payment.declined(self.now)
            assert self.payment.error_code == ErrorCode.PROVIDER_REJECTED
            self.collect()
        else:  # a 5xx, a timeout: the provider may have made the payout all the same
            self.provider_may_hold_payout = True
            self.payment.postpone(self.now, delay=5, error="provider: HTTP 503")
            assert self.payment.status is Status.CHECKED
            assert self.payment.next_attempt_at is not None
            assert self.payment.next_attempt_at <= max(self.payment.deadline_at, self.now)
            self.collect()

    @rule(status=final_statuses, times=st.integers(1, 3))
    def callback_arrives(self, status: str, times: int) -> None:
        for _ in range(times):  # duplicates
            if self.payment.provider_txn_id is None:
                self.early.append(status)  # no payment claims it yet: it waits
            else:
                self.answer(status, confirmed=False)

    @rule()
    def orphan_sweep_matches_waiting_callbacks(self) -> None:
        if not (self.early and self.provider_may_hold_payout and self.payment.status.final):
            return
        assert self.payment.attach_provider_txn(TXN)
        for status in self.early:
            self.answer(status, confirmed=False)
        self.early.clear()

    @rule(reply=inquiry_answers)
    def provider_answers_an_inquiry(self, reply: str | None) -> None:
        def inquire() -> Answer | None:
            return self.payment.inquiry_answered(
                reply,
                self.now,
                interval_seconds=INQUIRY_INTERVAL,
                late_inquiry_in=LATE_INTERVAL,
                late_inquiry_for=LATE_HORIZON,
            )

        if self.payment.status is not Status.SUBMITTED:
            self.illegal(inquire)
            return
        past_deadline = self.payment.past_deadline(self.now)
        self.provider_said_failed |= reply == "FAILED"
        result = inquire()
        self.collect()
        if reply in ("SUCCESS", "FAILED"):
            assert result is Answer.FINALIZED
        elif past_deadline:
            assert (self.payment.status, self.payment.error_code) == (Status.FAILED, ErrorCode.TIMEOUT)
            assert self.payment.late_inquiry_at == self.now + timedelta(seconds=LATE_INTERVAL)
        else:
            assert self.payment.status is Status.SUBMITTED
            assert self.payment.next_attempt_at is not None
            assert self.payment.next_attempt_at <= self.payment.deadline_at

    @rule()
    def deadline_sweep(self) -> None:
        if self.payment.status in (Status.RECEIVED, Status.CHECKED) and self.payment.past_deadline(self.now):
            self.worker_times_out()
        else:
            self.illegal(lambda: self.payment.time_out(self.now))

    @rule(reply=inquiry_answers)
    def late_inquiry(self, reply: str | None) -> None:
        if self.payment.late_inquiry_at is None:
            return
        if reply in ("SUCCESS", "FAILED"):
            assert reply is not None
            self.answer(reply, confirmed=True)
        elif self.payment.late_inquiry_expired(self.now):
            self.payment.end_late_inquiry()
        assert self.payment.status is Status.FAILED

    # --- invariants -----------------------------------------------------------------------------

    @invariant()
    def never_backwards_and_final_is_final(self) -> None:
        status = self.payment.status
        assert RANK[status] >= RANK[self.status]
        if self.status.final:
            assert status is self.status
        self.status = status

    @invariant()
    def only_the_provider_itself_declines_a_payout(self) -> None:
        """A FAILED callback alone never releases the money: PROVIDER_DECLINED needs the provider's word."""
        if self.payment.error_code == ErrorCode.PROVIDER_DECLINED:
            assert self.provider_said_failed

    @invariant()
    def exactly_one_final_event_once_final(self) -> None:
        payment = self.payment
        if not payment.status.final:
            assert self.events == []
            assert payment.completed_at is None and payment.next_attempt_at is not None
            return
        [event] = self.events
        assert payment.completed_at is not None and payment.next_attempt_at is None
        if payment.status is Status.COMPLETED:
            assert isinstance(event, PaymentCompleted)
            assert event.provider_txn_id == TXN
        else:
            assert isinstance(event, PaymentFailed)
            assert event.error_code == payment.error_code

    @invariant()
    def stored_shape(self) -> None:
        payment = self.payment
        if payment.status is Status.SUBMITTED:
            assert payment.provider_txn_id == TXN
        if payment.late_inquiry_at is not None:  # as the table's CHECK demands
            assert payment.status is Status.FAILED and payment.provider_txn_id is not None
            assert payment.late_inquiry_until is not None

    def teardown(self) -> None:
        """However it went, the worker ends it by the deadline: exactly one final state."""
        self.now = max(self.now, self.payment.deadline_at)
        if self.payment.status in (Status.RECEIVED, Status.CHECKED):
            self.payment.time_out(self.now)
        elif self.payment.status is Status.SUBMITTED:
            self.payment.inquiry_answered(
                "PROCESSING",
                self.now,
                interval_seconds=INQUIRY_INTERVAL,
                late_inquiry_in=LATE_INTERVAL,
                late_inquiry_for=LATE_HORIZON,
            )
        self.collect()
        assert self.payment.status.final
        assert len(self.events) == 1


PaymentLife.TestCase.settings = settings(max_examples=200, stateful_step_count=40, deadline=None)
TestPaymentLife = PaymentLife.TestCase


def test_a_provider_status_that_is_not_final_changes_nothing() -> None:
    payment = received()
    payment.fraud_allowed(T0)
    payment.accepted(TXN, T0, inquiry_after_seconds=INQUIRY_AFTER)
    before = snapshot(payment)
    with pytest.raises(ValueError, match="not a final provider status"):
        payment.provider_answered("PROCESSING", T0, confirmed=True)
    assert snapshot(payment) == before


def test_an_answer_before_submission_is_an_illegal_transition() -> None:
    payment = received()
    with pytest.raises(IllegalTransition) as caught:
        payment.provider_answered("SUCCESS", T0, confirmed=False)
    assert caught.value.status is Status.RECEIVED


def test_a_second_provider_txn_id_is_refused() -> None:
    payment = received()
    payment.fraud_allowed(T0)
    payment.accepted(TXN, T0, inquiry_after_seconds=INQUIRY_AFTER)
    assert not payment.attach_provider_txn(TXN)
    with pytest.raises(IllegalTransition):
        payment.attach_provider_txn("ptx_other")


def test_a_timeout_before_the_deadline_is_refused() -> None:
    payment = received()
    with pytest.raises(IllegalTransition):
        payment.time_out(T0 + timedelta(seconds=DEADLINE - 1))
    payment.time_out(T0 + timedelta(seconds=DEADLINE))
    assert (payment.status, payment.error_code) == (Status.FAILED, ErrorCode.TIMEOUT)


def test_a_postponed_step_is_due_by_the_deadline_at_the_latest() -> None:
    payment = received()
    payment.postpone(T0 + timedelta(seconds=DEADLINE - 1), delay=60, error="anti-fraud: down")
    assert payment.next_attempt_at == payment.deadline_at
    assert (payment.attempts, payment.last_error) == (1, "anti-fraud: down")
