"""Query HTTP API (internal: the BFF calls it). A user sees only their own payments."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

import asyncpg
from fastapi import FastAPI, Query

from paysaga.contracts.identities import BFF, OPS
from paysaga.contracts.ops import PaymentSteps
from paysaga.platform.cursors import CURSOR_DESCRIPTION, CURSOR_PATTERN, decode_cursor, encode_cursor
from paysaga.platform.db import Database
from paysaga.platform.http import ReadinessCheck, create_app
from paysaga.platform.problems import not_found, problems
from paysaga.platform.service_auth import callers
from paysaga.services.query import history, repository
from paysaga.services.query.schemas import PaymentPage, PaymentView


def _view(row: asyncpg.Record) -> PaymentView:
    return PaymentView.model_validate({**row, "payment_id": str(row["payment_id"])})


def build_app(db: Database, readiness: dict[str, ReadinessCheck]) -> FastAPI:
    app = create_app(
        title="PaySaga Query",
        description="The payments read model (CQRS), fed by payment-events.",
        readiness=readiness,
    )

    @app.get(
        "/v1/users/{user_id}/payments/{payment_id}",
        response_model=PaymentView,
        dependencies=[callers(BFF, OPS)],
        responses=problems((404, "not-found")),
    )
    async def get_payment(user_id: UUID, payment_id: UUID) -> PaymentView:
        async with db.connection() as conn:
            row = await repository.get_for_user(conn, user_id, payment_id)
        if row is None:
            raise not_found(f"no payment {payment_id}")
        return _view(row)

    @app.get("/v1/users/{user_id}/payments", response_model=PaymentPage, dependencies=[callers(BFF, OPS)])
    async def list_payments(
        user_id: UUID,
        limit: int = Query(20, ge=1, le=100),
        cursor: Annotated[str | None, Query(pattern=CURSOR_PATTERN, description=CURSOR_DESCRIPTION)] = None,
        status: Literal["PENDING", "COMPLETED", "FAILED"] | None = None,
    ) -> PaymentPage:
        after = decode_cursor(cursor) if cursor else None
        async with db.connection() as conn:
            rows = await repository.history(conn, user_id, limit=limit + 1, status=status, after=after)
        items = [_view(r) for r in rows[:limit]]
        next_cursor = None
        if len(rows) > limit:
            last = rows[limit - 1]
            next_cursor = encode_cursor(last["created_at"], last["payment_id"])
        return PaymentPage(items=items, next_cursor=next_cursor)

    @app.get(
        "/v1/payments/{payment_id}/history",
        response_model=PaymentSteps,
        tags=["ops"],
        dependencies=[callers(OPS)],
        summary="A payment as the read model shows it, and when each part of it arrived",
    )
    async def get_payment_history(payment_id: UUID) -> PaymentSteps:
        async with db.connection() as conn:
            row = await repository.get(conn, payment_id)
        return history.payment_steps(str(payment_id), row)

    return app
