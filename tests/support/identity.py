"""Calling internal APIs as a service in tests: the platform's own identity keys, or a keyring of
the test session's own for apps built in-process."""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from typing import Any

import grpc
import httpx
from fastapi import FastAPI

from paysaga.contracts.identities import CALLERS, OPS
from paysaga.platform.identity import (
    ServiceIdentity,
    ServiceVerifier,
    new_private_key_text,
    service_keys_text,
)
from paysaga.platform.service_auth import protect


class ServiceAuth(httpx.Auth):
    """httpx auth: each request carries `identity`'s token addressed to `audience`."""

    def __init__(self, identity: ServiceIdentity, audience: str) -> None:
        self.identity = identity
        self.audience = audience

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self.identity.authorization(self.audience)
        yield request


def identities(environment: Mapping[str, str]) -> dict[str, ServiceIdentity]:
    """The callers' identities from an environment holding their `<NAME>_IDENTITY_KEY`s."""
    return {name: ServiceIdentity.from_text(name, environment[f"{name.upper()}_IDENTITY_KEY"]) for name in CALLERS}


@dataclass
class Keyring:
    """Identity keys made for the test session: `service_keys` is their PAYSAGA_SERVICE_KEYS."""

    private: dict[str, str] = field(default_factory=lambda: {name: new_private_key_text() for name in CALLERS})

    @property
    def service_keys(self) -> str:
        return service_keys_text(self.private)

    def identity(self, caller: str) -> ServiceIdentity:
        return ServiceIdentity.from_text(caller, self.private[caller])

    def auth(self, audience: str, caller: str = OPS) -> ServiceAuth:
        return ServiceAuth(self.identity(caller), audience)

    def headers(self, audience: str, caller: str = OPS) -> dict[str, str]:
        return {"Authorization": self.identity(caller).authorization(audience)}

    def verifier(self, audience: str) -> ServiceVerifier:
        return ServiceVerifier.from_text(audience, self.service_keys)

    def protect(self, app: FastAPI, audience: str) -> FastAPI:
        """`app` (built in-process) verifying this keyring's tokens addressed to `audience`."""
        protect(app, self.verifier(audience))
        return app

    def environment(self) -> dict[str, str]:
        """The settings a service process reads: each caller's key and the public keys."""
        return {
            "PAYSAGA_SERVICE_KEYS": self.service_keys,
            **{f"{name.upper()}_IDENTITY_KEY": key for name, key in self.private.items()},
        }


TEST_KEYS = Keyring()


class _Metadata(grpc.aio.UnaryUnaryClientInterceptor):  # type: ignore[misc]
    def __init__(self, identity: ServiceIdentity, audience: str) -> None:
        self.identity = identity
        self.audience = audience

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        metadata = [*(details.metadata or ()), ("authorization", self.identity.authorization(self.audience))]
        return await continuation(details._replace(metadata=metadata), request)


def grpc_identity(identity: ServiceIdentity, audience: str) -> grpc.aio.ClientInterceptor:
    """A client interceptor: every call on the channel carries `identity`'s token for `audience`."""
    return _Metadata(identity, audience)
