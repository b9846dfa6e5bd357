"""Bearer tokens: HS256 JWTs the BFF signs at login and checks on every call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from paysaga.platform.problems import unauthorized

ISSUER = "paysaga-bff"
AUDIENCE = "paysaga-api"


@dataclass(frozen=True, slots=True)
class TokenIssuer:
    secret: str
    ttl_seconds: int

    def issue(self, user_id: str) -> str:
        now = datetime.now(UTC)
        claims = {
            "sub": user_id,
            "iat": now,
            "nbf": now,
            "exp": now + timedelta(seconds=self.ttl_seconds),
            "iss": ISSUER,
            "aud": AUDIENCE,
        }
        return jwt.encode(claims, self.secret, algorithm="HS256")

    def verify(self, token: str) -> str:
        """The user id in a valid token; raises a 401 problem otherwise."""
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=["HS256"],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["sub", "exp", "iat"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise unauthorized("The access token has expired; log in again.") from exc
        except jwt.InvalidTokenError as exc:
            raise unauthorized("The access token is not valid.") from exc
        return str(claims["sub"])
