"""A payment's webhooks, for operators: each delivery to a subscribed merchant with every attempt
(status code, latency, error), and how it ended (or when it is tried next)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from uuid import UUID

from paysaga.contracts.ops import PaymentSteps, SagaStep, ServiceState, clock
from paysaga.services.merchant_callback.domain import DeliveryStatus
from paysaga.services.merchant_callback.repository import AttemptRow, DeliveryRow

SERVICE = "merchant_callback"


def _steps(d: DeliveryRow, attempts: Sequence[AttemptRow]) -> list[SagaStep]:
    ids = {"deliveryId": str(d.delivery_id), "subscriptionId": str(d.subscription_id), "url": d.url}
    steps = [
        SagaStep(
            at=d.created_at,
            service=SERVICE,
            kind="webhook",
            summary=f"queued the {d.event_type} webhook to {d.url}",
            details={**ids, "eventType": d.event_type, "giveUpAt": d.give_up_at},
        )
    ]
    for n, a in enumerate(attempts, start=1):
        answer = f"HTTP {a.status_code}" if a.status_code is not None else "no answer"
        outcome = "delivered" if a.succeeded else f"failed: {a.error or answer}"
        steps.append(
            SagaStep(
                at=a.attempted_at,
                service=SERVICE,
                kind="webhook-attempt",
                summary=f"webhook attempt {n} to {d.url}: {answer}, {a.duration_ms:.0f} ms — {outcome}",
                details={
                    **ids,
                    "attempt": n,
                    "statusCode": a.status_code,
                    "durationMs": a.duration_ms,
                    "error": a.error,
                    "succeeded": a.succeeded,
                },
            )
        )
    if d.status is DeliveryStatus.DEAD and d.dead_at is not None:
        summary = f"gave up on the webhook to {d.url} after {d.attempts} attempts: dead-lettered, redeliver it by hand"
        steps.append(SagaStep(at=d.dead_at, service=SERVICE, kind="webhook-dead", summary=summary, details=ids))
    return steps


def payment_steps(
    payment_id: str, deliveries: Sequence[DeliveryRow], attempts: Mapping[UUID, Sequence[AttemptRow]]
) -> PaymentSteps:
    if not deliveries:
        return PaymentSteps(payment_id=payment_id, service=SERVICE, steps=[])
    pending = [d for d in deliveries if d.status is DeliveryStatus.PENDING]
    nexts = [d.next_attempt_at for d in pending if d.next_attempt_at is not None]
    waiting = None
    if pending:
        last = pending[0].last_error
        waiting = f"{len(pending)} merchant endpoint(s) to acknowledge" + (f" (last error: {last})" if last else "")
    return PaymentSteps(
        payment_id=payment_id,
        service=SERVICE,
        steps=sorted((s for d in deliveries for s in _steps(d, attempts.get(d.delivery_id, ()))), key=lambda s: s.at),
        state=ServiceState(
            status="PENDING" if pending else "DONE",
            final=not pending,
            waiting_for=waiting,
            since=min(d.created_at for d in pending) if pending else None,
            next_action="webhook attempt" if pending else None,
            next_action_at=min(nexts) if nexts else None,
            details={
                str(d.delivery_id): f"{d.status.value}"
                + (f", next at {clock(d.next_attempt_at)}" if d.next_attempt_at else "")
                for d in deliveries
            },
        ),
    )
