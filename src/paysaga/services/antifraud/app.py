"""Anti-Fraud HTTP API: health, and the ops API (limits, blocklist, decisions made).

The fraud check itself is gRPC (see `grpc_server`), not HTTP.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import FastAPI, Path, Query, Response, status

from paysaga.contracts.identities import OPS
from paysaga.contracts.ops import PaymentSteps
from paysaga.platform.db import Database
from paysaga.platform.http import ReadinessCheck, create_app
from paysaga.platform.problems import not_found, problems
from paysaga.platform.service_auth import callers
from paysaga.services.antifraud import history, repository
from paysaga.services.antifraud.domain import ACCOUNT_NUMBER_PATTERN, RULE_ORDER, CheckRecord, Limits
from paysaga.services.antifraud.schemas import (
    BlockedAccountView,
    BlocklistView,
    BlockRequest,
    ChecksView,
    CheckView,
    RulesView,
)

AccountNumber = Annotated[
    str, Path(alias="accountNumber", pattern=ACCOUNT_NUMBER_PATTERN, description="20-digit account number")
]

OPERATORS = callers(OPS)


def _blocked_view(b: repository.BlockedAccount) -> BlockedAccountView:
    return BlockedAccountView(
        account_number=b.account_number, reason=b.reason, source=b.source, blocked_at=b.blocked_at
    )


def _check_view(c: CheckRecord) -> CheckView:
    return CheckView(
        payment_id=c.payment.payment_id,
        user_id=c.payment.user_id,
        wallet_id=c.payment.wallet_id,
        amount=c.payment.amount,
        currency=c.payment.currency,
        recipient_account_number=c.payment.account_number,
        recipient_bank_bic=c.payment.bank_bic,
        decision=c.verdict.decision.value,
        reason=c.verdict.reason,
        reasons=[r.value for r in c.verdict.reasons],
        score=c.verdict.score,
        velocity_count=c.velocity.count,
        velocity_sum=c.velocity.total,
        window_end=c.payment.created_at or c.checked_at,
        checked_at=c.checked_at,
    )


def build_app(db: Database, limits: Limits, readiness: dict[str, ReadinessCheck]) -> FastAPI:
    app = create_app(
        title="PaySaga Anti-Fraud",
        description=(
            "Ops API of the Anti-Fraud service: its limits, the recipient blocklist and the decisions"
            " it made. The fraud check itself is the gRPC service paysaga.antifraud.v1.AntiFraud."
        ),
        readiness=readiness,
    )

    @app.get(
        "/v1/rules", response_model=RulesView, tags=["rules"], summary="The limits in force", dependencies=[OPERATORS]
    )
    async def get_rules() -> RulesView:
        return RulesView(
            amount_limit=limits.amount_limit,
            velocity_window_seconds=int(limits.window.total_seconds()),
            velocity_max_count=limits.max_count,
            velocity_max_sum=limits.max_sum,
            rule_order=[r.value for r in RULE_ORDER],
        )

    @app.get("/v1/blocklist", response_model=BlocklistView, tags=["blocklist"], dependencies=[OPERATORS])
    async def get_blocklist() -> BlocklistView:
        async with db.connection() as conn:
            items = await repository.list_blocked(conn)
        return BlocklistView(items=[_blocked_view(b) for b in items])

    @app.put(
        "/v1/blocklist/{accountNumber}",
        dependencies=[OPERATORS],
        response_model=BlockedAccountView,
        tags=["blocklist"],
        summary="Block payments to a recipient account (201 when added, 200 when already blocked)",
        responses={201: {"description": "Added to the blocklist"}},
    )
    async def put_blocked(
        account_number: AccountNumber, response: Response, body: BlockRequest | None = None
    ) -> BlockedAccountView:
        async with db.transaction() as conn:
            blocked, created = await repository.block(
                conn, account_number, reason=body.reason if body else None, source="api"
            )
        response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return _blocked_view(blocked)

    @app.delete(
        "/v1/blocklist/{accountNumber}",
        dependencies=[OPERATORS],
        status_code=status.HTTP_204_NO_CONTENT,
        tags=["blocklist"],
        summary="Unblock a recipient account",
        responses=problems((404, "not-found")),
    )
    async def delete_blocked(account_number: AccountNumber) -> Response:
        async with db.transaction() as conn:
            deleted = await repository.unblock(conn, account_number)
        if not deleted:
            raise not_found(f"account {account_number} is not on the blocklist")
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @app.get(
        "/v1/checks",
        dependencies=[OPERATORS],
        response_model=ChecksView,
        tags=["checks"],
        summary="The decisions made, newest first",
    )
    async def get_checks(
        payment_id: Annotated[str | None, Query(alias="paymentId", max_length=200)] = None,
        user_id: Annotated[str | None, Query(alias="userId", max_length=200)] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
    ) -> ChecksView:
        async with db.connection() as conn:
            items = await repository.list_checks(conn, payment_id=payment_id, user_id=user_id, limit=limit)
        return ChecksView(items=[_check_view(c) for c in items])

    @app.get(
        "/v1/payments/{paymentId}/history",
        dependencies=[OPERATORS],
        response_model=PaymentSteps,
        tags=["checks"],
        summary="A payment's fraud decision (reasons, score, velocity), its counting and the outcome learned",
    )
    async def get_payment_history(payment_id: Annotated[str, Path(alias="paymentId", max_length=200)]) -> PaymentSteps:
        async with db.connection() as conn:
            check = await repository.find_check(conn, payment_id)
            known = await repository.known_payment(conn, payment_id)
            outcome = await repository.outcome(conn, payment_id)
        return history.payment_steps(payment_id, check, known, outcome)

    return app
