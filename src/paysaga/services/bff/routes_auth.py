"""POST /api/v1/auth/register and /login."""

from fastapi import APIRouter, Request, status

from paysaga.platform.problems import Problem, problems
from paysaga.services.bff.deps import BffDeps
from paysaga.services.bff.schemas import LoginRequest, LoginResponse, RegisterRequest, RegisterResponse


def router(deps: BffDeps) -> APIRouter:
    r = APIRouter(prefix="/api/v1/auth", tags=["auth"])

    @r.post(
        "/register",
        status_code=status.HTTP_201_CREATED,
        response_model=RegisterResponse,
        responses=problems((409, "email-taken"), (422, "weak-password"), (429, "too-many-requests")),
    )
    async def register(body: RegisterRequest, request: Request) -> RegisterResponse:
        await deps.throttle.address_request(_address(request))
        response = await deps.customer.request(
            "POST", "/v1/customers", json=body.model_dump(mode="json", by_alias=True)
        )
        return RegisterResponse(user_id=response.json()["userId"])

    @r.post(
        "/login",
        response_model=LoginResponse,
        responses=problems((401, "invalid-credentials"), (429, "too-many-requests")),
    )
    async def login(body: LoginRequest, request: Request) -> LoginResponse:
        await deps.throttle.address_request(_address(request))
        await deps.throttle.check_account(body.email)
        try:
            response = await deps.customer.request(
                "POST", "/v1/credentials/verify", json=body.model_dump(by_alias=True)
            )
        except Problem as exc:
            if exc.status == 401:
                await deps.throttle.login_failed(body.email)
            raise
        await deps.throttle.login_succeeded(body.email)
        return LoginResponse(
            access_token=deps.tokens.issue(response.json()["userId"]), expires_in=deps.tokens.ttl_seconds
        )

    return r


def _address(request: Request) -> str | None:
    """The client's address (uvicorn puts a trusted proxy's `X-Forwarded-For` there)."""
    return request.client.host if request.client else None
