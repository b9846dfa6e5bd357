"""Payment use cases: record a payment, apply a callback, and the worker's steps.

Every state change, and the event it raises, is one transaction on the locked payment row.
External calls (Anti-Fraud, the provider) happen outside any transaction; their result is applied
only if the payment is still in the state the call was made for.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import structlog

from paysaga.contracts.events import PaymentInitiated, ProviderCallbackReceived
from paysaga.platform.backoff import backoff_delay
from paysaga.platform.consumer import Delivery
from paysaga.platform.db import Database
from paysaga.platform.tracing import current_traceparent, resumed
from paysaga.platform.unit_of_work import Transaction, UnitOfWork
from paysaga.services.payment import outcomes, repository
from paysaga.services.payment.domain import FINAL_PROVIDER_STATUSES, Payment, Status, StepKind
from paysaga.services.payment.fraud_client import FraudCheck, FraudUnavailable
from paysaga.services.payment.outcomes import apply_provider_status, now
from paysaga.services.payment.provider_client import (
    PayoutDeclined,
    ProviderClient,
    ProviderMisconfigured,
    ProviderUnavailable,
)
from paysaga.services.payment.settings import PaymentSettings

log = structlog.get_logger("paysaga.payment")

# A step on the locked payment, given the transaction it runs in; it saves what it changed.
Step = Callable[[UnitOfWork, Payment], Awaitable[None]]


def _ms_since(started: float) -> float:
    """Milliseconds since `started` (time.monotonic()): a call's latency, for the payment's history."""
    return round((time.monotonic() - started) * 1000, 1)


# --- event entry points -------------------------------------------------------------------------


def record_payment_handler(settings: PaymentSettings, wake: Callable[[], None]):  # noqa: ANN201
    async def record_payment(event: PaymentInitiated, uow: Transaction, delivery: Delivery) -> None:
        """PaymentInitiated → a payment due for its first step (the worker picks it up at once)."""
        payment = Payment.receive(
            payment_id=UUID(event.payment_id),
            user_id=UUID(event.user_id),
            wallet_id=UUID(event.wallet_id),
            amount=event.amount,
            currency=event.currency,
            recipient=event.recipient.model_dump(by_alias=True),
            created_at=event.created_at,
            now=now(),
            deadline_seconds=settings.deadline_seconds,
            traceparent=current_traceparent(),  # this record's processing: the worker's steps continue it
            event_id=delivery.meta.id,
        )
        if await repository.add(uow.conn, payment, payment.take_steps()):
            uow.after_commit(wake)
            log.debug("payment.received", payment_id=event.payment_id, amount=event.amount)

    return record_payment


async def apply_callback(event: ProviderCallbackReceived, uow: Transaction, delivery: Delivery) -> None:
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
    details = {"eventId": delivery.meta.id, "receivedAt": event.received_at}
    await apply_provider_status(uow, payment, event.status, txn, confirmed=False, details=details)


# --- worker steps -------------------------------------------------------------------------------


class Steps:
    """One step of a due payment at a time: fraud check, submission, status inquiry."""

    def __init__(
        self, db: Database, fraud: FraudCheck, provider: ProviderClient, settings: PaymentSettings, *, source: str
    ) -> None:
        self.db = db
        self.source = source
        self.fraud = fraud
        self.provider = provider
        self.settings = settings

    async def advance(self, payment: Payment) -> None:
        """Take the payment as far as it can go now (a span in the payment's trace)."""
        with resumed("advance payment", payment.traceparent, **{"payment.status": payment.status.value}):
            if payment.status is Status.RECEIVED:
                payment = await self.check_fraud(payment) or payment
            if payment.status is Status.CHECKED:
                await self.submit(payment)
            elif payment.status is Status.SUBMITTED:
                await self.inquire(payment)

    async def _locked_step(self, payment: Payment, step: Step, *, txn: str | None = None) -> Payment | None:
        """Lock the payment and run `step` on it, if it is still in the state it was claimed in: a
        worker whose lease ran out must not touch what another moved on. `txn`: also hold that
        provider txn id's lock (see repository.lock_txn_id). The payment after the step, committed;
        None if it had moved on."""
        async with UnitOfWork(self.db, source=self.source) as uow:
            if txn is not None:
                await repository.lock_txn_id(uow.conn, txn)
            current = await repository.lock(uow.conn, payment.payment_id)
            if current is None or current.status is not payment.status:
                return None
            await step(uow, current)
            await uow.commit()
        return current

    async def _postpone(self, payment: Payment, error: str, step: StepKind, details: dict[str, Any]) -> None:
        """The step's call failed for now: try again after a backoff."""

        async def postpone(uow: UnitOfWork, current: Payment) -> None:
            delay = backoff_delay(
                current.attempts + 1,
                initial=self.settings.retry_initial_seconds,
                maximum=self.settings.retry_max_seconds,
            )
            at = now()
            with current.step(step, at, **details):
                current.postpone(at, delay=delay, error=error)
            await outcomes.save(uow, current)

        await self._locked_step(payment, postpone)

    async def _time_out(self, payment: Payment) -> None:
        """The hard deadline passed before the provider accepted the payout: fail it."""

        async def time_out(uow: UnitOfWork, current: Payment) -> None:
            at = now()
            with current.step(StepKind.TIMEOUT, at, deadlineAt=current.deadline_at, error=current.last_error):
                current.time_out(at)
            await outcomes.save(uow, current)

        current = await self._locked_step(payment, time_out)
        if (
            current is not None
            and payment.status is Status.CHECKED
            and (current.last_error or "").startswith("provider:")
        ):
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
        """RECEIVED → CHECKED (allowed) or FAILED (denied); Anti-Fraud unavailable: try again later,
        never through unchecked. The checked payment, still leased, if the worker may go on with it."""
        if payment.past_deadline(now()):
            await self._time_out(payment)
            return None
        started = time.monotonic()
        try:
            verdict = await self.fraud.check(payment)
        except FraudUnavailable as exc:
            log.warning("payment.antifraud_unavailable", payment_id=str(payment.payment_id), error=str(exc))
            answer = {"decision": "UNAVAILABLE", "latencyMs": _ms_since(started)}
            await self._postpone(payment, f"anti-fraud: {exc}", StepKind.FRAUD_CHECK, answer)
            return None
        latency = _ms_since(started)

        async def apply_verdict(uow: UnitOfWork, current: Payment) -> None:
            at = now()
            decision = "ALLOW" if verdict.allowed else "DENY"
            answer = {"decision": decision, "reason": verdict.reason, "score": verdict.score, "latencyMs": latency}
            with current.step(StepKind.FRAUD_CHECK, at, **answer, error=None if verdict.allowed else verdict.reason):
                if verdict.allowed:
                    current.fraud_allowed(at)
                else:
                    current.fraud_denied(at)
            if verdict.allowed:
                await outcomes.save(uow, current, keep_lease=True)  # the worker submits it next
                return
            log.warning(
                "payment.fraud_denied", payment_id=str(payment.payment_id), reason=verdict.reason, score=verdict.score
            )
            await outcomes.save(uow, current)

        checked = await self._locked_step(payment, apply_verdict)
        return checked if checked is not None and checked.status is Status.CHECKED else None

    async def submit(self, payment: Payment) -> None:
        """CHECKED → SUBMITTED (accepted; callbacks that came first are applied now) or FAILED
        (declined); no definite answer: try again later with the same paymentId."""
        if payment.past_deadline(now()):
            await self._time_out(payment)
            return
        started = time.monotonic()
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
            answer = {"answer": "UNAVAILABLE", "latencyMs": _ms_since(started)}
            await self._postpone(payment, f"provider: {exc}", StepKind.SUBMISSION, answer)
            return
        except PayoutDeclined as declined:
            reason, latency = str(declined), _ms_since(started)

            async def decline(uow: UnitOfWork, current: Payment) -> None:
                log.warning("payment.provider_rejected", payment_id=str(payment.payment_id), error=reason)
                at = now()
                with current.step(StepKind.SUBMISSION, at, answer="DECLINED", error=reason, latencyMs=latency):
                    current.declined(at)
                await outcomes.save(uow, current)

            await self._locked_step(payment, decline)
            return
        latency = _ms_since(started)

        async def accept(uow: UnitOfWork, current: Payment) -> None:
            at = now()
            with current.step(StepKind.SUBMISSION, at, answer="ACCEPTED", providerTxnId=txn, latencyMs=latency):
                current.accepted(txn, at, inquiry_after_seconds=self.settings.inquiry_after_seconds)
            await outcomes.save(uow, current)
            log.debug("payment.submitted", payment_id=str(payment.payment_id), provider_txn_id=txn)
            for callback in await repository.take_early_callbacks(uow.conn, txn):
                details = {"eventId": callback.event_id, "receivedAt": callback.received_at, "early": True}
                await apply_provider_status(uow, current, callback.status, txn, confirmed=False, details=details)

        await self._locked_step(payment, accept, txn=txn)

    async def inquire(self, payment: Payment) -> None:
        """SUBMITTED, no callback yet: ask the provider. A final status ends it, else the deadline
        does (TIMEOUT, and the provider is asked again later: late_inquiries.py)."""
        assert payment.provider_txn_id is not None
        started = time.monotonic()
        error: str | None = None
        try:
            provider_status: str | None = await self.provider.status(payment.provider_txn_id)
        except ProviderUnavailable as exc:
            log.warning("payment.inquiry_failed", payment_id=str(payment.payment_id), error=str(exc))
            provider_status, error = None, str(exc)
        answer = {"answer": provider_status or "NO ANSWER", "latencyMs": _ms_since(started)}
        if error is not None:
            answer["providerError"] = error

        async def apply_answer(uow: UnitOfWork, current: Payment) -> None:
            if provider_status in FINAL_PROVIDER_STATUSES:
                log.info("payment.inquiry_final", payment_id=str(payment.payment_id), status=provider_status)
            at = now()
            with current.step(StepKind.INQUIRY, at, **answer):
                current.inquiry_answered(
                    provider_status,
                    at,
                    interval_seconds=self.settings.inquiry_interval_seconds,
                    late_inquiry_in=self.settings.late_inquiry_interval_seconds,
                    late_inquiry_for=self.settings.late_inquiry_horizon_seconds,
                )
            await outcomes.save(uow, current)

        await self._locked_step(payment, apply_answer)
