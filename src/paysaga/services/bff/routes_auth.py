"""POST /api/v1/auth/register and /login."""

from fastapi import APIRouter, status

from paysaga.services.bff.deps import BffDeps
from paysaga.services.bff.schemas import LoginRequest, LoginResponse, RegisterRequest, RegisterResponse


def router(deps: BffDeps) -> APIRouter:
    r = APIRouter(prefix="/api/v1/auth", tags=["auth"])

    @r.post("/register", status_code=status.HTTP_201_CREATED, response_model=RegisterResponse)
    async def register(body: RegisterRequest) -> RegisterResponse:
        response = await deps.customer.request(
            "POST", "/v1/customers", json=body.model_dump(mode="json", by_alias=True)
        )
        return RegisterResponse(user_id=response.json()["userId"])

    @r.post("/login", response_model=LoginResponse)
    async def login(body: LoginRequest) -> LoginResponse:
        response = await deps.customer.request("POST", "/v1/credentials/verify", json=body.model_dump(by_alias=True))
        return LoginResponse(
            access_token=deps.tokens.issue(response.json()["userId"]), expires_in=deps.tokens.ttl_seconds
        )

    return r
