"""Payment use cases: record a payment, advance it step by step, apply callbacks, reconcile.

Every state change, and the event it raises, is one transaction on the locked payment row.
External calls (Anti-Fraud, the provider) happen outside any transaction; their result is applied
only if the payment is still in the state the call was made for.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID

import structlog

from paysaga.contracts.events import (
    PaymentCompleted,
    PaymentFailed,
    PaymentInitiated,
    ProviderCallbackReceived,
)
from paysaga.platform.consumer import Delivery
from paysaga.platform.db import Database
from paysaga.platform.unit_of_work import UnitOfWork
from paysaga.services.payment import repository
from paysaga.services.payment.domain import (
    ErrorCode,
    Status,
    callback_case,
    outcome_of_callback,
    retry_delay,
)
from paysaga.services.payment.fraud_client import FraudClient, FraudUnavailable
from paysaga.services.payment.provider_client import (
    FINAL_STATUSES,
    PayoutDeclined,
    ProviderClient,
    ProviderMisconfigured,
    ProviderUnavailable,
)
from paysaga.services.payment.repository import Payment
from paysaga.services.payment.settings import PaymentSettings

log = structlog.get_logger("paysaga.payment")
SOURCE = "/paysaga/payment"


def _now() -> datetime:
    return datetime.now(UTC)


async def _finalize(
    uow: UnitOfWork, payment: Payment, status: Status, error: ErrorCode | None, txn: str | None
) -> None:
    """Write the final state and queue its event; the caller holds the row lock."""
    at = _now()
    await repository.finish(uow.conn, payment.payment_id, status, error, at)
    pid = str(payment.payment_id)
    if status is Status.COMPLETED:
        assert txn is not None
        uow.publish(PaymentCompleted(payment_id=pid, provider_txn_id=txn, completed_at=at))
    else:
        assert error is not None
        uow.publish(PaymentFailed(payment_id=pid, provider_txn_id=txn, error_code=error.value, completed_at=at))
    log_method = log.info if status is Status.COMPLETED else log.warning
    log_method(
        "payment.final",
        payment_id=str(payment.payment_id),
        status=status,
        error_code=error,
        provider_txn_id=txn,
    )


# --- event entry points -------------------------------------------------------------------------


def record_payment_handler(settings: PaymentSettings, wake: Callable[[], None]):  # noqa: ANN201
    async def record_payment(event: PaymentInitiated, uow: UnitOfWork, delivery: Delivery) -> None:
        """PaymentInitiated → a payment due for its first step (the worker picks it up at once)."""
        created = await repository.insert_received(
            uow.conn,
            payment_id=UUID(event.payment_id),
            user_id=UUID(event.user_id),
            wallet_id=UUID(event.wallet_id),
            amount=event.amount,
            currency=event.currency,
            recipient=event.recipient.model_dump(by_alias=True),
            created_at=event.created_at,
            deadline_seconds=settings.deadline_seconds,
        )
        if created:
            uow.after_commit(wake)
            log.info("payment.received", payment_id=event.payment_id, amount=event.amount)

    return record_payment


async def apply_callback(event: ProviderCallbackReceived, uow: UnitOfWork, delivery: Delivery) -> None:
    """ProviderCallbackReceived → the final state; kept for later if the txn id is not stored yet."""
    txn = event.provider_txn_id
    await repository.lock_txn_id(uow.conn, txn)
    payment = await repository.lock_by_txn(uow.conn, txn)
    if payment is None:
        # The provider answered faster than we stored its id: keep it; `submit` applies it.
        await repository.store_early_callback(
            uow.conn,
            provider_txn_id=txn,
            event_id=delivery.meta.id,
            status=event.status,
            received_at=event.received_at,
        )
        log.warning("payment.callback_before_txn_id", provider_txn_id=txn, status=event.status)
        return
    await apply_provider_status(uow, payment, event.status, txn)


async def apply_provider_status(uow: UnitOfWork, payment: Payment, provider_status: str, txn: str) -> None:
    if payment.status is Status.SUBMITTED:
        status, error = outcome_of_callback(provider_status)
        await _finalize(uow, payment, status, error, txn)
        return
    if payment.status.final and payment.late_inquiry_at is not None:
        await repository.end_late_inquiry(uow.conn, payment.payment_id)  # the provider has answered
    case = callback_case(payment.status, provider_status) if payment.status.final else None
    if case is None:
        log.info("payment.duplicate_callback", payment_id=str(payment.payment_id), status=provider_status)
        return
    if await repository.open_case(uow.conn, payment, case, provider_status, txn):
        log.error(
            "payment.reconciliation_case",
            kind=case,
            payment_id=str(payment.payment_id),
            provider_txn_id=txn,
            payment_status=payment.status,
            error_code=payment.error_code,
            provider_status=provider_status,
            action="money may have left at the provider while the wallet released it: reconcile by hand",
        )


# --- worker steps -------------------------------------------------------------------------------


class Steps:
    """One step of a due payment at a time: fraud check, submission, status inquiry."""

    def __init__(self, db: Database, fraud: FraudClient, provider: ProviderClient, settings: PaymentSettings) -> None:
        self.db = db
        self.fraud = fraud
        self.provider = provider
        self.settings = settings

    def _uow(self) -> UnitOfWork:
        return UnitOfWork(self.db, source=SOURCE)

    async def advance(self, payment: Payment) -> None:
        """Take the payment as far as it can go now."""
        if payment.status is Status.RECEIVED:
            payment = await self.check_fraud(payment) or payment
        if payment.status is Status.CHECKED:
            await self.submit(payment)
        elif payment.status is Status.SUBMITTED:
            await self.inquire(payment)

    async def _postpone(self, payment: Payment, error: str | None, delay: float | None = None) -> None:
        delay = (
            delay
            if delay is not None
            else retry_delay(
                payment.attempts + 1,
                initial=self.settings.retry_initial_seconds,
                maximum=self.settings.retry_max_seconds,
            )
        )
        async with self.db.connection() as conn:
            await repository.postpone(conn, payment.payment_id, status=payment.status, delay=delay, error=error)

    async def _timeout_unsent(self, payment: Payment, expected: Status) -> None:
        """The hard deadline passed before the provider accepted the payout: fail it."""
        async with self._uow() as uow:
            current = await repository.lock(uow.conn, payment.payment_id)
            if current is None or current.status is not expected:
                return
            await _finalize(uow, current, Status.FAILED, ErrorCode.TIMEOUT, None)
            await uow.commit()
        if expected is Status.CHECKED and (current.last_error or "").startswith("provider:"):
            # Every submission went unanswered (5xx, timeouts): the provider may still have made the
            # payout. A callback for it is matched later (orphans.py); without one, only a human can ask.
            log.error(
                "payment.timeout_unconfirmed_submission",
                payment_id=str(payment.payment_id),
                attempts=current.attempts,
                last_error=current.last_error,
                action="the provider may hold a payout for this paymentId: check with it before closing",
            )

    async def check_fraud(self, payment: Payment) -> Payment | None:
        if _now() >= payment.deadline_at:
            await self._timeout_unsent(payment, Status.RECEIVED)
            return None
        try:
            verdict = await self.fraud.check(payment)
        except FraudUnavailable as exc:
            # Never through unchecked: wait for Anti-Fraud to answer.
            log.warning("payment.antifraud_unavailable", payment_id=str(payment.payment_id), error=str(exc))
            await self._postpone(payment, f"anti-fraud: {exc}")
            return None
        async with self._uow() as uow:
            current = await repository.lock(uow.conn, payment.payment_id)
            if current is None or current.status is not Status.RECEIVED:
                return None
            if not verdict.allowed:
                log.warning(
                    "payment.fraud_denied",
                    payment_id=str(payment.payment_id),
                    reason=verdict.reason,
                    score=verdict.score,
                )
                await _finalize(uow, current, Status.FAILED, ErrorCode.FRAUD_SUSPECTED, None)
                await uow.commit()
                return None
            checked = await repository.move(
                uow.conn, payment.payment_id, Status.CHECKED, next_attempt_in=0, keep_lease=True
            )
            await uow.commit()
        return checked

    async def submit(self, payment: Payment) -> None:
        if _now() >= payment.deadline_at:
            await self._timeout_unsent(payment, Status.CHECKED)
            return
        try:
            txn = await self.provider.submit(
                payment_id=str(payment.payment_id),
                amount=payment.amount,
                currency=payment.currency,
                recipient=payment.recipient,
            )
        except ProviderUnavailable as exc:
            (log.error if isinstance(exc, ProviderMisconfigured) else log.warning)(
                "payment.provider_unavailable",
                payment_id=str(payment.payment_id),
                error=str(exc),
                attempt=payment.attempts + 1,
            )
            await self._postpone(payment, f"provider: {exc}")
            return
        except PayoutDeclined as exc:
            async with self._uow() as uow:
                current = await repository.lock(uow.conn, payment.payment_id)
                if current is not None and current.status is Status.CHECKED:
                    log.warning("payment.provider_rejected", payment_id=str(payment.payment_id), error=str(exc))
                    await _finalize(uow, current, Status.FAILED, ErrorCode.PROVIDER_REJECTED, None)
                    await uow.commit()
            return
        async with self._uow() as uow:
            await repository.lock_txn_id(uow.conn, txn)
            current = await repository.lock(uow.conn, payment.payment_id)
            if current is None or current.status is not Status.CHECKED:
                return
            submitted = await repository.move(
                uow.conn,
                payment.payment_id,
                Status.SUBMITTED,
                provider_txn_id=txn,
                next_attempt_in=self.settings.inquiry_after_seconds,
            )
            log.info("payment.submitted", payment_id=str(payment.payment_id), provider_txn_id=txn)
            early = await repository.take_early_callbacks(uow.conn, txn)
            for callback in sorted(early, key=lambda c: c["received_at"]):
                await apply_provider_status(uow, submitted, callback["status"], txn)
                relocked = await repository.lock(uow.conn, payment.payment_id)
                assert relocked is not None
                submitted = relocked
            await uow.commit()

    async def inquire(self, payment: Payment) -> None:
        assert payment.provider_txn_id is not None
        try:
            provider_status: str | None = await self.provider.status(payment.provider_txn_id)
        except ProviderUnavailable as exc:
            log.warning("payment.inquiry_failed", payment_id=str(payment.payment_id), error=str(exc))
            provider_status = None
        async with self._uow() as uow:
            current = await repository.lock(uow.conn, payment.payment_id)
            if current is None or current.status is not Status.SUBMITTED:
                return
            if provider_status in FINAL_STATUSES:
                assert provider_status is not None
                log.info("payment.inquiry_final", payment_id=str(payment.payment_id), status=provider_status)
                status, error = outcome_of_callback(provider_status)
                await _finalize(uow, current, status, error, current.provider_txn_id)
            elif _now() >= current.deadline_at:
                await _finalize(uow, current, Status.FAILED, ErrorCode.TIMEOUT, current.provider_txn_id)
                # The provider may settle it yet: keep asking, in case its callback is lost (late_inquiries.py).
                await repository.schedule_late_inquiry(
                    uow.conn,
                    payment.payment_id,
                    first_in_seconds=self.settings.late_inquiry_interval_seconds,
                    horizon_seconds=self.settings.late_inquiry_horizon_seconds,
                )
            else:
                remaining = (current.deadline_at - _now()).total_seconds()
                await repository.postpone(
                    uow.conn,
                    payment.payment_id,
                    status=Status.SUBMITTED,
                    delay=min(self.settings.inquiry_interval_seconds, remaining),
                    error=f"inquiry: {provider_status or 'no answer'}",
                )
            await uow.commit()
