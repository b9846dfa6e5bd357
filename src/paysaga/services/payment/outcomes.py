"""Writing a payment's outcome: its state, the events it raised, the reconciliation cases it opened.

Shared by the worker (handlers.py), the callback handler and the background jobs (orphans.py,
late_inquiries.py). Callers hold the payment's row lock inside a unit of work and commit.
"""

from __future__ import annotations

from datetime import UTC, datetime

import structlog

from paysaga.platform.unit_of_work import Transaction
from paysaga.services.payment import metrics, repository
from paysaga.services.payment.domain import Answer, IllegalTransition, Payment, Status

log = structlog.get_logger("paysaga.payment")


def now() -> datetime:
    return datetime.now(UTC)


async def save(uow: Transaction, payment: Payment, *, keep_lease: bool = False) -> Payment:
    """Write the payment, queue the events it raised and open the cases it found (logged at error
    level the first time: money may have left at the provider while the wallet released it)."""
    await repository.save(uow.conn, payment, keep_lease=keep_lease)
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


async def apply_provider_status(
    uow: Transaction, payment: Payment, provider_status: str, txn: str, *, confirmed: bool
) -> Payment:
    """A final provider status for the payout `txn` of the locked payment — `confirmed` when the
    provider's API said it, not a callback (see Payment.provider_answered); the payment as it is now."""
    if payment.provider_txn_id != txn:
        raise IllegalTransition(payment, f"take an answer about another payout {txn}")
    was_asking = payment.late_inquiry_at is not None
    answer = payment.provider_answered(provider_status, now(), confirmed=confirmed)
    if answer is Answer.TO_CONFIRM:
        log.warning("payment.failure_to_confirm", payment_id=str(payment.payment_id), provider_txn_id=txn)
    if answer is Answer.DUPLICATE:
        log.info("payment.duplicate_callback", payment_id=str(payment.payment_id), status=provider_status)
        if not was_asking:
            return payment  # nothing changed
    return await save(uow, payment)
