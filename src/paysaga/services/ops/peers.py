"""The other services, called as the operators' identity `ops` on their ops routes (and their
health probes). Their problem details pass through; a service that does not answer is a 503."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import structlog

from paysaga.platform.http_client import HttpClient, HttpResponse, HttpTransportError
from paysaga.platform.identity import ServiceIdentity
from paysaga.platform.problems import PROBLEM_BASE, PROBLEM_MEDIA_TYPE, Problem
from paysaga.platform.service_auth import REFUSED_CALLER_TYPES

log = structlog.get_logger("paysaga.ops")


def parse_service_urls(text: str) -> dict[str, str]:
    """`name=url,name=url` → {name: url}."""
    urls: dict[str, str] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        name, sep, url = item.partition("=")
        if not sep or not name.strip() or not url.strip().startswith(("http://", "https://")):
            raise ValueError(f"OPS_SERVICE_URLS: {item!r} is not name=http(s)://host:port")
        urls[name.strip()] = url.strip().rstrip("/")
    return urls


class Peer:
    """One service: `name` is its catalog name, the audience of the operators' identity tokens."""

    def __init__(self, name: str, base_url: str, identity: ServiceIdentity, *, timeout: float) -> None:
        self.name = name
        self.base_url = base_url
        self.identity = identity
        self.client = HttpClient(base_url, timeout=timeout, max_connections=16)

    async def send(self, method: str, path: str, **kwargs: Any) -> HttpResponse:
        """One request with the operators' identity, whatever it answers (HttpTransportError when
        nothing)."""
        headers = {**kwargs.pop("headers", {}), "authorization": self.identity.authorization(self.name)}
        return await self.client.request(method, path, headers=headers, **kwargs)

    async def request(self, method: str, path: str, **kwargs: Any) -> HttpResponse:
        """The response when 2xx; the service's problem re-raised for a 4xx; a 503 problem otherwise
        (and when the service refuses the operators' identity: a configuration error, logged)."""
        try:
            response = await self.send(method, path, **kwargs)
        except HttpTransportError as exc:
            log.warning("ops.peer_unreachable", service=self.name, path=path, error=repr(exc))
            raise self.unavailable() from exc
        if response.is_success:
            return response
        if 400 <= response.status_code < 500 and response.headers.get("content-type", "").startswith(
            PROBLEM_MEDIA_TYPE
        ):
            body = response.json()
            slug = str(body.get("type", "")).removeprefix(PROBLEM_BASE)
            if slug in REFUSED_CALLER_TYPES:
                log.error("ops.peer_refused_identity", service=self.name, path=path, detail=body.get("detail"))
                raise self.unavailable()
            extensions = {k: v for k, v in body.items() if k not in ("type", "title", "status", "detail", "instance")}
            raise Problem(
                response.status_code,
                slug or "about:blank",
                body.get("title", "Error"),
                body.get("detail"),
                **extensions,
            )
        log.error("ops.peer_error", service=self.name, path=path, status=response.status_code)
        raise self.unavailable()

    def unavailable(self) -> Problem:
        return Problem(
            503,
            "service-unavailable",
            "Service unavailable",
            f"The {self.name} service is not answering; retry shortly.",
            headers={"Retry-After": "1"},
        )

    async def close(self) -> None:
        await self.client.close()


class Peers:
    def __init__(self, urls: dict[str, str], identity: ServiceIdentity, *, timeout: float) -> None:
        self._peers = {name: Peer(name, url, identity, timeout=timeout) for name, url in urls.items()}

    def __iter__(self) -> Iterator[Peer]:
        return iter(self._peers.values())

    def __getitem__(self, name: str) -> Peer:
        return self._peers[name]

    def __contains__(self, name: object) -> bool:
        return name in self._peers

    async def close(self) -> None:
        for peer in self._peers.values():
            await peer.close()
