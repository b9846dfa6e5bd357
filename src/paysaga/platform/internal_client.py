"""Calling another service's internal API as this service's identity (SPEC §11).

`send` is one request with the caller's identity token, whatever it answers. `request` is what a
caller usually wants: the response when 2xx; the service's problem details re-raised for a 4xx (the
caller's own 4xx pass through to its client); a 503 problem when the service does not answer, fails,
or refuses the caller's identity (a configuration error, logged at error level).
"""

from __future__ import annotations

from typing import Any

import structlog

from paysaga.platform.http_client import HttpClient, HttpResponse, HttpTransportError
from paysaga.platform.identity import ServiceIdentity
from paysaga.platform.problems import PROBLEM_BASE, PROBLEM_MEDIA_TYPE, Problem
from paysaga.platform.service_auth import REFUSED_CALLER_TYPES

log = structlog.get_logger("paysaga.internal_client")

_STANDARD_MEMBERS = ("type", "title", "status", "detail", "instance")


class InternalService:
    """One service: `name` is its catalog name, the audience of the caller's identity tokens."""

    def __init__(
        self, name: str, base_url: str, identity: ServiceIdentity, *, timeout: float, max_connections: int = 100
    ) -> None:
        self.name = name
        self.base_url = base_url
        self.identity = identity
        self.client = HttpClient(base_url, timeout=timeout, max_connections=max_connections)

    async def send(self, method: str, path: str, **kwargs: Any) -> HttpResponse:
        """One request with the caller's identity, whatever it answers (HttpTransportError when nothing)."""
        headers = {**kwargs.pop("headers", {}), "authorization": self.identity.authorization(self.name)}
        return await self.client.request(method, path, headers=headers, **kwargs)

    async def request(self, method: str, path: str, **kwargs: Any) -> HttpResponse:
        try:
            response = await self.send(method, path, **kwargs)
        except HttpTransportError as exc:
            log.warning("internal.unreachable", service=self.name, path=path, error=repr(exc))
            raise self.unavailable() from exc
        if response.is_success:
            return response
        if 400 <= response.status_code < 500 and response.headers.get("content-type", "").startswith(
            PROBLEM_MEDIA_TYPE
        ):
            body = response.json()
            slug = str(body.get("type", "")).removeprefix(PROBLEM_BASE)
            if slug in REFUSED_CALLER_TYPES:
                log.error("internal.identity_refused", service=self.name, path=path, detail=body.get("detail"))
                raise self.unavailable()
            extensions = {k: v for k, v in body.items() if k not in _STANDARD_MEMBERS}
            raise Problem(
                response.status_code,
                slug or "about:blank",
                body.get("title", "Error"),
                body.get("detail"),
                **extensions,
            )
        log.error("internal.error", service=self.name, path=path, status=response.status_code)
        raise self.unavailable()

    def unavailable(self) -> Problem:
        return Problem(
            503,
            "service-unavailable",
            "Service unavailable",
            f"The {self.name} service is not answering; retry shortly.",
            headers={"Retry-After": "1"},
        )

    async def healthy(self) -> None:
        response = await self.client.get("/healthz")
        response.raise_for_status()

    async def close(self) -> None:
        await self.client.close()
