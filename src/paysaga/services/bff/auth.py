"""Bearer tokens: HS256 JWTs the BFF signs at login and checks on every call.

Keys rotate: the active key signs and its id goes in the token's `kid` header; former keys
(`BFF_JWT_PREVIOUS_SECRETS`) still verify the tokens they signed until those expire.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import jwt

from paysaga.contracts.identities import CUSTOMER_TOKEN_ISSUER
from paysaga.platform.problems import unauthorized

ISSUER = CUSTOMER_TOKEN_ISSUER
AUDIENCE = "paysaga-api"


def key_id(secret: str) -> str:
    """The `kid` of a signing key: the first 16 hex digits of its SHA-256 (not the key)."""
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class TokenIssuer:
    secret: str
    ttl_seconds: int
    previous: tuple[str, ...] = ()
    _keys: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        keys = {key_id(old): old for old in self.previous}
        keys[key_id(self.secret)] = self.secret
        object.__setattr__(self, "_keys", keys)

    @property
    def kid(self) -> str:
        return key_id(self.secret)

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
        return jwt.encode(claims, self.secret, algorithm="HS256", headers={"kid": self.kid})

    def _key_for(self, token: str) -> str:
        """The key the token names; a token without a kid (issued before rotation) gets the active key."""
        kid = jwt.get_unverified_header(token).get("kid")
        if kid is None:
            return self.secret
        key = self._keys.get(str(kid))
        if key is None:
            raise jwt.InvalidTokenError("unknown key id")
        return key

    def verify(self, token: str) -> str:
        """The user id in a valid token; raises a 401 problem otherwise."""
        try:
            claims = jwt.decode(
                token,
                self._key_for(token),
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
