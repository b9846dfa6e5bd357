"""What the BFF's routes need, built once in main.py."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from paysaga.platform.problems import unauthorized
from paysaga.services.bff.auth import TokenIssuer
from paysaga.services.bff.downstream import Downstream
from paysaga.services.bff.idempotency import IdempotencyStore

_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <accessToken>` from /auth/login")

IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", description="Unique per operation; a retry reuses it")
]


@dataclass(frozen=True)
class BffDeps:
    tokens: TokenIssuer
    customer: Downstream
    wallet: Downstream
    query: Downstream
    keys: IdempotencyStore

    def user_dependency(self) -> object:
        """`Annotated[str, Depends(...)]`: the authenticated user's id, or a 401 problem."""

        def current_user(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> str:
            if credentials is None or credentials.scheme.lower() != "bearer":
                raise unauthorized("Send `Authorization: Bearer <accessToken>`.")
            return self.tokens.verify(credentials.credentials)

        return Annotated[str, Depends(current_user)]
