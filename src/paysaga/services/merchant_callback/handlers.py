"""Merchant Callback use cases: learn payments from payment-events, schedule one webhook per
(payment, subscription) on its final event, manage subscriptions, redeliver dead webhooks.

The event handlers run in the consumer's transaction (the inbox claim is in it) and only write
rows; the dispatcher sends the webhooks afterwards. The payment row is locked first, so the
PaymentInitiated and the final event of one payment are applied one after the other whatever
their order of arrival.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID, uuid4

import structlog

from paysaga.contracts.events import PaymentCompleted, PaymentFailed, PaymentInitiated
from paysaga.platform.consumer import Delivery
from paysaga.platform.unit_of_work import Transaction, UnitOfWork
from paysaga.services.merchant_callback import repository
from paysaga.services.merchant_callback.domain import (
    DeliveryNotDead,
    DeliveryNotFound,
    DeliveryStatus,
    FinalPayment,
    Outcome,
    RetryPolicy,
    SubscriptionDeleted,
    SubscriptionExists,
    webhook_body,
)
from paysaga.services.merchant_callback.repository import DeliveryRow, PaymentFacts, Subscription
from paysaga.services.merchant_callback.secretbox import SecretBox

log = structlog.get_logger("paysaga.merchant_callback")


def _now() -> datetime:
    return datetime.now(UTC)


class PaymentEventHandlers:
    """PaymentInitiated, PaymentCompleted and PaymentFailed → payment facts and due deliveries."""

    def __init__(self, policy: RetryPolicy, wake_dispatcher: Callable[[], None]) -> None:
        self._policy = policy
        self._wake = wake_dispatcher

    async def initiated(self, event: PaymentInitiated, uow: Transaction, delivery: Delivery) -> None:
        """Remember whom the payment goes to, and how much (the final events do not say)."""
        facts = await repository.lock_payment(uow.conn, event.payment_id)
        if facts.account_number is not None:
            return  # the same payment published again: its details do not change
        account = event.recipient.account_number
        await repository.set_initiated(
            uow.conn,
            event.payment_id,
            account_number=account,
            amount=event.amount,
            currency=event.currency,
            at=event.created_at,
        )
        if facts.outcome is not None:
            # The final event came first (a redelivery or a replay out of order): schedule now.
            log.info("merchant_callback.initiated_after_final", payment_id=event.payment_id)
            await self._schedule(uow, facts, account_number=account, amount=event.amount, currency=event.currency)

    async def completed(self, event: PaymentCompleted, uow: Transaction, delivery: Delivery) -> None:
        await self._final(uow, event.payment_id, Outcome.COMPLETED, event.provider_txn_id, None, event.completed_at)

    async def failed(self, event: PaymentFailed, uow: Transaction, delivery: Delivery) -> None:
        await self._final(
            uow, event.payment_id, Outcome.FAILED, event.provider_txn_id, event.error_code, event.completed_at
        )

    async def _final(
        self,
        uow: Transaction,
        payment_id: str,
        outcome: Outcome,
        provider_txn_id: str | None,
        error_code: str | None,
        completed_at: datetime,
    ) -> None:
        facts = await repository.lock_payment(uow.conn, payment_id)
        if facts.outcome is not None:
            if facts.outcome is not outcome:
                # Payment never changes a final state; if two outcomes still arrive, the first one
                # stays the only one merchants hear of.
                log.error(
                    "merchant_callback.conflicting_outcome",
                    payment_id=payment_id,
                    kept=facts.outcome,
                    ignored=outcome,
                )
            return
        await repository.set_outcome(
            uow.conn,
            payment_id,
            outcome=outcome,
            provider_txn_id=provider_txn_id,
            error_code=error_code,
            completed_at=completed_at,
        )
        final = PaymentFacts(
            payment_id=payment_id,
            account_number=facts.account_number,
            amount=facts.amount,
            currency=facts.currency,
            outcome=outcome,
            provider_txn_id=provider_txn_id,
            error_code=error_code,
            completed_at=completed_at,
        )
        if facts.account_number is None or facts.amount is None or facts.currency is None:
            log.info("merchant_callback.final_before_initiated", payment_id=payment_id, outcome=outcome)
            return  # scheduled when PaymentInitiated arrives
        await self._schedule(
            uow, final, account_number=facts.account_number, amount=facts.amount, currency=facts.currency
        )

    async def _schedule(
        self, uow: Transaction, facts: PaymentFacts, *, account_number: str, amount: int, currency: str
    ) -> None:
        assert facts.outcome is not None and facts.completed_at is not None
        payment = FinalPayment(
            payment_id=facts.payment_id,
            outcome=facts.outcome,
            amount=amount,
            currency=currency,
            provider_txn_id=facts.provider_txn_id,
            error_code=facts.error_code,
            occurred_at=facts.completed_at,
        )
        created = await repository.create_deliveries(
            uow.conn,
            payment_id=facts.payment_id,
            account_number=account_number,
            event_type=payment.outcome.event_type,
            body=webhook_body(payment),
            give_up_at=self._policy.give_up_at(_now()),
        )
        if created:
            uow.after_commit(self._wake)
            log.debug(
                "merchant_callback.webhooks_scheduled",
                payment_id=facts.payment_id,
                outcome=payment.outcome,
                delivery_ids=[str(d) for d in created],
            )


# --- HTTP use cases ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Subscribe:
    account_number: str
    url: str
    secret: str


async def subscribe(cmd: Subscribe, uow: UnitOfWork, box: SecretBox) -> Subscription:
    """The new subscription; its secret is stored encrypted under the active key only."""
    async with uow:
        created = await repository.insert_subscription(
            uow.conn,
            subscription_id=uuid4(),
            account_number=cmd.account_number,
            url=cmd.url,
            secret_encrypted=box.encrypt(cmd.secret),
        )
        if created is None:
            raise SubscriptionExists(cmd.account_number, cmd.url)
        await uow.commit()
    log.info(
        "merchant_callback.subscribed",
        subscription_id=str(created.subscription_id),
        account_number=created.account_number,
        url=created.url,
    )
    return created


async def redeliver(
    delivery_id: UUID, uow: UnitOfWork, *, policy: RetryPolicy, wake_dispatcher: Callable[[], None]
) -> DeliveryRow:
    """A dead delivery is due again at once, with a new retry horizon (same id, same body)."""
    async with uow:
        found = await repository.lock_delivery(uow.conn, delivery_id)
        if found is None:
            raise DeliveryNotFound(str(delivery_id))
        current, subscription_active = found
        if current.status is not DeliveryStatus.DEAD:
            raise DeliveryNotDead(str(delivery_id), current.status)
        if not subscription_active:
            raise SubscriptionDeleted(str(current.subscription_id))
        await repository.reschedule(uow.conn, delivery_id, give_up_at=policy.give_up_at(_now()))
        uow.after_commit(wake_dispatcher)
        rescheduled = await repository.get_delivery(uow.conn, delivery_id)
        assert rescheduled is not None
        await uow.commit()
    log.info("merchant_callback.redelivery_requested", delivery_id=str(delivery_id), payment_id=current.payment_id)
    return rescheduled
