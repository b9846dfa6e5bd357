"""Telling a customer from nobody on the operators' API: a bearer token that is not an operator's but
says it is a customer's (`iss`) is shown to the BFF, which alone can verify it (token introspection,
RFC 7662). A valid customer token gets 403 (authenticated, not an operator); anything else 401.

The answer is cached per token for a minute (at most until the token expires), so a client retrying
with its customer token costs the BFF one check a minute. If the BFF does not answer, the token is
treated as unknown: refused either way, only the status differs.
"""

from __future__ import annotations

import hashlib
import time

import jwt
import structlog

from paysaga.contracts.identities import CUSTOMER_TOKEN_ISSUER
from paysaga.platform.problems import Problem
from paysaga.services.ops.peers import Peer

log = structlog.get_logger("paysaga.ops")

CACHE_SECONDS = 60.0
CACHE_SIZE = 4096


class CustomerTokens:
    def __init__(self, bff: Peer | None) -> None:
        self._bff = bff
        self._cache: dict[str, tuple[bool, float]] = {}

    async def is_customer(self, token: str) -> bool:
        """Whether `token` is a customer's valid access token (the BFF's word)."""
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.InvalidTokenError:
            return False
        if self._bff is None or claims.get("iss") != CUSTOMER_TOKEN_ISSUER:
            return False
        key = hashlib.sha256(token.encode()).hexdigest()
        now = time.monotonic()
        cached = self._cache.get(key)
        if cached is not None and cached[1] > now:
            return cached[0]
        try:
            answer = await self._bff.request("POST", "/internal/v1/token-introspection", json={"token": token})
        except Problem as exc:
            log.warning("ops.introspection_failed", status=exc.status)
            return False
        active = bool(answer.json().get("active"))
        if len(self._cache) >= CACHE_SIZE:
            self._cache.clear()
        expires = claims.get("exp")
        lifetime = CACHE_SECONDS if not isinstance(expires, int) else min(CACHE_SECONDS, expires - time.time())
        self._cache[key] = (active, now + max(lifetime, 0.0))
        return active
