"""What the BFF's routes need, built once in main.py, and the request-level dependencies."""

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from paysaga.platform.idempotency_key import key_parameter
from paysaga.platform.problems import unauthorized
from paysaga.services.bff.auth import TokenIssuer
from paysaga.services.bff.downstream import Downstream
from paysaga.services.bff.idempotency import IdempotencyStore
from paysaga.services.bff.throttle import AuthThrottle

_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <accessToken>` from /auth/login")

# Declared in the document by `IDEMPOTENT` (required there); optional here so that `check_key`
# answers a missing key with its own problem.
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", include_in_schema=False)]
IDEMPOTENT: dict[str, Any] = {"parameters": [key_parameter()]}


@dataclass(frozen=True)
class BffDeps:
    tokens: TokenIssuer
    customer: Downstream
    wallet: Downstream
    query: Downstream
    keys: IdempotencyStore
    throttle: AuthThrottle


async def token_issuer(request: Request) -> TokenIssuer:
    """The issuer `build_app` put on the application (async: FastAPI runs a plain `def` dependency in a
    worker thread, two thread hand-offs per request for a dictionary lookup)."""
    tokens: TokenIssuer = request.app.state.tokens
    return tokens


async def current_user(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    tokens: Annotated[TokenIssuer, Depends(token_issuer)],
) -> str:
    """The authenticated user's id, or a 401 problem (an HS256 check: tens of microseconds, on the loop)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthorized("Send `Authorization: Bearer <accessToken>`.")
    return tokens.verify(credentials.credentials)


CurrentUser = Annotated[str, Depends(current_user)]
UNAUTHORIZED = (401, "unauthorized")  # every route of a CurrentUser
