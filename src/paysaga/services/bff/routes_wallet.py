"""GET /api/v1/wallet and POST /api/v1/wallet/top-ups."""

from typing import Any
from uuid import UUID

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse

from paysaga.services.bff.deps import BffDeps, CurrentUser, IdempotencyKey
from paysaga.services.bff.schemas import TopUpRequest, TopUpResponse, WalletResponse


def router(deps: BffDeps) -> APIRouter:
    r = APIRouter(prefix="/api/v1/wallet", tags=["wallet"])

    @r.get("", response_model=WalletResponse)
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
