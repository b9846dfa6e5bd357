"""Payment ops API: a payment's internal state, the final payments by time, and the reconciliation cases."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated
from uuid import UUID

from fastapi import FastAPI, Query
from pydantic import AwareDatetime

from paysaga.contracts.identities import OPS
from paysaga.platform.cursors import decode_cursor, encode_cursor
from paysaga.platform.db import Database
from paysaga.platform.http import ReadinessCheck, create_app
from paysaga.platform.problems import not_found
from paysaga.platform.service_auth import callers
from paysaga.platform.tracing import trace_id_of
from paysaga.services.payment import repository
from paysaga.services.payment.schemas import FinalPage, FinalView, PaymentState, ReconciliationCase

OPERATORS = callers(OPS)


def build_app(db: Database, readiness: dict[str, ReadinessCheck]) -> FastAPI:
    app = create_app(
        title="PaySaga Payment",
        description="The payment state machine. Consumes PaymentInitiated and ProviderCallbackReceived, "
        "publishes PaymentCompleted and PaymentFailed. This API is for operators.",
        readiness=readiness,
    )

    @app.get("/v1/payments/{payment_id}", response_model=PaymentState, tags=["ops"], dependencies=[OPERATORS])
    async def get_payment(payment_id: UUID) -> PaymentState:
        async with db.connection() as conn:
            payment = await repository.get(conn, payment_id)
        if payment is None:
            raise not_found(f"no payment {payment_id}")
        return PaymentState.model_validate(
            {**asdict(payment), "payment_id": str(payment.payment_id), "trace_id": trace_id_of(payment.traceparent)}
        )

    @app.get(
        "/v1/reconciliation-cases",
        dependencies=[OPERATORS],
        response_model=list[ReconciliationCase],
        tags=["ops"],
        summary="Provider outcomes that disagree with a payment's final state (e.g. success after timeout)",
    )
    async def cases(open_only: bool = True) -> list[ReconciliationCase]:
        async with db.connection() as conn:
            rows = await repository.list_cases(conn, open_only=open_only)
        return [ReconciliationCase.model_validate({**r, "payment_id": str(r["payment_id"])}) for r in rows]

    @app.get(
        "/v1/finals",
        response_model=FinalPage,
        dependencies=[OPERATORS],
        tags=["ops"],
        summary="Payments that became final (COMPLETED or FAILED) in a time range, oldest first, paged",
        description="For reconciliation against Wallet's settlements (COMPLETED ↔ COMMITTED, FAILED ↔ "
        "RELEASED). A final state never changes, so a payment is listed once, at its `completedAt`.",
    )
    async def finals(
        from_: Annotated[AwareDatetime, Query(alias="from", description="Final at or after (inclusive)")],
        to: Annotated[AwareDatetime, Query(description="Final before (exclusive)")],
        limit: Annotated[int, Query(ge=1, le=1000)] = 500,
        cursor: Annotated[str | None, Query(max_length=200)] = None,
    ) -> FinalPage:
        after = decode_cursor(cursor) if cursor else None
        async with db.connection() as conn:
            rows = await repository.finals(conn, completed_from=from_, completed_to=to, limit=limit + 1, after=after)
        items = [FinalView.model_validate({**r, "payment_id": str(r["payment_id"])}) for r in rows[:limit]]
        next_cursor = None
        if len(rows) > limit:
            last = rows[limit - 1]
            next_cursor = encode_cursor(last["completed_at"], last["payment_id"])
        return FinalPage(items=items, next_cursor=next_cursor)

    return app
