"""Notification HTTP API: the notifications of a payment, and the simulated channel gateways (ops)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import FastAPI, Path, Query

from paysaga.contracts.identities import OPS
from paysaga.contracts.ops import PaymentSteps
from paysaga.platform.db import Database
from paysaga.platform.http import ReadinessCheck, create_app
from paysaga.platform.problems import not_found, problems
from paysaga.platform.service_auth import callers
from paysaga.services.notification import history, repository
from paysaga.services.notification.domain import Channel
from paysaga.services.notification.gateways import Behaviour, SimulatedGateway
from paysaga.services.notification.repository import Notification
from paysaga.services.notification.schemas import (
    BehaviourBody,
    GatewayView,
    NotificationList,
    NotificationView,
    SentMessageView,
)

OPERATORS = callers(OPS)


def _view(n: Notification) -> NotificationView:
    return NotificationView(
        notification_id=n.notification_id,
        payment_id=n.payment_id,
        user_id=n.user_id,
        channel=n.channel.value,
        event_type=n.event_type.value,
        language=n.language.value,
        title=n.title,
        message=n.message,
        status=n.status.value,
        attempts=n.attempts,
        last_error=n.last_error,
        next_attempt_at=n.next_attempt_at,
        gateway_message_id=n.gateway_message_id,
        created_at=n.created_at,
        sent_at=n.sent_at,
    )


def _gateway_view(gateway: SimulatedGateway) -> GatewayView:
    b = gateway.behaviour
    return GatewayView(
        channel=gateway.channel.value,
        behaviour=BehaviourBody(delay_ms=b.delay_ms, fail_times=b.fail_times, fail_rate=b.fail_rate),
        calls=gateway.calls,
        failures=gateway.failures,
        sent=len(gateway.sent()),
    )


def build_app(
    db: Database, gateways: Mapping[Channel, SimulatedGateway], readiness: dict[str, ReadinessCheck]
) -> FastAPI:
    app = create_app(
        title="PaySaga Notification",
        description="Tells customers by SMS and push how their payments ended. Consumes payment-events. "
        "The gateways are simulated: they record what they would send and can be made slow or failing.",
        readiness=readiness,
    )

    def gateway_of(channel: str) -> SimulatedGateway:
        by_name = {c.value: g for c, g in gateways.items()}
        gateway = by_name.get(channel.upper())
        if gateway is None:
            raise not_found(f"no gateway for channel {channel!r} (channels: {', '.join(c.value for c in gateways)})")
        return gateway

    @app.get(
        "/v1/notifications",
        dependencies=[OPERATORS],
        response_model=NotificationList,
        tags=["notifications"],
        summary="The notifications of a payment: one per channel, with status and attempts",
    )
    async def list_notifications(
        payment_id: Annotated[str, Query(alias="paymentId", min_length=1)],
    ) -> NotificationList:
        async with db.connection() as conn:
            found = await repository.list_for_payment(conn, payment_id)
        return NotificationList(payment_id=payment_id, items=[_view(n) for n in found])

    @app.get(
        "/v1/gateways/{channel}",
        response_model=GatewayView,
        tags=["gateways"],
        dependencies=[OPERATORS],
        responses=problems((404, "not-found")),
    )
    async def get_gateway(channel: str) -> GatewayView:
        return _gateway_view(gateway_of(channel))

    @app.put(
        "/v1/gateways/{channel}/behaviour",
        dependencies=[OPERATORS],
        response_model=GatewayView,
        tags=["gateways"],
        summary="Make a simulated gateway slow or failing (replaces its behaviour)",
        responses=problems((404, "not-found")),
    )
    async def set_behaviour(channel: str, body: BehaviourBody) -> GatewayView:
        gateway = gateway_of(channel)
        gateway.set_behaviour(Behaviour(delay_ms=body.delay_ms, fail_times=body.fail_times, fail_rate=body.fail_rate))
        return _gateway_view(gateway)

    @app.get(
        "/v1/gateways/{channel}/sent",
        dependencies=[OPERATORS],
        response_model=list[SentMessageView],
        tags=["gateways"],
        summary="What a simulated gateway sent, oldest first",
        responses=problems((404, "not-found")),
    )
    async def sent(channel: str, user_id: Annotated[str | None, Query(alias="userId")] = None) -> list[SentMessageView]:
        return [
            SentMessageView(
                message_id=m.message_id,
                channel=m.channel.value,
                user_id=m.user_id,
                reference=m.reference,
                title=m.title,
                text=m.text,
                sent_at=m.sent_at,
            )
            for m in gateway_of(channel).sent(user_id=user_id)
        ]

    @app.get(
        "/v1/payments/{payment_id}/history",
        dependencies=[OPERATORS],
        response_model=PaymentSteps,
        tags=["notifications"],
        summary="A payment's notifications as steps: queued, sent or given up, with attempts",
    )
    async def get_payment_history(payment_id: Annotated[str, Path(max_length=200)]) -> PaymentSteps:
        async with db.connection() as conn:
            found = await repository.list_for_payment(conn, payment_id)
        return history.payment_steps(payment_id, found)

    return app
