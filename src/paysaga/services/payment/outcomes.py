"""Writing a payment's outcome: its state, the events it raised, the reconciliation cases it opened.

Shared by the worker (handlers.py), the callback handler and the background jobs (orphans.py,
late_inquiries.py). Callers hold the payment's row lock inside a unit of work and commit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import structlog

from paysaga.platform.unit_of_work import Transaction
from paysaga.services.payment import metrics, repository
from paysaga.services.payment.domain import Answer, CaseKind, IllegalTransition, Payment, Status, StepKind

log = structlog.get_logger("paysaga.payment")


def now() -> datetime:
    return datetime.now(UTC)


async def save(uow: Transaction, payment: Payment, *, keep_lease: bool = False) -> Payment:
    """Write the payment with the steps of its history, queue the events it raised and open the cases
    it found (logged at error level the first time: money may have left at the provider while the
    wallet released it)."""
    await repository.save(uow.conn, payment, payment.take_steps(), keep_lease=keep_lease)
    for event in payment.take_events():
        uow.publish(event)
        uow.after_commit(metrics.finished(payment))
        (log.info if payment.status is Status.COMPLETED else log.warning)(
            "payment.final",
            payment_id=str(payment.payment_id),
            status=payment.status,
            error_code=payment.error_code,
            provider_txn_id=payment.provider_txn_id,
        )
    for case in payment.take_cases():
        if await repository.add_case(uow.conn, case):
            log.error(
                "payment.reconciliation_case",
                kind=case.kind,
                payment_id=str(case.payment_id),
                provider_txn_id=case.provider_txn_id,
                payment_status=case.payment_status,
                error_code=case.error_code,
                provider_status=case.callback_status,
                action="money may have left at the provider while the wallet released it: reconcile by hand",
            )
    return payment


_EFFECTS = {Answer.FINALIZED: "final", Answer.TO_CONFIRM: "to-confirm", Answer.DUPLICATE: "duplicate"}


def effect(answer: Answer, payment: Payment) -> str:
    """How a provider's answer is told apart in the payment's history: it ended the payment (final),
    waits for the provider's word (to-confirm), agrees with the final state (duplicate), or came
    after it disagreeing: a SUCCESS after a failure (late), a FAILED after a success (conflicting)."""
    if answer is Answer.CASE:
        return "late" if payment.cases and payment.cases[-1].kind is CaseKind.LATE_SUCCESS else "conflicting"
    return _EFFECTS[answer]


async def apply_provider_status(
    uow: Transaction,
    payment: Payment,
    provider_status: str,
    txn: str,
    *,
    confirmed: bool,
    step: StepKind = StepKind.CALLBACK,
    details: dict[str, Any] | None = None,
) -> Payment:
    """A final provider status for the payout `txn` of the locked payment — `confirmed` when the
    provider's API said it, not a callback (see Payment.provider_answered); the payment as it is now.
    Recorded in its history as a `step` (a callback, or a late inquiry) with `details`."""
    if payment.provider_txn_id != txn:
        raise IllegalTransition(payment, f"take an answer about another payout {txn}")
    was_asking = payment.late_inquiry_at is not None
    at = now()
    with payment.step(step, at, status=provider_status, **(details or {})) as noted:
        answer = payment.provider_answered(provider_status, at, confirmed=confirmed)
        noted["effect"] = effect(answer, payment)
    if answer is Answer.TO_CONFIRM:
        log.warning("payment.failure_to_confirm", payment_id=str(payment.payment_id), provider_txn_id=txn)
    if answer is Answer.DUPLICATE:
        log.info("payment.duplicate_callback", payment_id=str(payment.payment_id), status=provider_status)
        if not was_asking:  # nothing changed but its history
            await repository.add_steps(uow.conn, payment.payment_id, payment.take_steps())
            return payment
    return await save(uow, payment)
