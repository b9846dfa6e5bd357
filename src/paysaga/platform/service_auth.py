"""Who may call an internal HTTP route: `dependencies=[callers("bff", OPS)]` on the route.

The app's verifier (`protect(app, verifier)`, done by `build_service`) checks the caller's token
(see `platform.identity`). Without one every protected route answers 401: an app nobody gave the
callers' keys lets nobody in. The OpenAPI document shows the bearer scheme on every protected route.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

import structlog
from fastapi import Depends, FastAPI, Request, Security
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from paysaga.platform.identity import IdentityError, ServiceVerifier, allowed_text
from paysaga.platform.problems import Problem

# The problem types of a refused caller: a caller that gets one has a configuration error.
UNAUTHENTICATED = "caller-unauthenticated"
FORBIDDEN = "caller-not-allowed"
REFUSED_CALLER_TYPES = frozenset({UNAUTHENTICATED, FORBIDDEN})


def _unauthenticated(detail: str) -> Problem:
    return Problem(401, UNAUTHENTICATED, "Unauthorized", detail, headers={"WWW-Authenticate": "Bearer"})


log = structlog.get_logger("paysaga.identity")

_BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="serviceIdentity",
    description="A short-lived EdDSA JWT the calling service signs with its own key: `iss` = caller, "
    "`aud` = this service.",
)


def protect(app: FastAPI, verifier: ServiceVerifier | None) -> None:
    """Give the app the verifier of its callers' tokens."""
    app.state.identity = verifier


def callers(*allowed: str) -> Any:
    """A route dependency: the request must come from one of the `allowed` services (401 when its
    identity is missing or invalid, 403 when it is valid but not allowed); the caller's name is
    then `request.state.caller`."""
    names = frozenset(allowed)

    async def authenticate(
        request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_BEARER)]
    ) -> str:
        verifier: ServiceVerifier | None = getattr(request.app.state, "identity", None)
        if credentials is None:
            raise _unauthenticated("This is an internal API: the calling service must present its identity token.")
        if verifier is None:
            log.error("identity.no_verifier", path=request.url.path)
            raise _unauthenticated("This service has not been given its callers' keys.")
        try:
            caller = verifier.caller(credentials.credentials)
        except IdentityError as exc:
            log.warning("identity.refused", path=request.url.path, reason=str(exc))
            raise _unauthenticated(f"The caller's identity could not be established: {exc}.") from exc
        if caller not in names:
            log.warning("identity.forbidden", path=request.url.path, caller=caller)
            raise Problem(
                403,
                FORBIDDEN,
                "Forbidden",
                f"The {caller} service may not call this route (allowed: {allowed_text(names)}).",
            )
        request.state.caller = caller
        return caller

    authenticate.allowed = names  # type: ignore[attr-defined]
    return Depends(authenticate)


def api_routes(app: FastAPI) -> Iterator[Any]:
    """Every API route of the app, its routers' included (FastAPI includes a router lazily: its routes
    are not in `app.routes`). Each has the route's `path`, `methods` and `dependant`, the router's
    dependencies merged in."""
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute):
            yield context


def allowed_callers(route: Any) -> frozenset[str] | None:
    """The callers a route (an `api_routes` item) lets in, or None for a route that is not protected."""
    for dependency in route.dependant.dependencies:
        allowed = getattr(dependency.call, "allowed", None)
        if isinstance(allowed, frozenset):
            return allowed
    return None


def protected_routes(app: FastAPI) -> dict[str, frozenset[str]]:
    """`"METHOD /path"` → the callers it allows, for every protected route of the app."""
    found: dict[str, frozenset[str]] = {}
    for route in api_routes(app):
        if (allowed := allowed_callers(route)) is not None:
            for method in sorted(route.methods or ()):
                found[f"{method} {route.path}"] = allowed
    return found
