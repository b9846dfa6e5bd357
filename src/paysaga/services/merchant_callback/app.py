"""Merchant Callback HTTP API: webhook subscriptions, the deliveries and their attempts, redelivery."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from uuid import UUID

from fastapi import FastAPI, Path, Query, Response, status

from paysaga.contracts.identities import OPS
from paysaga.contracts.ops import PaymentSteps
from paysaga.platform.db import Database
from paysaga.platform.http import ReadinessCheck, create_app
from paysaga.platform.problems import Problem, not_found, problems
from paysaga.platform.service_auth import callers
from paysaga.platform.unit_of_work import UnitOfWork
from paysaga.services.merchant_callback import handlers, history, repository
from paysaga.services.merchant_callback.domain import (
    ACCOUNT_NUMBER_PATTERN,
    DeliveryNotDead,
    DeliveryNotFound,
    MerchantCallbackError,
    RetryPolicy,
    SubscriptionDeleted,
    SubscriptionExists,
)
from paysaga.services.merchant_callback.schemas import DeliveryView, SubscriptionRequest, SubscriptionView
from paysaga.services.merchant_callback.secretbox import SecretBox
from paysaga.services.merchant_callback.targets import TargetRefused, WebhookTargets

OPERATORS = callers(OPS)


def _problem(exc: MerchantCallbackError) -> Problem:
    match exc:
        case SubscriptionExists():
            return Problem(409, "subscription-exists", "Subscription exists", str(exc))
        case DeliveryNotFound():
            return Problem(404, "not-found", "Not found", str(exc))
        case DeliveryNotDead():
            return Problem(409, "delivery-not-dead", "Delivery is not dead", str(exc), deliveryStatus=exc.status.value)
        case SubscriptionDeleted():
            return Problem(409, "subscription-deleted", "Subscription deleted", str(exc))
    return Problem(422, "merchant-callback-error", "Refused", str(exc))


def build_app(
    db: Database,
    new_uow: Callable[[], UnitOfWork],
    *,
    policy: RetryPolicy,
    targets: WebhookTargets,
    wake_dispatcher: Callable[[], None],
    readiness: dict[str, ReadinessCheck],
    box: SecretBox,
) -> FastAPI:
    app = create_app(
        title="PaySaga Merchant Callback",
        description="Signed webhooks to merchants on the final event of payments to their accounts. "
        "Consumes PaymentInitiated, PaymentCompleted and PaymentFailed. Each webhook is a JSON POST "
        "signed in `Paysaga-Signature: t=<unix>,v1=<hex HMAC-SHA256 of '<t>.<body>'>`, identified by "
        "`Paysaga-Delivery-Id` (the same on every retry), retried with exponential backoff and jitter "
        "until the retry horizon, then dead-lettered.",
        readiness=readiness,
    )

    @app.post(
        "/v1/subscriptions",
        dependencies=[OPERATORS],
        status_code=status.HTTP_201_CREATED,
        response_model=SubscriptionView,
        tags=["subscriptions"],
        summary="Subscribe a webhook URL to the final outcomes of payments to an account",
        responses=problems((409, "subscription-exists"), (422, "webhook-url-not-allowed")),
    )
    async def subscribe(body: SubscriptionRequest, response: Response) -> SubscriptionView:
        try:
            await targets.check(body.url)
        except TargetRefused as exc:
            raise Problem(422, "webhook-url-not-allowed", "Webhook URL not allowed", str(exc)) from exc
        cmd = handlers.Subscribe(account_number=body.account_number, url=body.url, secret=body.secret)
        try:
            created = await handlers.subscribe(cmd, new_uow(), box)
        except MerchantCallbackError as exc:
            raise _problem(exc) from exc
        response.headers["Location"] = f"/v1/subscriptions/{created.subscription_id}"
        return SubscriptionView.of(created)

    @app.get(
        "/v1/subscriptions", response_model=list[SubscriptionView], tags=["subscriptions"], dependencies=[OPERATORS]
    )
    async def list_subscriptions(
        account_number: Annotated[str | None, Query(alias="accountNumber", pattern=ACCOUNT_NUMBER_PATTERN)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[SubscriptionView]:
        async with db.connection() as conn:
            subs = await repository.list_subscriptions(conn, account_number=account_number, limit=limit)
        return [SubscriptionView.of(s) for s in subs]

    @app.get(
        "/v1/subscriptions/{subscription_id}",
        response_model=SubscriptionView,
        tags=["subscriptions"],
        dependencies=[OPERATORS],
        responses=problems((404, "not-found")),
    )
    async def get_subscription(subscription_id: UUID) -> SubscriptionView:
        async with db.connection() as conn:
            sub = await repository.get_subscription(conn, subscription_id)
        if sub is None or sub.deleted_at is not None:
            raise not_found(f"no subscription {subscription_id}")
        return SubscriptionView.of(sub)

    @app.delete(
        "/v1/subscriptions/{subscription_id}",
        dependencies=[OPERATORS],
        status_code=status.HTTP_204_NO_CONTENT,
        tags=["subscriptions"],
        summary="Unsubscribe: no new webhooks; pending ones are dead-lettered instead of sent",
        responses=problems((404, "not-found")),
    )
    async def delete_subscription(subscription_id: UUID) -> Response:
        async with db.transaction() as conn:
            deleted = await repository.delete_subscription(conn, subscription_id)
        if not deleted:
            raise not_found(f"no subscription {subscription_id}")
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @app.get(
        "/v1/deliveries",
        dependencies=[OPERATORS],
        response_model=list[DeliveryView],
        tags=["deliveries"],
        summary="The webhooks of a payment, each with every attempt made",
    )
    async def list_deliveries(
        payment_id: Annotated[str, Query(alias="paymentId", min_length=1, max_length=200)],
    ) -> list[DeliveryView]:
        async with db.connection() as conn:
            found = await repository.deliveries_of_payment(conn, payment_id)
            attempts = await repository.attempts_of(conn, [d.delivery_id for d in found])
        return [DeliveryView.of(d, attempts[d.delivery_id]) for d in found]

    @app.get(
        "/v1/deliveries/{delivery_id}",
        response_model=DeliveryView,
        tags=["deliveries"],
        dependencies=[OPERATORS],
        responses=problems((404, "not-found")),
    )
    async def get_delivery(delivery_id: UUID) -> DeliveryView:
        async with db.connection() as conn:
            found = await repository.get_delivery(conn, delivery_id)
            if found is None:
                raise not_found(f"no delivery {delivery_id}")
            attempts = await repository.attempts_of(conn, [delivery_id])
        return DeliveryView.of(found, attempts[delivery_id])

    @app.post(
        "/v1/deliveries/{delivery_id}/redeliver",
        dependencies=[OPERATORS],
        status_code=status.HTTP_202_ACCEPTED,
        response_model=DeliveryView,
        tags=["deliveries"],
        summary="Retry a dead-lettered webhook: due now, same delivery id and body, a new retry horizon",
        responses=problems((404, "not-found"), (409, "delivery-not-dead"), (409, "subscription-deleted")),
    )
    async def redeliver(delivery_id: UUID) -> DeliveryView:
        try:
            rescheduled = await handlers.redeliver(
                delivery_id, new_uow(), policy=policy, wake_dispatcher=wake_dispatcher
            )
        except MerchantCallbackError as exc:
            raise _problem(exc) from exc
        async with db.connection() as conn:
            attempts = await repository.attempts_of(conn, [delivery_id])
        return DeliveryView.of(rescheduled, attempts[delivery_id])

    @app.get(
        "/v1/payments/{payment_id}/history",
        dependencies=[OPERATORS],
        response_model=PaymentSteps,
        tags=["deliveries"],
        summary="A payment's webhooks as steps: queued, every attempt, dead-lettered",
    )
    async def get_payment_history(payment_id: Annotated[str, Path(max_length=200)]) -> PaymentSteps:
        async with db.connection() as conn:
            found = await repository.deliveries_of_payment(conn, payment_id)
            attempts = await repository.attempts_of(conn, [d.delivery_id for d in found])
        return history.payment_steps(payment_id, found, attempts)

    return app
