"""Payment ops API: a payment's internal state and history, search, stuck payments, the final
payments by time, and the reconciliation cases."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import structlog
from fastapi import FastAPI, Path, Query

from paysaga.contracts.identities import OPS
from paysaga.contracts.ops import PaymentSteps
from paysaga.contracts.values import MAX_BIGINT, MAX_STUCK_AGE_SECONDS, IsoDateTime
from paysaga.platform.cursors import CURSOR_DESCRIPTION, CURSOR_PATTERN, decode_cursor, encode_cursor
from paysaga.platform.db import Database
from paysaga.platform.http import ReadinessCheck, create_app
from paysaga.platform.problems import Problem, not_found, problems
from paysaga.platform.service_auth import callers
from paysaga.platform.tracing import trace_id_of
from paysaga.services.payment import history, repository
from paysaga.services.payment.domain import CaseKind, Payment, WaitReason, wait_reason
from paysaga.services.payment.schemas import (
    CaseEvidence,
    FinalPage,
    FinalView,
    PaymentPage,
    PaymentState,
    PaymentStatuses,
    PaymentStatusView,
    ReconciliationCase,
    ResolveCase,
    StuckGroup,
    StuckPayments,
    StuckSample,
)

OPERATORS = callers(OPS)
log = structlog.get_logger("paysaga.payment")


CaseId = Annotated[int, Path(ge=1, le=MAX_BIGINT, description="Reconciliation case id")]


def build_app(db: Database, readiness: dict[str, ReadinessCheck]) -> FastAPI:
    app = create_app(
        title="PaySaga Payment",
        description="The payment state machine. Consumes PaymentInitiated and ProviderCallbackReceived, "
        "publishes PaymentCompleted and PaymentFailed. This API is for operators.",
        readiness=readiness,
    )

    @app.get(
        "/v1/payments/{payment_id}",
        response_model=PaymentState,
        tags=["ops"],
        dependencies=[OPERATORS],
        responses=problems((404, "not-found")),
    )
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
        responses=problems((404, "not-found")),
    )
    async def case(case_id: CaseId) -> CaseEvidence:
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
        responses=problems((404, "not-found"), (409, "case-already-resolved")),
    )
    async def resolve(case_id: CaseId, body: ResolveCase) -> ReconciliationCase:
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

    _search_routes(app, db)
    return app


def _search_routes(app: FastAPI, db: Database) -> None:
    """Finals, search, statuses and stuck payments."""

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
        from_: Annotated[IsoDateTime, Query(alias="from", description="Final at or after (inclusive)")],
        to: Annotated[IsoDateTime, Query(description="Final before (exclusive)")],
        limit: Annotated[int, Query(ge=1, le=1000)] = 500,
        cursor: Annotated[str | None, Query(pattern=CURSOR_PATTERN, description=CURSOR_DESCRIPTION)] = None,
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

    @app.get(
        "/v1/payments/{payment_id}/history",
        response_model=PaymentSteps,
        tags=["ops"],
        dependencies=[OPERATORS],
        summary="The payment's steps (state changes, each try and answer, callbacks, cases) and what it waits for",
    )
    async def get_history(payment_id: UUID) -> PaymentSteps:
        async with db.connection() as conn:
            payment = await repository.get(conn, payment_id)
            rows = await repository.history(conn, payment_id) if payment else []
            cases = await repository.cases_of(conn, payment_id) if payment else []
        return history.payment_steps(str(payment_id), payment, rows, cases)

    @app.get(
        "/v1/payments",
        response_model=PaymentPage,
        tags=["ops"],
        dependencies=[OPERATORS],
        summary="Search payments (every given filter must match), newest first, paged by cursor",
    )
    async def search(
        payment_id: Annotated[UUID | None, Query(alias="paymentId")] = None,
        user_id: Annotated[UUID | None, Query(alias="userId")] = None,
        provider_txn_id: Annotated[str | None, Query(alias="providerTxnId", max_length=200)] = None,
        status: Literal["RECEIVED", "CHECKED", "SUBMITTED", "COMPLETED", "FAILED"] | None = None,
        error_code: Annotated[str | None, Query(alias="errorCode", max_length=100)] = None,
        created_from: Annotated[IsoDateTime | None, Query(alias="createdFrom", description="inclusive")] = None,
        created_to: Annotated[IsoDateTime | None, Query(alias="createdTo", description="exclusive")] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        cursor: Annotated[str | None, Query(pattern=CURSOR_PATTERN, description=CURSOR_DESCRIPTION)] = None,
    ) -> PaymentPage:
        where = repository.Search(payment_id, user_id, provider_txn_id, status, error_code, created_from, created_to)
        async with db.connection() as conn:
            found = await repository.search(
                conn, where, limit=limit + 1, after=decode_cursor(cursor) if cursor else None
            )
        last = found[limit - 1] if len(found) > limit else None
        return PaymentPage(
            items=[_state(p) for p in found[:limit]],
            next_cursor=encode_cursor(last.created_at, last.payment_id) if last else None,
        )

    @app.get(
        "/v1/payment-statuses",
        response_model=PaymentStatuses,
        tags=["ops"],
        dependencies=[OPERATORS],
        summary="The status of each of these payments (up to 100), for the ones Payment knows",
    )
    async def payment_statuses(
        payment_ids: Annotated[list[UUID], Query(alias="paymentId", min_length=1, max_length=100)],
    ) -> PaymentStatuses:
        async with db.connection() as conn:
            rows = await repository.statuses(conn, payment_ids)
        return PaymentStatuses(
            items=[PaymentStatusView(payment_id=str(r["payment_id"]), status=r["status"]) for r in rows]
        )

    @app.get(
        "/v1/stuck-payments",
        response_model=StuckPayments,
        tags=["ops"],
        dependencies=[OPERATORS],
        summary="Payments not final this long after they were initiated, grouped by where they stopped",
    )
    async def stuck(
        older_than_seconds: Annotated[float, Query(alias="olderThanSeconds", gt=0, le=MAX_STUCK_AGE_SECONDS)] = 300,
        samples: Annotated[int, Query(ge=0, le=100)] = 5,
    ) -> StuckPayments:
        now = datetime.now(UTC)
        async with db.connection() as conn:
            groups = await repository.stuck(conn, older_than_seconds=older_than_seconds, samples=max(samples, 1))
        views = [_stuck_group(g, now, samples) for g in groups]
        return StuckPayments(
            older_than_seconds=older_than_seconds, as_of=now, total=sum(g.count for g in views), groups=views
        )


def _state(payment: Payment) -> PaymentState:
    return PaymentState.model_validate(
        {**asdict(payment), "payment_id": str(payment.payment_id), "trace_id": trace_id_of(payment.traceparent)}
    )


def _stuck_group(group: repository.StuckGroup, now: datetime, samples: int) -> StuckGroup:
    reason = wait_reason(group.status, retrying=group.retrying, failure_reported=group.failure_reported)
    assert isinstance(reason, WaitReason)  # a payment not final always waits for something
    return StuckGroup(
        status=group.status.value,
        waiting_for=reason.value,
        next_action=reason.next_action,
        count=group.count,
        oldest_created_at=group.samples[0].created_at,
        samples=[
            StuckSample(
                payment_id=str(p.payment_id),
                created_at=p.created_at,
                age_seconds=round((now - p.created_at).total_seconds(), 3),
                attempts=p.attempts,
                last_error=p.last_error,
                next_attempt_at=p.next_attempt_at,
                provider_txn_id=p.provider_txn_id,
            )
            for p in group.samples[:samples]
        ],
    )


def _case(row: Mapping[str, Any]) -> ReconciliationCase:
    return ReconciliationCase.model_validate({**row, "payment_id": str(row["payment_id"])})
