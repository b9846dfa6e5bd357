"""Payment ops API: a payment's internal state, and the reconciliation cases."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Annotated, Any, Literal
from uuid import UUID

import structlog
from fastapi import FastAPI, Query

from paysaga.contracts.identities import OPS
from paysaga.platform.db import Database
from paysaga.platform.http import ReadinessCheck, create_app
from paysaga.platform.problems import Problem, not_found
from paysaga.platform.service_auth import callers
from paysaga.services.payment import repository
from paysaga.services.payment.domain import CaseKind, Payment
from paysaga.services.payment.schemas import CaseEvidence, PaymentState, ReconciliationCase, ResolveCase

OPERATORS = callers(OPS)
log = structlog.get_logger("paysaga.payment")


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
        return _state(payment)

    @app.get(
        "/v1/reconciliation-cases",
        dependencies=[OPERATORS],
        response_model=list[ReconciliationCase],
        tags=["ops"],
        summary="Provider outcomes that disagree with a payment's final state (e.g. success after timeout)",
    )
    async def cases(
        open_only: bool = True,
        status: Literal["open", "resolved", "all"] | None = Query(
            None, description="open, resolved or all cases (overrides open_only)"
        ),
        kind: CaseKind | None = None,
        payment_id: Annotated[UUID | None, Query(alias="paymentId")] = None,
        limit: int = Query(500, ge=1, le=500),
    ) -> list[ReconciliationCase]:
        resolved = {"open": False, "resolved": True, "all": None}[status or ("open" if open_only else "all")]
        async with db.connection() as conn:
            rows = await repository.list_cases(
                conn, resolved=resolved, kind=kind.value if kind else None, payment_id=payment_id, limit=limit
            )
        return [_case(r) for r in rows]

    @app.get(
        "/v1/reconciliation-cases/{case_id}",
        dependencies=[OPERATORS],
        response_model=CaseEvidence,
        tags=["ops"],
        summary="One case with its evidence: the payment's state",
    )
    async def case(case_id: int) -> CaseEvidence:
        async with db.connection() as conn:
            row = await repository.get_case(conn, case_id)
            payment = await repository.get(conn, row["payment_id"]) if row is not None else None
        if row is None or payment is None:
            raise not_found(f"no reconciliation case {case_id}")
        return CaseEvidence(case=_case(row), payment=_state(payment))

    @app.post(
        "/v1/reconciliation-cases/{case_id}/resolve",
        dependencies=[OPERATORS],
        response_model=ReconciliationCase,
        tags=["ops"],
        summary="Resolve an open case with the operator's note (409 if it was resolved already)",
    )
    async def resolve(case_id: int, body: ResolveCase) -> ReconciliationCase:
        try:
            async with db.transaction() as conn:
                row = await repository.resolve_case(conn, case_id, resolved_by=body.resolved_by, note=body.note)
        except repository.CaseAlreadyResolved as exc:
            raise Problem(
                409, "case-already-resolved", "Already resolved", f"case {case_id} was resolved before"
            ) from exc
        if row is None:
            raise not_found(f"no reconciliation case {case_id}")
        log.info("payment.case_resolved", case_id=case_id, payment_id=str(row["payment_id"]), by=body.resolved_by)
        return _case(row)

    return app


def _state(payment: Payment) -> PaymentState:
    return PaymentState.model_validate({**asdict(payment), "payment_id": str(payment.payment_id)})


def _case(row: Mapping[str, Any]) -> ReconciliationCase:
    return ReconciliationCase.model_validate({**row, "payment_id": str(row["payment_id"])})
