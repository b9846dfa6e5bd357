"""The payment aggregate and its state machine (SPEC §4 steps 5-8), as pure code.

    RECEIVED ──fraud allow──▶ CHECKED ──provider accepted──▶ SUBMITTED ──SUCCESS──▶ COMPLETED
        │                        │                               │
        └─fraud deny─▶ FAILED    └─provider declined─▶ FAILED    ├─FAILED, the provider confirms─▶ FAILED
          (FRAUD_SUSPECTED)        (PROVIDER_REJECTED)           └─deadline, inquiry not final─▶ FAILED(TIMEOUT)

A FAILED callback alone releases nothing: the provider is asked first (SPEC §11). Outages postpone
a step until the hard deadline (the paymentId is the provider's idempotency key, so a retried
submission never pays twice). A final state never changes: a provider answer that disagrees with
it opens a reconciliation case. Time is passed in (`now`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from paysaga.contracts.events import Event, PaymentCompleted, PaymentFailed

FINAL_PROVIDER_STATUSES = ("SUCCESS", "FAILED")


class Status(StrEnum):
    RECEIVED = "RECEIVED"
    CHECKED = "CHECKED"
    SUBMITTED = "SUBMITTED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"

    @property
    def final(self) -> bool:
        return self in (Status.COMPLETED, Status.FAILED)


class ErrorCode(StrEnum):
    FRAUD_SUSPECTED = "FRAUD_SUSPECTED"
    PROVIDER_REJECTED = "PROVIDER_REJECTED"
    PROVIDER_DECLINED = "PROVIDER_DECLINED"
    TIMEOUT = "TIMEOUT"


class CaseKind(StrEnum):
    LATE_SUCCESS = "LATE_SUCCESS"  # the provider paid out a payment we had already failed
    CONFLICTING_CALLBACK = "CONFLICTING_CALLBACK"  # a FAILED callback for a completed payment
    UNCONFIRMED_FAILURE = "UNCONFIRMED_FAILURE"  # a FAILED callback the provider's own status contradicts


class Answer(StrEnum):
    """What a provider's final status did to a payment."""

    FINALIZED = "FINALIZED"  # it ended the payment
    DUPLICATE = "DUPLICATE"  # it agrees with the payment's final state
    CASE = "CASE"  # it disagrees with the final state: a reconciliation case
    TO_CONFIRM = "TO_CONFIRM"  # a FAILED callback: the provider is asked before anything is released


class StepKind(StrEnum):
    """What a line of a payment's history is about."""

    RECEIVED = "received"  # PaymentInitiated recorded
    FRAUD_CHECK = "fraud-check"  # Anti-Fraud's answer (or none)
    SUBMISSION = "submission"  # the payout request to the provider and its answer
    CALLBACK = "callback"  # a provider callback applied (early, duplicate, late, conflicting...)
    INQUIRY = "inquiry"  # the provider asked for the payout's status
    TIMEOUT = "timeout"  # the deadline passed before the provider accepted the payout
    LATE_INQUIRY = "late-inquiry"  # asked again after a timeout
    TXN_ATTACHED = "txn-attached"  # the provider's id of a payout whose answers were lost, found later


_CALLS = (StepKind.FRAUD_CHECK, StepKind.SUBMISSION, StepKind.INQUIRY)  # the steps the worker tries again


@dataclass(frozen=True, slots=True)
class Step:
    """One line of a payment's history: what happened, and what it did to the payment. Written with the
    payment's state, in its transaction."""

    kind: StepKind
    at: datetime
    from_status: Status | None
    to_status: Status
    attempt: int | None  # the worker's try of this step (fraud check, submission, inquiry), from 1
    error_code: str | None  # the payment's error code, when the step failed it
    error: str | None  # why the step did not get on, if it did not
    next_action_at: datetime | None  # when the worker takes the next step
    details: dict[str, Any]


class IllegalTransition(Exception):
    """A change the payment's state does not allow (a bug in the caller, never retried into success)."""

    def __init__(self, payment: Payment, change: str) -> None:
        super().__init__(f"payment {payment.payment_id} in {payment.status}: cannot {change}")
        self.status = payment.status
        self.change = change


class NotAProviderStatus(ValueError):
    """A provider status that does not end a payout (PROCESSING, or garbage) applied as if it did."""


def outcome_of_callback(status: str) -> tuple[Status, ErrorCode | None]:
    """What a provider's final status (callback or inquiry) makes of a submitted payment."""
    if status == "SUCCESS":
        return Status.COMPLETED, None
    if status == "FAILED":
        return Status.FAILED, ErrorCode.PROVIDER_DECLINED
    raise NotAProviderStatus(f"not a final provider status: {status!r}")


