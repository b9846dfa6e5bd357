"""Calls to the internal services. Their problem details pass through; an outage becomes a 503."""

from __future__ import annotations

from typing import Any

import structlog

from paysaga.platform.http_client import HttpClient, HttpResponse, HttpTransportError
from paysaga.platform.identity import ServiceIdentity
from paysaga.platform.problems import PROBLEM_BASE, PROBLEM_MEDIA_TYPE, Problem
from paysaga.platform.service_auth import REFUSED_CALLER_TYPES

log = structlog.get_logger("paysaga.bff")


class Downstream:
    """An internal service, called as the BFF (`identity`): `name` is the service's own name, the
    audience of the BFF's identity token."""

    def __init__(self, name: str, base_url: str, timeout: float, identity: ServiceIdentity) -> None:
        self.name = name
        self.identity = identity
        self.client = HttpClient(base_url, timeout=timeout, max_connections=100)

    async def request(self, method: str, path: str, **kwargs: Any) -> HttpResponse:
        """The response when 2xx; the downstream's problem re-raised for 4xx; a 503 problem otherwise.
        The service refusing the BFF's identity (a configuration error) is a 503 too, logged."""
        headers = {**kwargs.pop("headers", {}), "authorization": self.identity.authorization(self.name)}
        try:
            response = await self.client.request(method, path, headers=headers, **kwargs)
        except HttpTransportError as exc:
            log.warning("downstream.unreachable", service=self.name, path=path, error=repr(exc))
            raise self._unavailable() from exc
        if response.is_success:
            return response
        if 400 <= response.status_code < 500 and response.headers.get("content-type", "").startswith(
            PROBLEM_MEDIA_TYPE
        ):
            body = response.json()
            if str(body.get("type", "")).removeprefix(PROBLEM_BASE) in REFUSED_CALLER_TYPES:
                # The service refused the BFF itself (keys not set up): not the customer's doing.
                log.error("downstream.identity_refused", service=self.name, path=path, detail=body.get("detail"))
                raise self._unavailable()
            extensions = {k: v for k, v in body.items() if k not in ("type", "title", "status", "detail", "instance")}
            raise Problem(
                response.status_code,
                str(body.get("type", "")).removeprefix(PROBLEM_BASE) or "about:blank",
                body.get("title", "Error"),
                body.get("detail"),
                **extensions,
            )
        log.error("downstream.error", service=self.name, path=path, status=response.status_code)
        raise self._unavailable()

    def _unavailable(self) -> Problem:
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
