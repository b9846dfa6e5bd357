"""The simulated bank: accepts payouts once per paymentId, settles them as the rules say and
sends the signed callbacks in background tasks that are cancelled on shutdown."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog

from paysaga.platform.problems import Problem, not_found
from paysaga.services.provider_sim.callbacks import CallbackSender
from paysaga.services.provider_sim.rules import plan_for
from paysaga.services.provider_sim.schemas import (
    CallbackAttemptView,
    CallbackPayload,
    FinalStatus,
    Outcome,
    PayoutRequest,
    Rule,
    SimPayout,
)
from paysaga.services.provider_sim.store import PaymentRecord, Payout, SimStore

log = structlog.get_logger("paysaga.provider_sim")

TASK_PREFIX = "provider_sim.settle:"
"""Name prefix of the background task that settles a payout and sends its callbacks."""

_FINAL_STATUS: dict[Outcome, FinalStatus] = {
    Outcome.SUCCESS: "SUCCESS",
    Outcome.ERROR_500: "SUCCESS",
    Outcome.DUPLICATE_CALLBACK: "SUCCESS",
    Outcome.LATE_SUCCESS: "SUCCESS",
    Outcome.LATE_SUCCESS_NO_CALLBACK: "SUCCESS",
    Outcome.CALLBACK_BEFORE_RESPONSE: "SUCCESS",
    Outcome.LOST_RESPONSE: "SUCCESS",
    Outcome.FAILED: "FAILED",
}


def _lose_answer(record: PaymentRecord) -> None:
    """LOST_RESPONSE: the payout exists, but this answer never reaches the caller (a 500 stands in)."""
    if record.lost_answers <= 0:
        return
    record.lost_answers -= 1
    record.errors_served += 1
    log.info("payout.simulated_lost_answer", payment_id=record.payment_id, n=record.errors_served)
    raise _unavailable("Simulated lost answer (LOST_RESPONSE): the payout was made; retry with the same paymentId.")


def _unavailable(detail: str) -> Problem:
    return Problem(500, "provider-unavailable", "Provider temporarily unavailable", detail)


def new_provider_txn_id() -> str:
    return "ptx_" + secrets.token_hex(16)


def new_callback_id() -> str:
    return "cb_" + secrets.token_hex(16)


@dataclass(frozen=True, slots=True)
class Accepted:
    payout: Payout
    replayed: bool


class Simulator:
    def __init__(
        self, *, store: SimStore, sender: CallbackSender, default_delay_ms: int, late_success_delay_ms: int
    ) -> None:
        self.store = store
        self._sender = sender
        self._default_delay_ms = default_delay_ms
        self._late_success_delay_ms = late_success_delay_ms
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    # -- the bank's API ------------------------------------------------------------------------

    async def accept(
        self, request: PayoutRequest, idempotency_key: str | None, traceparent: str | None = None
    ) -> Accepted:
        """Create the payout for `request.payment_id` once; later calls get the same payout back."""
        # What must match on a repeat: the payout itself, not where its callback goes.
        fingerprint = request.model_dump(mode="json", by_alias=True, exclude={"callback_url"})
        async with self.store.lock:
            record = self.store.record_for(request.payment_id)
            record.requests += 1
            if idempotency_key is not None and idempotency_key != request.payment_id:
                raise Problem(
                    422,
                    "idempotency-key-mismatch",
                    "Idempotency-Key does not match paymentId",
                    "The paymentId is the idempotency key; send it as Idempotency-Key or omit the header.",
                )
            if record.payout is not None:
                if record.payout.fingerprint != fingerprint:
                    raise _conflict(request.payment_id)
                _lose_answer(record)
                return Accepted(record.payout, replayed=True)
            if record.declined_fingerprint is not None:
                if record.declined_fingerprint != fingerprint:
                    raise _conflict(request.payment_id)
                raise _declined(request.payment_id)

            plan = plan_for(
                self.store.rules,
                request.recipient.account_number,
                default_delay_ms=self._default_delay_ms,
                late_success_delay_ms=self._late_success_delay_ms,
            )
            if plan.outcome is Outcome.DECLINE:
                record.declined_fingerprint = fingerprint
                log.info("payout.declined", payment_id=request.payment_id)
                raise _declined(request.payment_id)
            if plan.outcome is Outcome.ERROR_500 and record.errors_served < plan.fail_times:
                record.errors_served += 1
                log.info("payout.simulated_error", payment_id=request.payment_id, n=record.errors_served)
                raise _unavailable("Simulated outage (ERROR_500); retry with the same paymentId.")
            payout = Payout(
                provider_txn_id=new_provider_txn_id(),
                request=request,
                fingerprint=fingerprint,
                outcome=plan.outcome,
                delay_ms=plan.delay_ms,
                created_at=datetime.now(UTC),
            )
            self.store.add_payout(record, payout)
            record.lost_answers = plan.fail_times if plan.outcome is Outcome.LOST_RESPONSE else 0
        log.debug(
            "payout.created",
            payment_id=payout.payment_id,
            provider_txn_id=payout.provider_txn_id,
            outcome=payout.outcome.value,
            delay_ms=payout.delay_ms,
        )
        if payout.outcome is Outcome.CALLBACK_BEFORE_RESPONSE:
            # The outcome reaches the caller's callback endpoint before the caller learns the
            # transaction id: the callback is delivered first, the answer comes delay_ms later.
            await self._complete(payout, traceparent)
            await asyncio.sleep(payout.delay_ms / 1000)
        elif payout.outcome is not Outcome.NO_CALLBACK:
            self._spawn(self._settle(payout, traceparent), name=f"{TASK_PREFIX}{payout.provider_txn_id}")
        async with self.store.lock:
            _lose_answer(record)
        return Accepted(payout, replayed=False)

    def get(self, provider_txn_id: str) -> Payout:
        payout = self.store.payouts.get(provider_txn_id)
        if payout is None:
            raise not_found(f"No payout {provider_txn_id!r}.")
        return payout

    # -- the simulator's controls -------------------------------------------------------------

    def rules(self) -> list[Rule]:
        return list(self.store.rules)

    def set_rules(self, rules: list[Rule]) -> None:
        self.store.rules = list(rules)
        log.info("sim.rules_set", rules=[r.model_dump(mode="json", by_alias=True) for r in rules])

    def reset_rules(self) -> None:
        self.store.rules = []
        log.info("sim.rules_reset")

    def payouts(self, payment_id: str | None) -> list[SimPayout]:
        return self.store.payment_views(payment_id)

    def callback_attempts(self, provider_txn_id: str | None) -> list[CallbackAttemptView]:
        return self.store.attempt_views(provider_txn_id)

    @property
    def pending_tasks(self) -> int:
        return len(self._tasks)

    async def close(self) -> None:
        """Cancel the settlements and callback deliveries still running, then close the client."""
        self._closed = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            log.info("sim.cancelling_tasks", count=len(tasks))
            await asyncio.gather(*tasks, return_exceptions=True)
        await self._sender.close()

    # -- background work ----------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        if self._closed:
            coro.close()
            return
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("sim.task_failed", error=repr(exc), exc_info=exc)

    async def _settle(self, payout: Payout, traceparent: str | None) -> None:
        await asyncio.sleep(payout.delay_ms / 1000)
        await self._complete(payout, traceparent)

    async def _complete(self, payout: Payout, traceparent: str | None) -> None:
        status = _FINAL_STATUS[payout.outcome]
        payout.status = status
        payout.settled_at = datetime.now(UTC)
        log.debug("payout.settled", provider_txn_id=payout.provider_txn_id, status=status)
        copies = {Outcome.DUPLICATE_CALLBACK: 2, Outcome.LATE_SUCCESS_NO_CALLBACK: 0}.get(payout.outcome, 1)
        for _ in range(copies):
            callback = CallbackPayload(
                callback_id=new_callback_id(),
                provider_txn_id=payout.provider_txn_id,
                payment_id=payout.payment_id,
                status=status,
                amount=payout.request.amount,
                currency=payout.request.currency,
                occurred_at=payout.settled_at,
            )
            await self._sender.deliver(str(payout.request.callback_url), callback, traceparent)


def _declined(payment_id: str) -> Problem:
    return Problem(422, "payout-declined", "Payout declined", f"The bank declined the payout {payment_id!r}.")


def _conflict(payment_id: str) -> Problem:
    return Problem(
        409,
        "idempotency-conflict",
        "Idempotency conflict",
        f"paymentId {payment_id!r} was already sent with a different body.",
    )