def callback_case(current: Status, callback_status: str) -> CaseKind | None:
    """A callback for a payment already final: None if it agrees (a duplicate), else the case to open."""
    agrees = (current is Status.COMPLETED and callback_status == "SUCCESS") or (
        current is Status.FAILED and callback_status == "FAILED"
    )
    if agrees:
        return None
    return CaseKind.LATE_SUCCESS if callback_status == "SUCCESS" else CaseKind.CONFLICTING_CALLBACK


class WaitReason(StrEnum):
    """What a payment waits for, by where it stopped (operators group stuck payments by it)."""

    FRAUD_CHECK = "the fraud check"
    ANTIFRAUD = "Anti-Fraud to answer (retrying)"
    SUBMISSION = "the payout request to be sent"
    PROVIDER = "the provider to accept the payout (retrying)"
    CALLBACK = "the provider's callback"
    CONFIRMATION = "the provider to confirm a FAILED callback"
    LATE_SETTLEMENT = "the provider to settle a payout that timed out"

    @property
    def next_action(self) -> str:
        return _NEXT_ACTIONS[self]


_NEXT_ACTIONS = {
    WaitReason.FRAUD_CHECK: "fraud check",
    WaitReason.ANTIFRAUD: "retry of the fraud check",
    WaitReason.SUBMISSION: "submission",
    WaitReason.PROVIDER: "retry of the submission",
    WaitReason.CALLBACK: "inquiry",
    WaitReason.CONFIRMATION: "inquiry",
    WaitReason.LATE_SETTLEMENT: "late inquiry",
}


def wait_reason(
    status: Status, *, retrying: bool, failure_reported: bool, late_inquiry: bool = False
) -> WaitReason | None:
    """What a payment in `status` waits for: `retrying` when its step failed before, `failure_reported`
    when a FAILED callback waits for the provider's word, `late_inquiry` for a timed-out payout still
    asked about. None: nothing (a final payment)."""
    match status:
        case Status.RECEIVED:
            return WaitReason.ANTIFRAUD if retrying else WaitReason.FRAUD_CHECK
        case Status.CHECKED:
            return WaitReason.PROVIDER if retrying else WaitReason.SUBMISSION
        case Status.SUBMITTED:
            return WaitReason.CONFIRMATION if failure_reported else WaitReason.CALLBACK
    return WaitReason.LATE_SETTLEMENT if late_inquiry else None


@dataclass(frozen=True, slots=True)
class Waiting:
    reason: WaitReason
    since: datetime | None  # None when the payment does not know (the history does)
    next_action_at: datetime | None


@dataclass(frozen=True, slots=True)
class Case:
    """A reconciliation case to open: the provider's answer disagrees with a final payment."""

    kind: CaseKind
    payment_id: UUID
    provider_txn_id: str
    payment_status: Status
    error_code: str | None
    callback_status: str


def _after(now: datetime, seconds: float) -> datetime:
    return now + timedelta(seconds=seconds)


