"""The BFF's public REST API (SPEC §7)."""

from typing import Annotated

from fastapi import Depends, FastAPI, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from paysaga.platform.http import ReadinessCheck, create_app
from paysaga.platform.problems import unauthorized
from paysaga.services.bff.auth import TokenIssuer
from paysaga.services.bff.downstream import Downstream
from paysaga.services.bff.schemas import (
    LoginRequest,
    LoginResponse,
    RegisterRequest,
    RegisterResponse,
    WalletResponse,
)

_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <accessToken>` from /auth/login")


def build_app(
    *, tokens: TokenIssuer, customer: Downstream, wallet: Downstream, readiness: dict[str, ReadinessCheck]
) -> FastAPI:
    app = create_app(
        title="PaySaga API",
        description="Public REST API: registration, login, wallet and payouts. Errors are RFC 9457 problems.",
        readiness=readiness,
    )

    def current_user(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> str:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise unauthorized("Send `Authorization: Bearer <accessToken>`.")
        return tokens.verify(credentials.credentials)

    @app.post(
        "/api/v1/auth/register",
        status_code=status.HTTP_201_CREATED,
        response_model=RegisterResponse,
        tags=["auth"],
    )
    async def register(body: RegisterRequest) -> RegisterResponse:
        response = await customer.request(
            "POST", "/v1/customers", json=body.model_dump(mode="json", by_alias=True)
        )
        return RegisterResponse(user_id=response.json()["userId"])

    @app.post("/api/v1/auth/login", response_model=LoginResponse, tags=["auth"])
    async def login(body: LoginRequest) -> LoginResponse:
        response = await customer.request(
            "POST", "/v1/credentials/verify", json=body.model_dump(by_alias=True)
        )
        return LoginResponse(
            access_token=tokens.issue(response.json()["userId"]), expires_in=tokens.ttl_seconds
        )

    @app.get("/api/v1/wallet", response_model=WalletResponse, tags=["wallet"])
    async def get_wallet(user_id: Annotated[str, Depends(current_user)]) -> WalletResponse:
        response = await wallet.request("GET", f"/v1/users/{user_id}/wallet")
        data = response.json()
        return WalletResponse(
            wallet_id=data["walletId"],
            currency=data["currency"],
            balance=data["balance"],
            reserved=data["reserved"],
            available=data["available"],
        )

    return app
