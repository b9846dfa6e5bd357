"""POST /api/v1/payments, GET /api/v1/payments/{id} (ETag), GET /api/v1/payments (history); both GETs
show the payments accepted here that the read model has not caught up with (own_writes.py)."""

import hashlib
from typing import Annotated, Any, Literal
from uuid import UUID

import orjson
from fastapi import APIRouter, Header, Query, Response, status
from fastapi.responses import JSONResponse

from paysaga.platform.cursors import CURSOR_DESCRIPTION, CURSOR_PATTERN
from paysaga.platform.problems import Problem, not_found, problems
from paysaga.services.bff.deps import IDEMPOTENT, UNAUTHORIZED, BffDeps, CurrentUser, IdempotencyKey
from paysaga.services.bff.idempotency import KEY_PROBLEMS
from paysaga.services.bff.own_writes import first_page, missing_from, pending_view
from paysaga.services.bff.schemas import PaymentAccepted, PaymentList, PaymentRequest, PaymentResponse


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags


def router(deps: BffDeps) -> APIRouter:
    r = APIRouter(prefix="/api/v1/payments", tags=["payments"])

    @r.post(
        "",
        status_code=status.HTTP_202_ACCEPTED,
        response_model=PaymentAccepted,
        summary="Pay out from the wallet to a bank account; idempotent",
        openapi_extra=IDEMPOTENT,
        responses={
            **problems(
                UNAUTHORIZED,
                *KEY_PROBLEMS,
                (404, "wallet-not-found"),
                (422, "insufficient-funds"),
                (422, "currency-mismatch"),
            ),
            202: {"headers": {"Location": {"description": "The payment", "schema": {"type": "string"}}}},
        },
    )
    async def create_payment(
        body: PaymentRequest,
        user_id: CurrentUser,
        idempotency_key: IdempotencyKey = None,
    ) -> JSONResponse:
        request_body = body.model_dump(mode="json", by_alias=True)

        async def call(payment_id: UUID) -> tuple[int, dict[str, Any]]:
            await deps.wallet.request(
                "POST", f"/v1/users/{user_id}/reservations", json={"paymentId": str(payment_id), **request_body}
            )
            return 202, PaymentAccepted(payment_id=str(payment_id)).model_dump(mode="json", by_alias=True)

        answer = await deps.keys.run_once(user_id, "payment", idempotency_key, request_body, call)
        headers = {**answer.headers, "Location": f"/api/v1/payments/{answer.resource_id}"}
        return JSONResponse(answer.body, status_code=answer.status, headers=headers)

    @r.get(
        "/{payment_id}",
        response_model=PaymentResponse,
        responses={
            **problems(UNAUTHORIZED, (404, "not-found")),
            200: {"headers": {"ETag": {"schema": {"type": "string"}}, "Cache-Control": {"schema": {"type": "string"}}}},
            304: {"description": "Not modified (If-None-Match matched the ETag)"},
        },
    )
    async def get_payment(
        payment_id: UUID,
        user_id: CurrentUser,
        if_none_match: Annotated[str | None, Header(alias="If-None-Match")] = None,
    ) -> Response:
        try:
            data = (await deps.query.request("GET", f"/v1/users/{user_id}/payments/{payment_id}")).json()
        except Problem as problem:
            if problem.status != 404:
                raise
            record = await deps.keys.find_resource(user_id, "payment", payment_id)
            if record is None:
                raise not_found(f"no payment {payment_id}") from problem
            data = pending_view(payment_id, record)
        body = orjson.dumps(PaymentResponse.model_validate(data).model_dump(mode="json", by_alias=True))
        etag = etag_of(body)
        # The status changes: caches must revalidate every time, and may only keep it per user.
        headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
        if etag_matches(if_none_match, etag):
            return Response(status_code=304, headers=headers)
        return Response(body, media_type="application/json", headers=headers)

    @r.get("", response_model=PaymentList, summary="Payment history, newest first", responses=problems(UNAUTHORIZED))
    async def list_payments(
        user_id: CurrentUser,
        limit: int = Query(20, ge=1, le=100),
        cursor: Annotated[str | None, Query(pattern=CURSOR_PATTERN, description=CURSOR_DESCRIPTION)] = None,
        status: Literal["PENDING", "COMPLETED", "FAILED"] | None = None,
    ) -> PaymentList:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        if status:
            params["status"] = status
        path = f"/v1/users/{user_id}/payments"
        data = (await deps.query.request("GET", path, params=params)).json()
        if cursor is None and status in (None, "PENDING"):  # read your own writes (own_writes.py)
            accepted = await deps.keys.newest_answered(user_id, "payment", 202, limit)
            if accepted:
                newest = data
                if status is not None:
                    newest = (await deps.query.request("GET", path, params={"limit": limit})).json()
                data = first_page(data, missing_from(newest, accepted), limit)
        return PaymentList.model_validate(data)

    return r
