"""Operators' access tokens: HS256 JWTs the Ops service signs at login (`OPS_JWT_SECRET`) and checks
on every other `/ops/v1` route.

A customer's token (the BFF's key, audience `paysaga-api`) and a service identity token (EdDSA)
never pass: the key, the algorithm, the audience and the role must all be the operators'. A valid
customer token is answered 403 (the BFF vouches for it: `customer_tokens`), anything else 401. Each
request also finds the operator in the database, so a disabled operator is out at once.
Keys rotate like the BFF's: the active key signs (its id in `kid`), former ones still verify.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated
from uuid import UUID

import jwt
import structlog
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from paysaga.platform.db import Database
from paysaga.platform.problems import Problem, unauthorized
from paysaga.services.ops import repository
from paysaga.services.ops.customer_tokens import CustomerTokens

ISSUER = "paysaga-ops"
AUDIENCE = "paysaga-ops"
ROLE = "operator"

log = structlog.get_logger("paysaga.ops")


def key_id(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class OperatorTokens:
    secret: str
    ttl_seconds: int
    previous: tuple[str, ...] = ()
    _keys: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        keys = {key_id(old): old for old in self.previous}
        keys[key_id(self.secret)] = self.secret
        object.__setattr__(self, "_keys", keys)

    def issue(self, operator_id: UUID) -> str:
        now = datetime.now(UTC)
        claims = {
            "sub": str(operator_id),
            "role": ROLE,
            "iat": now,
            "nbf": now,
            "exp": now + timedelta(seconds=self.ttl_seconds),
            "iss": ISSUER,
            "aud": AUDIENCE,
        }
        return jwt.encode(claims, self.secret, algorithm="HS256", headers={"kid": key_id(self.secret)})

    def verify(self, token: str) -> UUID:
        """The operator id of a valid operator token; a 401 problem otherwise."""
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = self._keys.get(str(kid)) if kid is not None else None
            if key is None:
                raise jwt.InvalidTokenError("not signed with an operators' key")
            claims = jwt.decode(
                token,
                key,
                algorithms=["HS256"],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["sub", "exp", "iat", "role"]},
            )
            if claims["role"] != ROLE:
                raise jwt.InvalidTokenError("not an operator's token")
            return UUID(str(claims["sub"]))
        except jwt.ExpiredSignatureError as exc:
            raise unauthorized("The operator token has expired; log in again.") from exc
        except (jwt.InvalidTokenError, ValueError) as exc:
            log.warning("ops.token_refused", reason=str(exc))
            raise unauthorized("This route needs an operator's access token (POST /ops/v1/auth/login).") from exc


@dataclass(frozen=True, slots=True)
class CurrentOperatorInfo:
    operator_id: UUID
    email: str


_BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="operatorToken",
    description="`Authorization: Bearer <accessToken>` from POST /ops/v1/auth/login (an operator's token)",
)


async def current_operator(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)]
) -> CurrentOperatorInfo:
    """The authenticated operator, or a 401 problem."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthorized("Send `Authorization: Bearer <accessToken>` from POST /ops/v1/auth/login.")
    tokens: OperatorTokens = request.app.state.operator_tokens
    db: Database = request.app.state.db
    try:
        operator_id = tokens.verify(credentials.credentials)
    except Problem:
        customers: CustomerTokens = request.app.state.customer_tokens
        if await customers.is_customer(credentials.credentials):
            log.warning("ops.customer_refused", path=request.url.path)
            raise Problem(
                403,
                "not-an-operator",
                "Forbidden",
                "A customer's token does not open the operators' API; log in as an operator (POST /ops/v1/auth/login).",
            ) from None
        raise
    async with db.connection() as conn:
        operator = await repository.get_operator(conn, operator_id)
    if operator is None or operator.disabled_at is not None:
        raise unauthorized("This operator account does not exist or was disabled.")
    return CurrentOperatorInfo(operator.operator_id, operator.email)


CurrentOperator = Annotated[CurrentOperatorInfo, Depends(current_operator)]
