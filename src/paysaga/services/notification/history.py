"""A payment's notifications, for operators: one per channel, when it was queued, its attempts and
how it ended (or when it is tried next)."""

from __future__ import annotations

from collections.abc import Sequence

from paysaga.contracts.ops import PaymentSteps, SagaStep, ServiceState, clock
from paysaga.services.notification.domain import Status
from paysaga.services.notification.repository import Notification

SERVICE = "notification"


def _steps(n: Notification) -> list[SagaStep]:
    what = f"{n.channel.value} about {n.event_type.value}"
    details = {
        "notificationId": n.notification_id,
        "channel": n.channel.value,
        "eventType": n.event_type.value,
        "language": n.language.value,
        "status": n.status.value,
        "attempts": n.attempts,
    }
    steps = [SagaStep(at=n.created_at, service=SERVICE, kind="notification", summary=f"queued {what}", details=details)]
    tries = f"{n.attempts} attempt{'s' if n.attempts != 1 else ''}"
    if n.status is Status.SENT and n.sent_at is not None:
        summary = f"sent {what} ({tries}, gateway message {n.gateway_message_id})"
        steps.append(SagaStep(at=n.sent_at, service=SERVICE, kind="delivery", summary=summary, details=details))
    elif n.status is Status.FAILED:
        summary = f"gave up on {what} after {tries}: {n.last_error}"
        steps.append(SagaStep(at=n.updated_at, service=SERVICE, kind="delivery", summary=summary, details=details))
    elif n.attempts > 0:
        summary = f"{what}: {tries} failed ({n.last_error}); next at {clock(n.next_attempt_at)}"
        steps.append(SagaStep(at=n.updated_at, service=SERVICE, kind="delivery", summary=summary, details=details))
    return steps


def payment_steps(payment_id: str, notifications: Sequence[Notification]) -> PaymentSteps:
    if not notifications:
        return PaymentSteps(payment_id=payment_id, service=SERVICE, steps=[])
    pending = [n for n in notifications if n.status is Status.PENDING]
    nexts = [n.next_attempt_at for n in pending if n.next_attempt_at is not None]
    channels = ", ".join(n.channel.value for n in pending)
    return PaymentSteps(
        payment_id=payment_id,
        service=SERVICE,
        steps=sorted((s for n in notifications for s in _steps(n)), key=lambda s: s.at),
        state=ServiceState(
            status="PENDING" if pending else "DONE",
            final=not pending,
            waiting_for=f"the {channels} gateway to take the message" if pending else None,
            since=min(n.created_at for n in pending) if pending else None,
            next_action="delivery attempt" if pending else None,
            next_action_at=min(nexts) if nexts else None,
            details={n.channel.value: n.status.value for n in notifications},
        ),
    )
