"""GET /api/v1/wallet and POST /api/v1/wallet/top-ups."""

from typing import Any
from uuid import UUID

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse

from paysaga.platform.problems import problems
from paysaga.services.bff.deps import IDEMPOTENT, UNAUTHORIZED, BffDeps, CurrentUser, IdempotencyKey
from paysaga.services.bff.idempotency import KEY_PROBLEMS
from paysaga.services.bff.schemas import TopUpRequest, TopUpResponse, WalletResponse


def router(deps: BffDeps) -> APIRouter:
    r = APIRouter(prefix="/api/v1/wallet", tags=["wallet"])

    @r.get(
        "",
        response_model=WalletResponse,
        responses=problems(UNAUTHORIZED, (404, "not-found")),
        summary="The wallet (404 until the registration has opened it, a moment after)",
    )
    async def get_wallet(user_id: CurrentUser) -> WalletResponse:
        data = (await deps.wallet.request("GET", f"/v1/users/{user_id}/wallet")).json()
        return WalletResponse(
            wallet_id=data["walletId"],
            currency=data["currency"],
            balance=data["balance"],
            reserved=data["reserved"],
            available=data["available"],
        )

    @r.post(
        "/top-ups",
        status_code=status.HTTP_201_CREATED,
        response_model=TopUpResponse,
        summary="Top up the wallet (a simulated card top-up); idempotent",
        openapi_extra=IDEMPOTENT,
        responses=problems(UNAUTHORIZED, *KEY_PROBLEMS, (404, "wallet-not-found"), (422, "balance-limit-exceeded")),
    )
    async def top_up(
        body: TopUpRequest,
        user_id: CurrentUser,
        idempotency_key: IdempotencyKey = None,
    ) -> JSONResponse:
        async def call(top_up_id: UUID) -> tuple[int, dict[str, Any]]:
            response = await deps.wallet.request(
                "POST", f"/v1/users/{user_id}/top-ups", json={"topUpId": str(top_up_id), "amount": body.amount}
            )
            data = response.json()
            answer = TopUpResponse(top_up_id=data["topUpId"], balance=data["balance"], available=data["available"])
            return 201, answer.model_dump(mode="json", by_alias=True)

        answer = await deps.keys.run_once(
            user_id, "top-up", idempotency_key, body.model_dump(mode="json", by_alias=True), call
        )
        return JSONResponse(answer.body, status_code=answer.status, headers=answer.headers)

    return r
