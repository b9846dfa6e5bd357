"""Notification use cases, run by the consumer inside its inbox transaction.

They only write: what a payment's events said, and — once both its details (PaymentInitiated) and
its outcome (PaymentCompleted / PaymentFailed) are known, in either order — one PENDING
notification per channel. `UNIQUE (payment_id, channel)` makes that exactly once whatever is
redelivered or republished; the inbox drops exact redeliveries before they get here. No gateway is
called here: the dispatcher delivers after the commit, so a slow gateway never holds a partition.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import structlog

from paysaga.contracts.events import PaymentCompleted, PaymentFailed, PaymentInitiated
from paysaga.platform.consumer import Delivery
from paysaga.platform.unit_of_work import Transaction
from paysaga.services.notification import repository
from paysaga.services.notification.domain import Channel, Language, Outcome, PaymentFacts, render

log = structlog.get_logger("paysaga.notification")


class PaymentEventHandlers:
    def __init__(self, *, language: Language, channels: Sequence[Channel], wake: Callable[[], None]) -> None:
        self._language = language
        self._channels = tuple(channels)
        self._wake = wake

    async def on_initiated(self, event: PaymentInitiated, uow: Transaction, delivery: Delivery) -> None:
        facts = await repository.record_details(
            uow.conn,
            payment_id=event.payment_id,
            user_id=event.user_id,
            amount=event.amount,
            currency=event.currency,
            recipient_name=event.recipient.name,
        )
        await self._notify_if_ready(uow, facts)

    async def on_completed(self, event: PaymentCompleted, uow: Transaction, delivery: Delivery) -> None:
        await self._outcome(uow, event.payment_id, Outcome.COMPLETED, None, event)

    async def on_failed(self, event: PaymentFailed, uow: Transaction, delivery: Delivery) -> None:
        await self._outcome(uow, event.payment_id, Outcome.FAILED, event.error_code, event)

    async def _outcome(
        self,
        uow: Transaction,
        payment_id: str,
        outcome: Outcome,
        error_code: str | None,
        event: PaymentCompleted | PaymentFailed,
    ) -> None:
        facts = await repository.record_outcome(
            uow.conn, payment_id=payment_id, outcome=outcome, error_code=error_code, completed_at=event.completed_at
        )
        if facts.outcome is not outcome:
            # A final state never changes (Payment guarantees it); the customer was told the first one.
            log.error("notification.conflicting_outcome", payment_id=payment_id, kept=facts.outcome, got=outcome)
            return
        if not facts.ready:
            log.info("notification.awaiting_details", payment_id=payment_id, outcome=outcome)
        await self._notify_if_ready(uow, facts)

    async def _notify_if_ready(self, uow: Transaction, facts: PaymentFacts) -> None:
        if not facts.ready:
            return
        message = render(facts, self._language)
        created = [
            channel
            for channel in self._channels
            if await repository.insert_notification(uow.conn, facts, channel, self._language, message)
        ]
        if created:
            uow.after_commit(self._wake)
            log.debug(
                "notification.queued",
                payment_id=facts.payment_id,
                user_id=facts.user_id,
                outcome=facts.outcome,
                channels=created,
            )