@dataclass(slots=True, eq=False)
class Payment:
    """One payout and where it stands. Methods change it and collect the events and cases to write
    with it (`events`, `cases`); the repository loads and saves it, the caller holds its row lock."""

    payment_id: UUID
    user_id: UUID
    wallet_id: UUID
    amount: int
    currency: str
    recipient: dict[str, Any]
    status: Status
    provider_txn_id: str | None
    error_code: str | None
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None  # when the worker takes its next step; None once final
    created_at: datetime
    submitted_at: datetime | None
    deadline_at: datetime
    completed_at: datetime | None
    late_inquiry_at: datetime | None = None  # a timed-out payout the provider is still asked about
    late_inquiry_until: datetime | None = None
    failure_reported_at: datetime | None = None  # a FAILED callback not confirmed by the provider yet
    traceparent: str | None = None  # W3C context of the event that created it: its steps continue that trace
    events: list[Event] = field(default_factory=list, repr=False)
    cases: list[Case] = field(default_factory=list, repr=False)
    history: list[Step] = field(default_factory=list, repr=False)

    @classmethod
    def receive(
        cls,
        *,
        payment_id: UUID,
        user_id: UUID,
        wallet_id: UUID,
        amount: int,
        currency: str,
        recipient: dict[str, Any],
        created_at: datetime,
        now: datetime,
        deadline_seconds: float,
        traceparent: str | None = None,
        event_id: str | None = None,
    ) -> Payment:
        """A new payment, due for its first step now; it must end by the hard deadline."""
        payment = cls(
            payment_id=payment_id,
            user_id=user_id,
            wallet_id=wallet_id,
            amount=amount,
            currency=currency,
            recipient=recipient,
            status=Status.RECEIVED,
            provider_txn_id=None,
            error_code=None,
            attempts=0,
            last_error=None,
            next_attempt_at=now,
            created_at=created_at,
            submitted_at=None,
            deadline_at=_after(now, deadline_seconds),
            completed_at=None,
            traceparent=traceparent,
        )
        details = {"eventId": event_id, "amount": amount, "currency": currency, "deadlineAt": payment.deadline_at}
        payment.history.append(Step(StepKind.RECEIVED, now, None, Status.RECEIVED, None, None, None, now, details))
        return payment

    def past_deadline(self, now: datetime) -> bool:
        return now >= self.deadline_at

    # --- the worker's steps ---------------------------------------------------------------------

    def fraud_allowed(self, now: datetime) -> None:
        """Anti-Fraud allowed it: submit it to the provider at once."""
        self._require(Status.RECEIVED, "pass the fraud check")
        self._advance(Status.CHECKED, next_attempt_at=now)

    def fraud_denied(self, now: datetime) -> None:
        self._require(Status.RECEIVED, "be denied by Anti-Fraud")
        self._finish(Status.FAILED, ErrorCode.FRAUD_SUSPECTED, now)

    def accepted(self, provider_txn_id: str, now: datetime, *, inquiry_after_seconds: float) -> None:
        """The provider accepted the payout: wait for its callback, ask about it if none comes."""
        self._require(Status.CHECKED, "be accepted by the provider")
        self._advance(Status.SUBMITTED, next_attempt_at=_after(now, inquiry_after_seconds))
        self.provider_txn_id = provider_txn_id
        self.submitted_at = now

    def declined(self, now: datetime) -> None:
        """The provider refused the payout outright (400/422): it was never made."""
        self._require(Status.CHECKED, "be declined by the provider")
        self._finish(Status.FAILED, ErrorCode.PROVIDER_REJECTED, now)

    def postpone(self, now: datetime, *, delay: float, error: str | None) -> None:
        """The step failed for now (an outage) or has to wait: try again after `delay`, but no later
        than the deadline, which is then handled on time."""
        if self.status.final:
            raise IllegalTransition(self, "be postponed")
        self.attempts += 1
        self.last_error = error
        self.next_attempt_at = min(_after(now, delay), max(self.deadline_at, now))

    def time_out(self, now: datetime) -> None:
        """The hard deadline passed before the provider accepted the payout (a submitted payment
        times out through its inquiry: `inquiry_answered`)."""
        if self.status not in (Status.RECEIVED, Status.CHECKED):
            raise IllegalTransition(self, "time out before its inquiry")
        self._expire(now)

    def inquiry_answered(
        self,
        provider_status: str | None,
        now: datetime,
        *,
        interval_seconds: float,
        late_inquiry_in: float,
        late_inquiry_for: float,
    ) -> Answer | None:
        """The status inquiry of a submitted payment (`None`: the provider did not answer). A final
        status ends it; else the deadline does; else it is asked again after `interval_seconds`."""
        self._require(Status.SUBMITTED, "be inquired about")
        if provider_status in FINAL_PROVIDER_STATUSES:
            assert provider_status is not None
            return self.provider_answered(provider_status, now, confirmed=True)
        if self.past_deadline(now):
            # The provider may settle it yet, and its callback may be lost: keep asking (late_inquiries.py).
            self._expire(now)
            self.late_inquiry_at = _after(now, late_inquiry_in)
            self.late_inquiry_until = _after(now, late_inquiry_for)
            return None
        remaining = (self.deadline_at - now).total_seconds()
        self.postpone(now, delay=min(interval_seconds, remaining), error=f"inquiry: {provider_status or 'no answer'}")
        return None

    # --- the provider's final answers (callbacks, inquiries) ------------------------------------

    def provider_answered(self, provider_status: str, now: datetime, *, confirmed: bool) -> Answer:
        """A final provider status (SUCCESS or FAILED) for this payment's payout: `confirmed` when the
        provider's API said it (an inquiry), not when a callback did. It ends a submitted payment —
        except an unconfirmed FAILED, which would release money the provider may still pay out (a
        forged or mistaken callback): the provider is asked at once, and only its FAILED ends it; a
        SUCCESS then opens an UNCONFIRMED_FAILURE case. A final payment keeps its state, and opens a
        case if the answer disagrees with it. Any answer ends the follow-up inquiries."""
        status, error = outcome_of_callback(provider_status)
        if self.provider_txn_id is None or not (self.status is Status.SUBMITTED or self.status.final):
            raise IllegalTransition(self, f"take a {provider_status} answer before it was submitted")
        if self.status is Status.SUBMITTED:
            if status is Status.FAILED and not confirmed:
                self.failure_reported_at = self.failure_reported_at or now
                self.last_error = "FAILED callback: asking the provider to confirm it"
                self.next_attempt_at = now
                return Answer.TO_CONFIRM
            self._finish(status, error, now)
            if status is Status.COMPLETED and self.failure_reported_at is not None:
                self.cases.append(
                    Case(
                        CaseKind.UNCONFIRMED_FAILURE, self.payment_id, self.provider_txn_id, self.status, None, "FAILED"
                    )
                )
            return Answer.FINALIZED
        self.end_late_inquiry()
        kind = callback_case(self.status, provider_status)
        if kind is None:
            return Answer.DUPLICATE
        self.cases.append(
            Case(kind, self.payment_id, self.provider_txn_id, self.status, self.error_code, provider_status)
        )
        return Answer.CASE

    def attach_provider_txn(self, provider_txn_id: str) -> bool:
        """The provider's id of a payout whose answers never reached us (orphans.py): kept, never
        replaced. True if it was new."""
        if self.provider_txn_id == provider_txn_id:
            return False
        if self.provider_txn_id is not None:
            raise IllegalTransition(self, f"take a second provider txn id {provider_txn_id}")
        self.provider_txn_id = provider_txn_id
        return True

    def end_late_inquiry(self) -> None:
        self.late_inquiry_at = None
        self.late_inquiry_until = None

    def late_inquiry_expired(self, now: datetime) -> bool:
        return self.late_inquiry_until is not None and now >= self.late_inquiry_until

    def waiting(self) -> Waiting | None:
        """What the payment waits for now; None when nothing (final, and not followed up)."""
        reason = wait_reason(
            self.status,
            retrying=self.attempts > 0,
            failure_reported=self.failure_reported_at is not None,
            late_inquiry=self.late_inquiry_at is not None,
        )
        match reason:
            case None:
                return None
            case WaitReason.LATE_SETTLEMENT:
                return Waiting(reason, self.completed_at, self.late_inquiry_at)
            case WaitReason.CONFIRMATION:
                return Waiting(reason, self.failure_reported_at, self.next_attempt_at)
            case WaitReason.CALLBACK:
                return Waiting(reason, self.submitted_at, self.next_attempt_at)
            case WaitReason.FRAUD_CHECK | WaitReason.ANTIFRAUD:
                return Waiting(reason, self.created_at, self.next_attempt_at)
        return Waiting(reason, None, self.next_attempt_at)

    # --- history --------------------------------------------------------------------------------

    @contextmanager
    def step(self, kind: StepKind, now: datetime, **details: Any) -> Iterator[dict[str, Any]]:
        """Record what the block does to the payment as one line of its history: the state before and
        after, the try, the error, the next step's time, the events it raised and cases it opened,
        with `details` (the block may add to the dict it gets; an `error` in it is the line's error,
        else the payment's `last_error` if the step did not move it on). A block that raises records
        nothing."""
        before, attempts, events, cases = self.status, self.attempts, len(self.events), len(self.cases)
        yield details
        if published := [e.type_name() for e in self.events[events:]]:
            details["published"] = published
        if opened := [c.kind.value for c in self.cases[cases:]]:
            details["cases"] = opened
        moved = self.status is not before
        error = details.pop("error", None)
        self.history.append(
            Step(
                kind=kind,
                at=now,
                from_status=before,
                to_status=self.status,
                attempt=attempts + 1 if kind in _CALLS else None,
                error_code=self.error_code if moved and self.status is Status.FAILED else None,
                error=error if error is not None or moved or self.status.final else self.last_error,
                next_action_at=self.next_attempt_at,
                details=details,
            )
        )

    def take_steps(self) -> list[Step]:
        steps, self.history = self.history, []
        return steps

    # --- bookkeeping ----------------------------------------------------------------------------

    def take_events(self) -> list[Event]:
        events, self.events = self.events, []
        return events

    def take_cases(self) -> list[Case]:
        cases, self.cases = self.cases, []
        return cases

    def _require(self, expected: Status, change: str) -> None:
        if self.status is not expected:
            raise IllegalTransition(self, change)

    def _advance(self, status: Status, *, next_attempt_at: datetime) -> None:
        """A step forward: a new step starts with no attempts behind it."""
        self.status = status
        self.attempts = 0
        self.last_error = None
        self.next_attempt_at = next_attempt_at

    def _expire(self, now: datetime) -> None:
        if not self.past_deadline(now):
            raise IllegalTransition(self, f"time out before its deadline {self.deadline_at.isoformat()}")
        self._finish(Status.FAILED, ErrorCode.TIMEOUT, now)

    def _finish(self, status: Status, error: ErrorCode | None, now: datetime) -> None:
        self.status = status
        self.error_code = error.value if error else None
        self.completed_at = now
        self.next_attempt_at = None
        pid = str(self.payment_id)
        if status is Status.COMPLETED:
            assert self.provider_txn_id is not None
            self.events.append(PaymentCompleted(payment_id=pid, provider_txn_id=self.provider_txn_id, completed_at=now))
        else:
            assert error is not None
            self.events.append(
                PaymentFailed(
                    payment_id=pid, provider_txn_id=self.provider_txn_id, error_code=error.value, completed_at=now
                )
            )
