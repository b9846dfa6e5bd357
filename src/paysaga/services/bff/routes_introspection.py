"""POST /internal/v1/token-introspection: is this a valid customer token (RFC 7662, JSON)?

The BFF alone holds the customers' signing keys. The Ops service asks it about a bearer token that is
not an operator's, to tell a customer (authenticated, not allowed: 403) from nobody (401) without
holding a key that could mint customer tokens. Only the Ops service may ask.
"""

from __future__ import annotations

from fastapi import APIRouter

from paysaga.contracts.identities import OPS
from paysaga.platform.problems import Problem
from paysaga.platform.service_auth import callers
from paysaga.services.bff.deps import BffDeps
from paysaga.services.bff.schemas import Introspection, IntrospectionRequest


def router(deps: BffDeps) -> APIRouter:
    r = APIRouter(prefix="/internal/v1", tags=["internal"])

    @r.post("/token-introspection", response_model=Introspection, dependencies=[callers(OPS)])
    async def introspect(body: IntrospectionRequest) -> Introspection:
        """`active` with the customer's id if the token is one the BFF signed and is valid now;
        `{"active": false}` otherwise (RFC 7662 §2.2: nothing more about an invalid token)."""
        try:
            user_id = deps.tokens.verify(body.token)
        except Problem:
            return Introspection(active=False)
        return Introspection(active=True, sub=user_id, token_type="customer")

    return r
